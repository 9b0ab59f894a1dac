"""Что клиенты отправляют по сети — и что из этого лекция записала сама.

Каждый клиент сообщает сюда о каждом своём HTTP-запросе: boto3 и s3fs — событиями botocore
(request-created и response-received), minio — через свой пул соединений urllib3, DuckDB —
своим журналом HTTP (lecture/duckdb_log.py), urllib — lecture/plain_http.py. Каждый обмен идёт
в три места:
- строка --trace (lecture/trace.py);
- журнал записанного (lecture/journal.py): каждый объект (ключ, VersionId, ETag, время), бакет
  и составная загрузка, которые лекция создала, — с упреждением: сначала «собираюсь», потом
  «создано». cleanup.py удаляет ровно это;
- составные загрузки этого процесса (lecture/uploads.py).
Заголовок Authorization, подпись и ключи не печатаются никогда.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

from lecture import gaps, journal, trace, uploads
from lecture.trace import SIGNED_QUERY

_seen: dict[str, str] = {}  # адрес эндпоинта → что видно по самим ответам: «нет Range» или «таймаут»


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
            trace.line(client, request.method, request.url, type(exception).__name__, sent, None)
            gaps.seen(request.method, request.url, None, None, error=exception)
            return
        body = response_dict.get("body")  # у GetObject — поток, его не трогаем
        exchange(client, endpoint, request.method, request.url, response_dict["status_code"],
                 response_dict["headers"], parsed_response or {}, sent, "Range" in request.headers, row,
                 body if isinstance(body, bytes) else None)

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
                trace.line("minio", method, url, type(error).__name__, len(body) if body else None, None)
                gaps.seen(method, url, None, None, error=error)
                raise
            parsed, answer = {}, None
            if kw.get("preload_content", True):
                answer = response.data
                parsed = _xml_fields(answer) if answer.lstrip()[:1] == b"<" else {}
            ranged = "Range" in (kw.get("headers") or {})
            exchange("minio", endpoint, method, url, response.status, response.headers, parsed,
                     len(body) if body else None, ranged, row, answer)
            return response

    return ObservedPool(**pool_settings)


def seen(endpoint) -> str | None:
    """Что показали сами ответы эндпоинта: «нет Range» (на запрос части — весь объект) или «таймаут»."""
    return _seen.get(endpoint.url)


def saw_timeout(endpoint) -> None:
    """Запрос длился весь свой таймаут: клиент оборвал его по сроку, даже если статус пришёл."""
    _seen[endpoint.url] = "таймаут"


# ── Один обмен запрос–ответ ─────────────────────────────────────────────────────────────────────

def _upload_seen(endpoint, method, url, status, headers, parsed) -> None:
    """Начало составной загрузки без UploadId в ответе (DuckDB не хранит тела ответов) и UploadId в адресе
    части — при любом статусе: часть могла получить 500, а загрузка на сервере уже есть."""
    bucket, key, query = _address(endpoint, url)
    if method == "POST" and "uploads" in query and 200 <= status < 300 and not parsed.get("UploadId"):
        uploads.started_unnamed(endpoint, bucket, key, _moment(headers.get("date")))
    elif method == "PUT" and "partNumber" in query and query.get("uploadId"):
        uploads.part_seen(endpoint, bucket, key, query["uploadId"])


def exchange(client, endpoint, method, url, status, headers, parsed, sent, ranged=False, row=None,
             body: bytes | None = None) -> None:
    """Один ответ сервера: строка --trace, загрузки, журнал, чем ответил на подресурс (lecture/gaps.py).
    row — запись-намерение этого запроса, body — тело ответа, если клиент его прочитал."""
    headers = {k.lower(): v for k, v in dict(headers).items()}
    gaps.seen(method, url, status, body, headers)
    if ranged and status == 200:  # просили часть объекта (Range), получили весь: 200 вместо 206
        _seen[endpoint.url] = "нет Range"
    received = headers.get("content-length")
    trace.line(client, method, url, status, sent, int(received) if str(received).isdigit() else None)
    _upload_seen(endpoint, method, url, status, headers, parsed)
    if 200 <= status < 300:
        _record(endpoint, method, url, headers, parsed, row)
    elif row is not None:  # сервер отказал: ничего не создано
        journal.forget(row)


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
            uploads.started(endpoint, bucket, key, upload)
            journal.confirm(row, upload=upload)
        elif row is not None:  # UploadId в теле ответа, которого журнал DuckDB не хранит, — узнаем по частям
            journal.forget(row)  # (_upload_seen запомнил начало загрузки)
    elif write:  # объект: PUT, копия или Complete
        if "uploadId" in query:
            uploads.finished(endpoint, bucket, key, query["uploadId"])
        journal.confirm(row, version=version, etag=etag, modified=modified)
    elif method == "DELETE" and not key and not query:
        journal.record(endpoint, "bucket-deleted", bucket)
    elif method == "DELETE" and "uploadId" in query:
        uploads.finished(endpoint, bucket, key, query["uploadId"])
    elif method == "DELETE" and key:
        if headers.get("x-amz-delete-marker") == "true" and not query.get("versionId"):
            journal.record(endpoint, "object", bucket, key, version=version)  # метка удаления — тоже версия
        else:
            journal.record(endpoint, "deleted", bucket, key, version=query.get("versionId"))


def _moment(text) -> str | None:
    """Время из заголовка HTTP (Date, Last-Modified) — ISO 8601 UTC с точностью до секунды."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(str(text)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, IndexError):
        return None


def later(server_time: datetime, recorded: str | None) -> bool:
    """Объект на сервере изменён позже, чем его записала лекция (сравнение до секунды).

    recorded — заголовок Date ответа на запись. Ceph RGW и versitygw ставят его в начале запроса, а
    Last-Modified — в конце записи: у своего же объекта он бывает на секунду позже. Поэтому «позже» —
    это больше чем на секунду."""
    if not recorded:
        return False
    mine = datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return server_time.astimezone(UTC).replace(microsecond=0) > mine + timedelta(seconds=1)


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
