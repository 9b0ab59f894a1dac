"""Что случилось у эндпоинта: одна понятная строка вместо трассировки.

Ошибку различаем по типу исключения каждого из четырёх клиентов (botocore, minio и urllib3,
DuckDB, s3fs и aiohttp), по статусу HTTP и по коду S3 из ответа сервера, но никогда по словам
в тексте сообщения: «connect» встречается и в «HTTPConnectionPool … 503».
Слова сообщения разве что показывают: имя файла, который DuckDB или pyarrow не приняли за Parquet.
Неизвестное исключение — это ошибка в самой лекции: classify() вернёт None, и трассировка
останется видна.
"""

from __future__ import annotations

import re
import socket
import ssl
import sys
import time
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urlsplit
from xml.etree import ElementTree

from lecture import masking

# Объяснения по-русски: {p} — начало имён переменных эндпоинта (FIRST → FIRST_SECRET_KEY),
# {made_by} — кто создаёт бакеты лекции (шаг называет common: здесь о шагах не знают).
EXPLANATIONS = {
    "SignatureDoesNotMatch": "подпись не сошлась: проверьте {p}_SECRET_KEY",
    "InvalidAccessKeyId": "такого ключа доступа нет: проверьте {p}_ACCESS_KEY",
    "InvalidClientTokenId": "такого ключа доступа нет: проверьте {p}_ACCESS_KEY",
    "AccessDenied": "доступ запрещён: проверьте {p}_ACCESS_KEY, {p}_SECRET_KEY и права на бакет",
    "HTTP 403": "доступ запрещён: проверьте {p}_ACCESS_KEY, {p}_SECRET_KEY и права на бакет",
    "NoSuchBucket": "бакета нет: бакеты лекции создаёт {made_by}",
    "NoSuchKey": "объекта нет: его записывает один из предыдущих шагов",
    "HTTP 404": "не найдено: бакет или объект ещё не создан — бакеты лекции создаёт {made_by}",
    "BucketAlreadyExists": "имя бакета занято другим владельцем (в облаке имена глобальны): смените {p}_BUCKET",
    "BucketNotEmpty": "бакет не пуст: S3 удаляет только пустые бакеты",
    "InvalidLocationConstraint": "хранилище не принимает этот регион: проверьте {p}_REGION",
    "IllegalLocationConstraintException": "хранилище не принимает этот регион: проверьте {p}_REGION",
    "XAmzContentSHA256Mismatch": "хранилище не приняло контрольную сумму загрузки",
    "MissingContentLength": "хранилище не приняло загрузку без Content-Length (контрольные суммы boto3)",
    "RequestTimeTooSkewed": "часы компьютера расходятся с часами сервера: синхронизируйте время",
    "часы": "компьютер и сервер расходятся на {minutes} мин (HTTP 403): синхронизируйте время",
    "не поддерживается": "сервер не поддерживает эту операцию S3",
    "сбой сервера": "сервер не справился с запросом, попробуйте позже",
    "не S3": "ответ не похож на S3 (не XML S3): проверьте {p}_ENDPOINT_URL",
    "не разобрать": "ответ не разобрать: пусто, оборвано, сжато или не тот XML (прокси перед S3?)",
    "перенаправление": "задайте этот адрес в {p}_ENDPOINT_URL",
    "не Parquet": "чужой объект в наборе?",
    "нет Range": "сервер не отдаёт часть объекта (HTTP Range): Parquet читают кусками, а приходит весь",
    "таймаут": "сервер не ответил вовремя: провайдер недоступен или перегружен",
    "нет соединения": "не удалось подключиться: сервер не запущен или адрес {p}_ENDPOINT_URL неверен",
    "соединение оборвано": "сервер закрыл соединение посреди ответа",
    "TLS": "сертификат сервера не проверен: для своего CA задайте {p}_CA_BUNDLE",
}
# Исходы без ответа сервера: семейства сетевых ошибок (у ответа S3 — свой код или статус HTTP).
FAMILIES = {"не S3", "TLS", "таймаут", "нет соединения", "соединение оборвано", "DuckDB"}
UNREACHABLE = {"таймаут", "нет соединения"}  # до сервера не достучаться
# С эндпоинтом работать нельзя: нет связи, не подходят ключи, не проверен сертификат. Если так у всех
# эндпоинтов, лекцию продолжать незачем — следующие шаги упадут так же.
UNUSABLE = {"таймаут", "нет соединения", "TLS", "SignatureDoesNotMatch", "InvalidAccessKeyId",
            "InvalidClientTokenId", "AccessDenied", "HTTP 403"}


class CheckFailed(Exception):
    """Проверка шага не прошла: текст уже объясняет, что не так."""


class Lacking(Exception):
    """Сервер принял запрос, но возможности S3 на деле нет (версии не ведёт, теги не хранит)."""


def lacks(condition: bool, behaviour: str) -> None:
    """Сервер ответил «да», но возможности нет: behaviour — что он сделал на самом деле."""
    if condition:
        raise Lacking(behaviour)


class NotS3(Exception):
    """Ответ 200 без XML, который S3 обязан прислать (пустой, оборванный, сжатый): его поднимает крючок
    botocore из common, пока botocore не счёл такой ответ пустым списком или ошибкой 500."""


class Failure(NamedTuple):
    code: str  # код S3 или семейство ошибки — то, что видно в строке ✗
    explanation: str  # шаблон с {p}
    message: str = ""  # текст сервера или библиотеки (его маскируют), когда своего объяснения нет


def _loaded(module: str, *names: str) -> tuple[type, ...]:
    """Классы исключений библиотеки, если шаг её загрузил; не загружена — её ошибок и быть не может."""
    loaded = sys.modules.get(module)
    return tuple(getattr(loaded, name) for name in names if hasattr(loaded, name))


def _chain(error: BaseException) -> list[BaseException]:
    """Исключение, его причины и вложенные причины (urllib3 кладёт их в .reason, aiohttp — в .os_error)."""
    chain, todo = [], [error]
    while todo:
        item = todo.pop(0)
        if item is None or any(item is seen for seen in chain):
            continue
        chain.append(item)
        nested = getattr(item, "reason", None), getattr(item, "os_error", None)
        todo += [item.__cause__, item.__context__, *(n for n in nested if isinstance(n, BaseException))]
    return chain


def _s3_code(body) -> str | None:
    """Код из XML-ответа S3 (<Error><Code>…</Code></Error>); не XML — None."""
    try:
        return ElementTree.fromstring(body).findtext("Code") or None
    except (ElementTree.ParseError, TypeError, ValueError):
        return None


def _answer(error: BaseException) -> tuple[int | None, str | None] | None:
    """(HTTP-статус, код S3), если исключение несёт ответ сервера; иначе None."""
    if isinstance(error, _loaded("botocore.exceptions", "ClientError")):
        code = error.response.get("Error", {}).get("Code") or None
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status, None if code is None or code.isdigit() else code
    if isinstance(error, _loaded("minio.error", "S3Error")):
        return getattr(error.response, "status", None), error.code
    if isinstance(error, _loaded("minio.error", "ServerError")):
        return error.status_code, None
    # DuckDB сам отвергает ответ, которому не поверил (часть по Range не той длины): статуса у него нет.
    if isinstance(error, _loaded("duckdb", "HTTPException")) and hasattr(error, "status_code"):
        return error.status_code, _s3_code(getattr(error, "body", None))
    return None


def _headers(error: BaseException) -> dict[str, str]:
    """Заголовки ответа, имена в нижнем регистре: botocore — в ResponseMetadata, minio — в ответе urllib3,
    DuckDB — в самом исключении."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    else:
        headers = getattr(response, "headers", None) or getattr(error, "headers", None) or {}
    return {str(name).lower(): str(value) for name, value in dict(headers).items()}


def _skew_minutes(headers: dict[str, str]) -> int | None:
    """На сколько минут часы сервера (заголовок Date) расходятся с нашими, если больше, чем терпит
    подпись SigV4 (15 мин). Ответ на HEAD без тела не скажет RequestTimeTooSkewed — скажет Date."""
    try:
        skew = time.time() - parsedate_to_datetime(headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None
    return round(abs(skew) / 60) if abs(skew) > 15 * 60 else None


def _from_answer(status: int | None, code: str | None, error: BaseException) -> Failure:
    headers = _headers(error)
    if status in (301, 302, 307, 308) and (place := urlsplit(headers.get("location", "")).netloc):
        return Failure(f"перенаправление на {place}", EXPLANATIONS["перенаправление"])
    if status == 403 and code in (None, "AccessDenied") and (minutes := _skew_minutes(headers)):
        return Failure("часы", EXPLANATIONS["часы"].format(minutes=minutes))
    if status in (405, 501) or code in ("NotImplemented", "MethodNotAllowed"):
        return Failure(code or f"HTTP {status}", EXPLANATIONS["не поддерживается"])
    if status and status >= 500:  # 5xx называем статусом и кодом
        return Failure(f"HTTP {status}" + (f" {code}" if code else ""), EXPLANATIONS["сбой сервера"])
    if code:
        return Failure(code, EXPLANATIONS.get(code, ""), _message(error))
    return Failure(f"HTTP {status}", EXPLANATIONS.get(f"HTTP {status}", ""), _message(error))


def _family(error: BaseException) -> str | None:
    """Семейство сетевой ошибки по типу исключения."""
    not_s3 = (ElementTree.ParseError, *_loaded("botocore.parsers", "ResponseParserError"),
              *_loaded("minio.error", "InvalidResponseError"))
    tls = (ssl.SSLError, ssl.CertificateError, *_loaded("botocore.exceptions", "SSLError"),
           *_loaded("urllib3.exceptions", "SSLError"), *_loaded("aiohttp", "ClientSSLError"))
    timeout = (TimeoutError, *_loaded("botocore.exceptions", "ConnectTimeoutError", "ReadTimeoutError"),
               *_loaded("urllib3.exceptions", "TimeoutError"), *_loaded("aiohttp", "ServerTimeoutError"))
    refused = (ConnectionRefusedError, socket.gaierror, *_loaded("botocore.exceptions", "EndpointConnectionError"),
               *_loaded("urllib3.exceptions", "NewConnectionError"), *_loaded("aiohttp", "ClientConnectorError"))
    cut = (ConnectionError, EOFError, *_loaded("http.client", "HTTPException"),
           *_loaded("botocore.exceptions", "ConnectionClosedError", "ResponseStreamingError", "IncompleteReadError"),
           *_loaded("urllib3.exceptions", "ProtocolError"),
           # aiohttp (s3fs): «Bad status line» и прочий не-HTTP — как у botocore, обрыв.
           *_loaded("aiohttp", "ServerDisconnectedError", "ClientPayloadError", "ClientConnectionError"),
           *_loaded("aiohttp.http_exceptions", "HttpProcessingError"))
    # Порядок важен: сертификат — не «нет соединения»; отказ в соединении urllib3 — подкласс его таймаута.
    for family, types in (("не S3", not_s3), ("TLS", tls), ("нет соединения", refused), ("таймаут", timeout),
                          ("соединение оборвано", cut)):
        if isinstance(error, types):
            return family
    return None


def classify(error: BaseException, endpoint=None) -> Failure | None:
    """Что случилось; None — исключение не из S3-клиентов (ошибка в лекции, пусть будет трассировка)."""
    status = getattr(error, "_code", 0)  # minio: ответ не XML; 5xx и 501 с HTML-страницей — всё же ответ
    if isinstance(error, _loaded("minio.error", "InvalidResponseError")) and (status >= 500 or status == 405):
        return _from_answer(status, None, error)
    chain = _chain(error)
    for item in chain:  # ответ сервера — самое точное, что есть
        if (answer := _answer(item)) is not None:
            return _from_answer(*answer, item)
    for item in chain:
        if failure := _unreadable(item):
            return failure
    for item in chain:
        if family := _family(item):
            return Failure(family, EXPLANATIONS[family])
    if isinstance(error, _loaded("duckdb", "IOException")) and endpoint is not None:
        return _duckdb_network(error, endpoint)
    # s3fs переводит ответы S3 в исключения файловой системы, когда ответа нет в цепочке.
    if isinstance(error, FileNotFoundError):
        return Failure("HTTP 404", EXPLANATIONS["HTTP 404"])
    if isinstance(error, PermissionError):
        return Failure("HTTP 403", EXPLANATIONS["HTTP 403"])
    return None


def _unreadable(error: BaseException) -> Failure | None:
    """Ответ пришёл, но из него не прочитать то, что обещает S3 (или Parquet)."""
    not_parquet = (*_loaded("duckdb", "InvalidInputException"), *_loaded("pyarrow.lib", "ArrowInvalid"))
    if isinstance(error, not_parquet):  # DuckDB и pyarrow называют файл в сообщении — его и покажем
        named = re.search(r"'(?:s3://)?([^']+)'", str(error))
        name = named.group(1).replace("{", "{{").replace("}", "}}") if named else ""
        return Failure("не Parquet", f"{EXPLANATIONS['не Parquet']} {name}".strip())
    duckdb_refused = isinstance(error, _loaded("duckdb", "HTTPException")) and not hasattr(error, "status_code")
    # minio читает XML ответа модулем minio.xml: нет нужного элемента — ValueError оттуда (а не из проверки
    # аргументов в minio.helpers, та — ошибка лекции).
    minio_xml = isinstance(error, ValueError) and _raised_in(error) == "minio.xml"
    if isinstance(error, NotS3) or duckdb_refused or minio_xml:
        return Failure("не S3", EXPLANATIONS["не разобрать"])
    return None


def _raised_in(error: BaseException) -> str:
    """Модуль, в котором исключение поднято (последний кадр трассировки)."""
    frame, module = error.__traceback__, ""
    while frame is not None:
        module, frame = frame.tb_frame.f_globals.get("__name__", ""), frame.tb_next
    return module


def _duckdb_network(error: BaseException, endpoint) -> Failure:
    """DuckDB сообщает о любой сетевой беде одним типом IOException. Причину узнаём сами: одно
    соединение к эндпоинту (по HTTPS — с тем же доверием, что у клиентов) даёт типизированный ответ:
    отказ, DNS, таймаут, сертификат."""
    import certifi

    try:
        with socket.create_connection((urlsplit(endpoint.url).hostname, endpoint.port), timeout=3) as sock:
            if endpoint.secure:
                context = ssl.create_default_context(cafile=endpoint.ca_bundle or certifi.where())
                context.wrap_socket(sock, server_hostname=urlsplit(endpoint.url).hostname).close()
    except OSError as probe:
        family = _family(probe) or "нет соединения"
        return Failure(family, EXPLANATIONS[family])
    return Failure("DuckDB", "", _message(error))  # сервер доступен: покажем, что сказал DuckDB


def _message(error: BaseException) -> str:
    """Текст сервера: Message из ответа S3 (botocore, minio, DuckDB), иначе текст исключения."""
    response = getattr(error, "response", None)
    server = response.get("Error", {}).get("Message") if isinstance(response, dict) else None
    body = getattr(error, "body", None)
    if server is None and body:
        try:
            server = ElementTree.fromstring(body).findtext("Message")
        except (ElementTree.ParseError, TypeError, ValueError):
            server = None
    text = str(server or getattr(error, "message", None) or error).strip()
    return text.splitlines()[0] if text else ""


def unsupported(error: BaseException) -> str | None:
    """Что сервер не умеет: «не поддерживает (NotImplemented)» на 501 и 405 или поведение из Lacking; иначе None."""
    if isinstance(error, Lacking):
        return str(error)
    failure = classify(error) if isinstance(error, Exception) else None
    if failure and failure.explanation == EXPLANATIONS["не поддерживается"]:
        return f"не поддерживает ({failure.code})"
    if failure and failure.code in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):  # s3rver: PUT ?versioning
        return f"принял запрос за CreateBucket ({failure.code})"  # — это бакет, а не эта возможность
    return None


def explain(error: BaseException, endpoint, expired_after: float | None, seen: str | None = None) -> Failure | None:
    """Исход блока эндпоинта. expired_after — срок блока, если он истёк; seen — что показали сами ответы
    сервера (wire.seen: «нет Range», «таймаут»): оно объясняет ошибки, за которыми нет ответа S3."""
    if expired_after is not None:
        return Failure("таймаут", f"эндпоинт не уложился в {expired_after} с: сервер отвечает слишком медленно")
    if isinstance(error, KeyboardInterrupt):
        return Failure("прервано", "Ctrl-C")
    if isinstance(error, CheckFailed):
        return Failure("", str(error))
    failure = classify(error, endpoint)
    answered = failure is not None and failure.code not in FAMILIES
    if seen and not answered:  # ответ сервера точнее; без него — то, что видно по ответам
        return Failure(seen, EXPLANATIONS[seen])
    return failure


def describe(failure: Failure, endpoint, made_by: str = "шаг, создающий бакеты") -> str:
    """«код — объяснение» для строки ✗; текст сервера — только если своего объяснения нет, и с маской ключей."""
    text = failure.explanation.format(p=endpoint.prefix, made_by=made_by)
    text = text or masking.mask(failure.message, endpoint.secret_key, endpoint.access_key) or "сервер молчит"
    return f"{failure.code} — {text}" if failure.code else text
