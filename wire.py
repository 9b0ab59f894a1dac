"""Что клиенты отправляют по сети — и что из этого лекция записала сама.

Каждый клиент сообщает сюда о каждом своём HTTP-запросе: boto3 и s3fs — событиями botocore
(request-created и response-received), minio — через свой пул соединений urllib3, DuckDB —
своим журналом HTTP (duckdb_logs). Отсюда три вещи:
- --trace: одна строка на запрос — клиент, метод, путь, статус, байты. S3 — это просто HTTP;
- журнал .s3-lecture/journal.jsonl в текущем каталоге: каждый объект (ключ, VersionId, ETag),
  бакет и составная загрузка, которые лекция создала. cleanup.py удаляет ровно это;
- незавершённые составные загрузки этого процесса (по UploadId): после сбоя и Ctrl-C лекция
  отменяет только их, а не всё, что похоже на её ключи.
Заголовок Authorization, подпись и ключи не печатаются никогда.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

from words import human_size

JOURNAL = Path(".s3-lecture") / "journal.jsonl"
SIGNED_QUERY = ("X-Amz-", "Signature", "AWSAccessKeyId", "Expires")  # подпись ссылки: не печатаем
LONG_IDS = {"uploadId", "versionId", "continuation-token"}  # случайные длинные: в трассировке — начало

_trace = None  # функция печати строки трассировки или None
_duckdb: list[list] = []  # [соединение, эндпоинт, сколько строк журнала DuckDB уже разобрано]
_own_uploads: dict[str, tuple[str, str, str]] = {}  # UploadId → (аккаунт, как в журнале, бакет, ключ)
_seen: dict[str, str] = {}  # адрес эндпоинта → что видно по самим ответам: «нет Range» или «таймаут»


def trace_if_asked(argv: list[str], printer) -> bool:
    """--trace среди аргументов: убрать его и печатать запросы функцией printer."""
    global _trace
    if "--trace" not in argv:
        return False
    argv.remove("--trace")
    _trace = printer
    return True


# ── Крючки клиентов ─────────────────────────────────────────────────────────────────────────────

def observe_botocore(events, endpoint, client: str) -> None:
    """boto3 (client.meta.events) и s3fs (сессия aiobotocore): запрос и ответ — события botocore."""
    def remember(request, **_):
        request.context["wire"] = request

    def received(context, response_dict=None, parsed_response=None, exception=None, **_):
        request = context.get("wire")
        if request is None:
            return
        sent = request.headers.get("Content-Length") or _length(request.body)
        if response_dict is None:  # ответа нет: таймаут, отказ, обрыв
            _print(client, request.method, request.url, type(exception).__name__, sent, None)
            return
        _exchange(client, endpoint, request.method, request.url, response_dict["status_code"],
                  response_dict["headers"], parsed_response or {}, sent, "Range" in request.headers)

    events.register("request-created.s3", remember, unique_id=f"wire-request-{client}")
    events.register("response-received.s3", received, unique_id=f"wire-response-{client}")


def _length(body) -> int | None:
    """Размер тела запроса botocore: bytes, BytesIO (put_object) или кусок файла (upload_file)."""
    if hasattr(body, "getbuffer"):
        return len(body.getbuffer())
    return len(body) if hasattr(body, "__len__") else None


def minio_pool(endpoint, **pool_settings):
    """Пул соединений urllib3 для minio, который видит каждый запрос и ответ."""
    import urllib3

    class ObservedPool(urllib3.PoolManager):
        # redirect=False: за 301/307 minio не идёт (urllib3 пошёл бы по Location на другой адрес с той же
        # подписью) — ответ 3xx становится ошибкой, и failures называет адрес из Location.
        def urlopen(self, method, url, redirect=False, **kw):
            body = kw.get("body")
            try:
                response = super().urlopen(method, url, redirect=redirect, **kw)
            except Exception as error:
                _print("minio", method, url, type(error).__name__, len(body) if body else None, None)
                raise
            parsed = {}
            if kw.get("preload_content", True) and response.data[:5] == b"<?xml":
                parsed = _xml_fields(response.data)
            ranged = "Range" in (kw.get("headers") or {})
            _exchange("minio", endpoint, method, url, response.status, response.headers, parsed,
                      len(body) if body else None, ranged)
            return response

    return ObservedPool(**pool_settings)


def observe_plain(endpoint, method, url, status, headers, sent) -> None:
    """Запрос обычным HTTP-клиентом (urllib) по ссылке: записанное по ссылке — тоже записано лекцией."""
    _exchange("urllib", endpoint, method, url, status, headers, {}, sent)


def plain_http(method: str, url: str, endpoint, body: bytes | None = None, headers: dict | None = None,
               timeout: float = 4) -> tuple[int, bytes]:
    """Обычный HTTP-запрос без S3-библиотеки и без ключей (urllib); свой CA — из <ИМЯ>_CA_BUNDLE."""
    import ssl
    import urllib.error
    import urllib.request

    # Без Content-Type urllib объявит тело формой (x-www-form-urlencoded), а некоторые серверы её разбирают.
    kind = {"Content-Type": "application/octet-stream"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers={**kind, **(headers or {})})
    context = ssl.create_default_context(cafile=endpoint.ca_bundle)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # 403, 404 — тоже ответ сервера, его и показываем
        status, headers, data = error.code, error.headers, error.read()
    observe_plain(endpoint, method, url, status, headers, len(body) if body else None)
    return status, data



def observe_duckdb(con, endpoint) -> None:
    """DuckDB пишет каждый свой HTTP-запрос в журнал duckdb_logs; разбираем его в flush()."""
    con.execute("CALL enable_logging('HTTP')")
    _duckdb.append([con, endpoint, 0])


def duckdb_connections() -> list:
    return [con for con, _, _ in _duckdb]


def flush(stop_on_interrupt: bool = True) -> None:
    """Новые запросы DuckDB: строки трассировки и записи журнала (DuckDB сам событий не шлёт).
    Ctrl-C во время этого запроса DuckDB превращает в обычный RuntimeError — его поднимаем снова
    как KeyboardInterrupt (stop_on_interrupt), иначе шаг шёл бы дальше, будто ничего не было."""
    import deadline

    for entry in _duckdb:
        con, endpoint, seen = entry
        try:
            rows = con.execute(f"""
                SELECT request.type, request.url, response.status, response.headers,
                       request.request_body_length, request.headers['Range'] IS NOT NULL,
                       request.duration_ms >= 900 * current_setting('http_timeout')::BIGINT
                FROM duckdb_logs_parsed('HTTP') ORDER BY timestamp OFFSET {int(seen)}""").fetchall()
        except Exception:  # noqa: BLE001 — соединение уже закрыто: читать нечего
            if stop_on_interrupt and deadline.interrupted():
                raise KeyboardInterrupt from None
            continue
        entry[2] += len(rows)
        for method, url, status, headers, sent, ranged, waited in rows:
            if waited:  # запрос длился весь http_timeout: curl оборвал его по сроку, даже если статус пришёл
                _seen[endpoint.url] = "таймаут"
            code = str(status).rsplit("_", 1)[-1]  # OK_200 → 200; без ответа — INVALID
            if not code.isdigit():
                _print("duckdb", method, url, "нет ответа", sent, None)
                continue
            _exchange("duckdb", endpoint, method, url, int(code), headers or {}, {}, sent, bool(ranged))


def forget_duckdb() -> None:
    _duckdb.clear()


def seen(endpoint) -> str | None:
    """Что показали сами ответы эндпоинта: «нет Range» (на запрос части — весь объект) или «таймаут»."""
    return _seen.get(endpoint.url)


# ── Один обмен запрос–ответ ─────────────────────────────────────────────────────────────────────

def _exchange(client, endpoint, method, url, status, headers, parsed, sent, ranged=False) -> None:
    headers = {k.lower(): v for k, v in dict(headers).items()}
    if ranged and status == 200:  # просили часть объекта (Range), получили весь: 200 вместо 206
        _seen[endpoint.url] = "нет Range"
    received = headers.get("content-length")
    _print(client, method, url, status, sent, int(received) if str(received).isdigit() else None)
    if 200 <= status < 300:
        _record(endpoint, method, url, headers, parsed)


def _print(client, method, url, status, sent, received) -> None:
    if _trace is None:
        return
    parts = urlsplit(url)
    query = [f"{k}={v[:8] + '…' if k in LONG_IDS and len(v) > 12 else v}" if v else k
             for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith(SIGNED_QUERY)]
    path = unquote(parts.path) + ("?" + "&".join(query) if query else "")
    received = None if method == "HEAD" else received  # у HEAD тела нет: Content-Length — размер объекта
    sizes = "".join(f" {arrow}{human_size(int(n))}" for arrow, n in (("↑", sent), ("↓", received)) if n)
    _trace(f"{client:<6} {method:<6} {path} → {status}{sizes}")


def _record(endpoint, method, url, headers, parsed) -> None:
    """В журнал — только то, что создала лекция: объект, версия, бакет, начатая загрузка."""
    bucket, key, query = _address(endpoint, url)
    version = headers.get("x-amz-version-id") or parsed.get("VersionId")
    if version == "null":  # в бакете без версионирования «версия» одна
        version = None
    etag = headers.get("etag") or parsed.get("ETag") or parsed.get("CopyObjectResult", {}).get("ETag")
    entry = None
    if method == "PUT" and not key and not query:
        entry = {"op": "bucket"}
    elif method == "DELETE" and not key and not query:
        entry = {"op": "bucket-deleted"}
    elif method == "POST" and "uploads" in query:
        upload = parsed.get("UploadId")
        _own_uploads[upload] = (_account(endpoint), bucket, key)
        entry = {"op": "upload", "upload": upload, "pid": os.getpid()}
    elif method == "PUT" and key and "partNumber" in query and query["uploadId"] not in _own_uploads:
        _own_uploads[query["uploadId"]] = (_account(endpoint), bucket, key)  # DuckDB: UploadId виден по частям
        entry = {"op": "upload", "upload": query["uploadId"], "pid": os.getpid()}
    elif method in ("POST", "DELETE") and "uploadId" in query:
        _own_uploads.pop(query["uploadId"], None)
        _append(endpoint, {"op": "upload-done", "bucket": bucket, "key": key, "upload": query["uploadId"]})
        if method == "POST":  # Complete: объект появился целиком
            entry = {"op": "object", "version": version, "etag": etag}
    elif method == "PUT" and key and not (query.keys() - {"x-id"}):  # PUT и CopyObject; не ?tagging и т. п.
        entry = {"op": "object", "version": version, "etag": etag}
    elif method == "DELETE" and key:
        marker = headers.get("x-amz-delete-marker") == "true"
        entry = {"op": "object", "version": version, "etag": None} if marker else \
            {"op": "deleted", "version": query.get("versionId")}
    if entry:
        _append(endpoint, {**entry, "bucket": bucket, "key": key})


def _address(endpoint, url) -> tuple[str, str, dict]:
    """Бакет, ключ и параметры запроса из адреса: бакет в пути (path) или в имени хоста (vhost)."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith(SIGNED_QUERY)}
    if parts.hostname and parts.hostname != urlsplit(endpoint.url).hostname:
        return parts.hostname.split(".")[0], path, query
    bucket, _, key = path.partition("/")
    return bucket, key, query


def _xml_fields(body: bytes) -> dict:
    """UploadId, ETag, VersionId из XML-ответа minio (без пространства имён S3)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    return {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in root}


# ── Журнал ──────────────────────────────────────────────────────────────────────────────────────

def _account(endpoint) -> str:
    """Чей это S3: адрес и отпечаток ключа доступа (сам ключ в журнал не пишется). У одного сервера
    бывает несколько аккаунтов — объекты одного не чужие ли другому, журнал различает."""
    return f"{endpoint.url} {hashlib.sha256(endpoint.access_key.encode()).hexdigest()[:12]}"


def _append(endpoint, entry: dict) -> None:
    JOURNAL.parent.mkdir(exist_ok=True)
    line = json.dumps({"account": _account(endpoint), "time": round(time.time(), 3), **entry}, ensure_ascii=False)
    with JOURNAL.open("a", encoding="utf-8") as journal:  # одна короткая строка — одна запись
        journal.write(line + "\n")


def journal(endpoint) -> list[dict]:
    """Всё, что лекция записала на этом эндпоинте, по порядку."""
    if not JOURNAL.is_file():
        return []
    entries = [json.loads(line) for line in JOURNAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [entry for entry in entries if entry.get("account") == _account(endpoint)]


def _unfinished(endpoint) -> dict[str, dict]:
    """Записи журнала о загрузках, которые лекция начала и не завершила и не отменила: UploadId → запись."""
    started: dict[str, dict] = {}
    for entry in journal(endpoint):
        if entry["op"] == "upload":
            started[entry["upload"]] = entry
        elif entry["op"] == "upload-done":
            started.pop(entry["upload"], None)
    return started


def unfinished_uploads(endpoint) -> list[tuple[str, str, str]]:
    """Незавершённые загрузки лекции: (бакет, ключ, UploadId)."""
    return [(e["bucket"], e["key"], upload) for upload, e in _unfinished(endpoint).items()]


def abandoned_uploads(endpoint) -> list[tuple[str, str, str]]:
    """Незавершённые загрузки прошлых запусков: процесс, который их начал, уже не работает."""
    return [(e["bucket"], e["key"], upload) for upload, e in _unfinished(endpoint).items()
            if upload not in _own_uploads and not _alive(e.get("pid"))]


def abort_uploads(endpoint, uploads: list[tuple[str, str, str]], s3, seconds: float) -> list[tuple[str, str]]:
    """Отменяет ровно эти загрузки (бакет, ключ, UploadId) клиентом s3 за seconds секунд.
    Сервер может быть уже недоступен: тогда загрузки остаются в журнале до следующего запуска."""
    import deadline

    aborted = []
    with deadline.limit(seconds, endpoint.port, alarm=False):
        for bucket, key, upload in uploads:
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
                aborted.append((bucket, key))
            except (Exception, KeyboardInterrupt) as error:  # уборка после сбоя не порождает второй сбой
                answer = getattr(error, "response", None)
                if isinstance(answer, dict) and answer.get("Error", {}).get("Code") == "NoSuchUpload":
                    upload_done(endpoint, bucket, key, upload)  # её уже нет: завершена или отменена
    return aborted


def upload_done(endpoint, bucket: str, key: str, upload: str) -> None:
    """Загрузки уже нет на сервере (NoSuchUpload): в журнале она больше не числится незавершённой."""
    _own_uploads.pop(upload, None)
    _append(endpoint, {"op": "upload-done", "bucket": bucket, "key": key, "upload": upload})


def own_uploads(endpoint) -> list[tuple[str, str, str]]:
    """Незавершённые загрузки, начатые этим процессом."""
    account = _account(endpoint)
    return [(bucket, key, upload) for upload, (owner, bucket, key) in _own_uploads.items() if owner == account]


def _alive(pid) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
