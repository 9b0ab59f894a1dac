"""Сервер выполнил другую операцию: что он сделал вместо запрошенной возможности S3.

Подресурс — часть адреса после «?»: ?policy, ?tagging, ?versioning. Сервер, который его не знает,
часто не отвечает 501, а выполняет запрос без него: GET ?policy бакета — список объектов
(ListObjects), GET ?tagging объекта — сам объект, PUT ?policy — создание бакета (BucketAlreadyExists).
Клиент видит «не тот XML» и честно говорит «не S3». Крючки клиентов (lecture/wire.py) показывают
сюда каждый ответ; common.feature спрашивает behaviour(), и вместо ✗ «не S3 … проверьте URL»
получается строка «!» о том, что сделал сервер.

Ещё одно наблюдение: обрыв соединения посреди возможности, когда тот же сервер в той же возможности
уже отвечал, — это сбой сервера на этом запросе (gofakes3 падает на чтении после удаления версии),
а не пропавшая сеть.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from lecture import failures

SUBRESOURCES = ("policy", "tagging", "versioning")
# Что сервер обязан прислать на GET подресурса: корень XML (политика — JSON, корня нет).
EXPECTED_ROOT = {"tagging": "Tagging", "versioning": "VersioningConfiguration"}
# Чем сервер ответил вместо этого: корень XML → название операции S3.
ANSWERED_AS = {"ListBucketResult": "списком объектов (ListObjects)",
               "ListAllMyBucketsResult": "списком бакетов (ListBuckets)"}
CREATE_BUCKET = ("BucketAlreadyExists", "BucketAlreadyOwnedByYou")
# Операции botocore с подресурсом: их ответ разбирается раньше, чем его видит крючок wire.py.
OPERATIONS = {"GetObjectTagging": ("tagging", True), "GetBucketTagging": ("tagging", False),
              "GetBucketPolicy": ("policy", False), "GetBucketVersioning": ("versioning", False)}


class _State:
    def __init__(self) -> None:
        self.behaviour: str | None = None  # что сервер сделал вместо подресурса
        self.answers = 0  # ответов с начала возможности
        self.cut: str | None = None  # запрос, на котором сервер оборвал соединение


_state = _State()


def start() -> None:
    """Начало возможности (common.feature): прежние наблюдения к ней не относятся."""
    global _state
    _state = _State()


def instead() -> str | None:
    """Что сервер выполнил вместо подресурса (ответ пришёл, но не тот), или None."""
    return _state.behaviour


def behaviour() -> str | None:
    """Что сервер сделал не так в этой возможности — для строки «!», или None: другая операция
    вместо подресурса или обрыв на запросе, когда сервер в той же возможности уже отвечал."""
    if _state.behaviour:
        return _state.behaviour
    if _state.cut and _state.answers:
        return f"оборвал соединение на {_state.cut}, хотя до того отвечал (сбой сервера на этом запросе)"
    return None


def seen(method: str, url: str, status: int | None, body: bytes | None, headers: dict | None = None,
         error: BaseException | None = None) -> None:
    """Ответ сервера или error — ответа нет. body — тело, если клиент его прочитал."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path.strip("/")
    subresource = next((name for name in SUBRESOURCES if name in query), None)
    asked = f"{method} ?{subresource}" if subresource else f"{method} {'объекта' if '/' in path else 'бакета'}"
    if status is None:
        failure = failures.classify(error) if isinstance(error, Exception) else None
        if failure is not None and failure.code == "соединение оборвано":  # не таймаут и не отказ
            _state.cut = _state.cut or asked
        return
    _state.answers += 1
    if subresource and _state.behaviour is None:
        _state.behaviour = _what_instead(method, subresource, status, body or b"", _is_object(path, headers))


def parsing(operation: str, status: int, body: bytes, headers: dict) -> None:
    """Ответ botocore перед разбором (lecture/answers.py): если его не разобрать, до wire.py он не дойдёт."""
    if operation in OPERATIONS and _state.behaviour is None:
        subresource, on_object = OPERATIONS[operation]
        _state.behaviour = _what_instead("GET", subresource, status, body or b"",
                                         on_object and _is_object("bucket/key", headers))


def _is_object(path: str, headers: dict | None) -> bool:
    """Ответ — сам объект: запрос к ключу, и у ответа ETag и Last-Modified, как у GetObject
    (страница прокси их не шлёт)."""
    names = {name.lower() for name in (headers or {})}
    return "/" in path and {"etag", "last-modified"} <= names


def _what_instead(method: str, subresource: str, status: int, body: bytes, on_object: bool) -> str | None:
    root = _root(body)
    code = root.findtext("Code") if root is not None and root.tag == "Error" else None
    if code in CREATE_BUCKET and method == "PUT":
        return f"принял PUT ?{subresource} за создание бакета ({code})"
    if status >= 500 and status != 501:  # 501 — честное «не умею» (failures.unsupported)
        return f"на {method} ?{subresource} ответил HTTP {status}"
    if method != "GET" or status != 200:
        return None
    if subresource == "policy" and body.lstrip()[:1] == b"{":
        return None
    if subresource != "policy" and root is not None and root.tag.rsplit("}", 1)[-1] == EXPECTED_ROOT[subresource]:
        return None
    answered = _described(root, on_object)
    return f"на GET ?{subresource} ответил {answered}" if answered else None


def _root(body: bytes):
    if body.lstrip()[:1] != b"<":
        return None
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None


def _described(root, on_object: bool) -> str | None:
    """Какой операцией S3 сервер ответил; None — ответ не похож на S3 (страница прокси): «не S3»."""
    if root is None:
        return "самим объектом (GetObject)" if on_object else None
    return ANSWERED_AS.get(root.tag.rsplit("}", 1)[-1])
