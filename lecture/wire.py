"""Что клиенты отправляют по сети — и что из этого лекция записала сама.

Каждый клиент сообщает сюда о каждом своём HTTP-запросе: boto3 и s3fs — событиями botocore
(request-created и response-received), minio — через свой пул соединений urllib3, DuckDB —
своим журналом HTTP (duckdb_logs). Отсюда три вещи:
- --trace: одна строка на запрос — клиент, метод, путь, статус, байты. S3 — это просто HTTP;
- журнал записанного (lecture/journal.py): каждый объект (ключ, VersionId, ETag, время), бакет
  и составная загрузка, которые лекция создала, — с упреждением: сначала «собираюсь», потом
  «создано». cleanup.py удаляет ровно это;
- незавершённые составные загрузки этого процесса (по UploadId): после сбоя и Ctrl-C лекция
  отменяет только их, а не всё, что похоже на её ключи.
Заголовок Authorization, подпись и ключи не печатаются никогда.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

from lecture import journal
from words import human_size

SIGNED_QUERY = ("X-Amz-", "Signature", "AWSAccessKeyId", "Expires")  # подпись ссылки: не печатаем
LONG_IDS = {"uploadId", "versionId", "continuation-token"}  # случайные длинные: в трассировке — начало

_trace = None  # функция печати строки трассировки или None
_duckdb: list[list] = []  # [соединение, эндпоинт, сколько строк журнала DuckDB уже разобрано]
_own_uploads: dict[str, Upload] = {}  # UploadId (или «?строка» журнала, пока не известен) → загрузка
_duckdb_pending: dict[tuple, str | None] = {}  # (эндпоинт, бакет, ключ) → время начала загрузки DuckDB
_seen: dict[str, str] = {}  # адрес эндпоинта → что видно по самим ответам: «нет Range» или «таймаут»


class Upload(NamedTuple):
    """Составная загрузка лекции. upload=None — UploadId не известен (DuckDB его не сообщает):
    его находит ListMultipartUploads по точному ключу и времени начала around (часы сервера)."""
    bucket: str
    key: str
    upload: str | None
    owner: tuple[str, str] = ("", "")  # (адрес, аккаунт) — как в журнале
    around: str | None = None
    row: int | None = None


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
        # До отправки: что запрос создаст — в журнал; не записалось — исключение, и запроса не будет.
        request.context["wire"] = request, intend(endpoint, request.method, request.url)

    def received(context, response_dict=None, parsed_response=None, exception=None, **_):
        request, row = context.get("wire") or (None, None)
        if request is None:
            return
        sent = request.headers.get("Content-Length") or _length(request.body)
        if response_dict is None:  # ответа нет: таймаут, отказ, обрыв — создано ли, неизвестно
            _print(client, request.method, request.url, type(exception).__name__, sent, None)
            return
        _exchange(client, endpoint, request.method, request.url, response_dict["status_code"],
                  response_dict["headers"], parsed_response or {}, sent, "Range" in request.headers, row)

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
            row = intend(endpoint, method, url)
            try:
                response = super().urlopen(method, url, redirect=redirect, **kw)
            except Exception as error:
                _print("minio", method, url, type(error).__name__, len(body) if body else None, None)
                raise
            parsed = {}
            if kw.get("preload_content", True) and response.data.lstrip()[:1] == b"<":
                parsed = _xml_fields(response.data)
            ranged = "Range" in (kw.get("headers") or {})
            _exchange("minio", endpoint, method, url, response.status, response.headers, parsed,
                      len(body) if body else None, ranged, row)
            return response

    return ObservedPool(**pool_settings)




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
    row = intend(endpoint, method, url)  # записанное по ссылке — тоже записано лекцией
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # 403, 404 — тоже ответ сервера, его и показываем
        status, headers, data = error.code, error.headers, error.read()
    _exchange("urllib", endpoint, method, url, status, headers, {}, len(body) if body else None, row=row)
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
    """Конец блока: соединения DuckDB забыты; загрузки, UploadId которых клиент так и не показал, —
    в журнал без UploadId: их найдёт ListMultipartUploads по ключу и времени."""
    _duckdb.clear()
    for (endpoint, bucket, key), around in list(_duckdb_pending.items()):
        row = journal.intend(endpoint, "upload", bucket, key)
        journal.confirm(row, modified=around)
        _own_uploads[f"?{row}"] = Upload(bucket, key, None, _owner(endpoint), around, row)
    _duckdb_pending.clear()


def _upload_seen(endpoint, method, url, status, headers, parsed) -> None:
    """Начало составной загрузки без UploadId в ответе (DuckDB не хранит тела ответов) и UploadId в адресе
    части — при любом статусе: часть могла получить 500, а загрузка на сервере уже есть."""
    bucket, key, query = _address(endpoint, url)
    if method == "POST" and "uploads" in query and 200 <= status < 300 and not parsed.get("UploadId"):
        _duckdb_pending[(endpoint, bucket, key)] = _moment(headers.get("date"))
    elif method == "PUT" and "partNumber" in query and query.get("uploadId"):
        _duckdb_pending.pop((endpoint, bucket, key), None)
        upload = query["uploadId"]
        if upload not in _own_uploads:
            _own_uploads[upload] = Upload(bucket, key, upload, _owner(endpoint))
            journal.record(endpoint, "upload", bucket, key, upload=upload)


def seen(endpoint) -> str | None:
    """Что показали сами ответы эндпоинта: «нет Range» (на запрос части — весь объект) или «таймаут»."""
    return _seen.get(endpoint.url)


# ── Один обмен запрос–ответ ─────────────────────────────────────────────────────────────────────

def _exchange(client, endpoint, method, url, status, headers, parsed, sent, ranged=False, row=None) -> None:
    headers = {k.lower(): v for k, v in dict(headers).items()}
    if ranged and status == 200:  # просили часть объекта (Range), получили весь: 200 вместо 206
        _seen[endpoint.url] = "нет Range"
    received = headers.get("content-length")
    _print(client, method, url, status, sent, int(received) if str(received).isdigit() else None)
    _upload_seen(endpoint, method, url, status, headers, parsed)
    if 200 <= status < 300:
        _record(endpoint, method, url, headers, parsed, row)
    elif row is not None:  # сервер отказал: ничего не создано
        journal.forget(row)


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


def _write(method: str, url: str, endpoint) -> tuple[str, str, str] | None:
    """Что создаст запрос: ("bucket" | "object" | "upload", бакет, ключ) или None (чтение, удаление, часть)."""
    bucket, key, query = _address(endpoint, url)
    if method == "PUT" and not key and not query:
        return "bucket", bucket, ""
    if method == "POST" and "uploads" in query:
        return "upload", bucket, key
    if method == "POST" and "uploadId" in query:  # Complete: объект появится целиком
        return "object", bucket, key
    if method == "PUT" and key and not (query.keys() - {"x-id"}):  # PUT и CopyObject; не ?tagging и т. п.
        return "object", bucket, key
    return None


def intend(endpoint, method: str, url: str) -> int | None:
    """Запись «собираюсь создать» до запроса; None — запрос ничего не создаёт."""
    write = _write(method, url, endpoint)
    return journal.intend(endpoint, *write) if write else None


def _record(endpoint, method, url, headers, parsed, row=None) -> None:
    """В журнал — только то, что создала лекция: объект, версия, бакет, начатая загрузка.
    row — запись-намерение этого запроса; у DuckDB её нет (о его запросах узнаём после)."""
    bucket, key, query = _address(endpoint, url)
    write = _write(method, url, endpoint)
    unnamed = write is not None and write[0] == "upload" and not parsed.get("UploadId")  # DuckDB
    if write and row is None and not unnamed:
        row = journal.intend(endpoint, *write)
    version = headers.get("x-amz-version-id") or parsed.get("VersionId")
    if version == "null":  # в бакете без версионирования «версия» одна
        version = None
    etag = headers.get("etag") or parsed.get("ETag") or parsed.get("CopyObjectResult", {}).get("ETag")
    # Не позже этого момента объект записан (часы сервера): объект, переписанный позже, — уже не лекции.
    modified = _moment(headers.get("last-modified")) or _moment(headers.get("date"))
    if write and write[0] == "bucket":
        journal.confirm(row)
    elif write and write[0] == "upload":
        upload = parsed.get("UploadId")
        if upload:
            _own_uploads[upload] = Upload(bucket, key, upload, _owner(endpoint))
            journal.confirm(row, upload=upload)
        elif row is not None:  # UploadId в теле ответа, которого журнал DuckDB не хранит, — узнаем по частям
            journal.forget(row)  # (_upload_seen запомнил начало загрузки)
    elif write:  # объект: PUT, копия или Complete
        if "uploadId" in query:
            _upload_finished(endpoint, bucket, key, query["uploadId"])
        journal.confirm(row, version=version, etag=etag, modified=modified)
    elif method == "DELETE" and not key and not query:
        journal.record(endpoint, "bucket-deleted", bucket)
    elif method == "DELETE" and "uploadId" in query:
        _upload_finished(endpoint, bucket, key, query["uploadId"])
    elif method == "DELETE" and key:
        if headers.get("x-amz-delete-marker") == "true" and not query.get("versionId"):
            journal.record(endpoint, "object", bucket, key, version=version)  # метка удаления — тоже версия
        else:
            journal.record(endpoint, "deleted", bucket, key, version=query.get("versionId"))


def _upload_finished(endpoint, bucket: str, key: str, upload: str) -> None:
    _own_uploads.pop(upload, None)
    journal.record(endpoint, "upload-done", bucket, key, upload=upload)


def _moment(text) -> str | None:
    """Время из заголовка HTTP (Date, Last-Modified) — ISO 8601 UTC с точностью до секунды."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(str(text)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, IndexError):
        return None


def later(server_time: datetime, recorded: str | None) -> bool:
    """Объект на сервере изменён позже, чем его записала лекция (сравнение до секунды)."""
    if not recorded:
        return False
    mine = datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return server_time.astimezone(UTC).replace(microsecond=0) > mine


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
    except (ElementTree.ParseError, ValueError):
        return {}
    return {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in root}


# ── Составные загрузки лекции ───────────────────────────────────────────────────────────────────

def _owner(endpoint) -> tuple[str, str]:
    return journal.address(endpoint.url), journal.account(endpoint.access_key)


def unfinished_uploads(endpoint) -> list[Upload]:
    """Загрузки, которые лекция начала и не завершила и не отменила (по журналу)."""
    started: dict[str, Upload] = {}
    for entry in journal.entries(endpoint):
        if entry["op"] == "upload" and entry["state"] == "done":
            started[entry["upload"] or f"?{entry['id']}"] = Upload(
                entry["bucket"], entry["key"], entry["upload"], _owner(endpoint), entry["modified"], entry["id"])
        elif entry["op"] == "upload-done":
            started.pop(entry["upload"], None)
    return list(started.values())


def abandoned_uploads(endpoint) -> list[Upload]:
    """Незавершённые загрузки прошлых запусков: процесс, который их начал, уже не работает."""
    alive = {entry["id"]: _alive(entry["pid"]) for entry in journal.entries(endpoint) if entry["op"] == "upload"}
    return [upload for upload in unfinished_uploads(endpoint)
            if (upload.upload or f"?{upload.row}") not in _own_uploads and not alive.get(upload.row)]


def own_uploads(endpoint) -> list[Upload]:
    """Незавершённые загрузки, начатые этим процессом."""
    return [upload for upload in _own_uploads.values() if upload.owner == _owner(endpoint)]


def find_upload(s3, upload: Upload) -> list[str]:
    """UploadId загрузки, которого DuckDB не сообщил: начатая на этом же ключе в ту же секунду (±2 с по
    часам сервера). Ключ — точный: чужие загрузки с другим ключом не трогаются. Сервер, у которого время
    начала загрузок не настоящее (moto пишет 2010 год), — совпадения ключа достаточно."""
    if upload.upload:
        return [upload.upload]
    if not upload.around:
        return []
    around = datetime.strptime(upload.around, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    answer = s3.list_multipart_uploads(Bucket=upload.bucket, Prefix=upload.key)
    found = []
    for item in answer.get("Uploads", []):
        apart = abs((item["Initiated"] - around).total_seconds())
        if item["Key"] == upload.key and (apart <= 2 or apart > 86_400):
            found.append(item["UploadId"])
    return found


def abort_uploads(endpoint, uploads: list[Upload], s3, seconds: float) -> list[Upload]:
    """Отменяет ровно эти загрузки клиентом s3 за seconds секунд (UploadId не известен — сначала находит).
    Сервер может быть уже недоступен: тогда загрузки остаются в журнале до следующего запуска."""
    import deadline

    aborted = []
    with deadline.limit(seconds, endpoint.port, alarm=False):
        for upload in uploads:
            try:
                found = find_upload(s3, upload)
                for upload_id in found:
                    s3.abort_multipart_upload(Bucket=upload.bucket, Key=upload.key, UploadId=upload_id)
                    upload_done(endpoint, upload, upload_id)
                if not upload.upload and not found:  # такой загрузки на сервере нет: отменять нечего
                    upload_done(endpoint, upload, None)
                if found:
                    aborted.append(upload)
            except (Exception, KeyboardInterrupt) as error:  # уборка после сбоя не порождает второй сбой
                answer = getattr(error, "response", None)
                if isinstance(answer, dict) and answer.get("Error", {}).get("Code") == "NoSuchUpload":
                    upload_done(endpoint, upload, upload.upload)  # её уже нет: завершена или отменена
    return aborted


def upload_done(endpoint, upload: Upload, upload_id: str | None) -> None:
    """Загрузки больше нет на сервере: в журнале она не числится незавершённой."""
    _own_uploads.pop(upload.upload or f"?{upload.row}", None)
    if upload_id is None:
        journal.forget(upload.row)  # загрузка без UploadId не нашлась: её и не было
        return
    if not upload.upload and upload.row is not None:
        journal.set_upload(upload.row, upload_id)
    journal.record(endpoint, "upload-done", upload.bucket, upload.key, upload=upload_id)


def _alive(pid) -> bool:
    if not pid:
        return False
    if sys.platform == "win32":  # там os.kill(pid, 0) не проверка, а Ctrl-C процессу: считаем живым
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
