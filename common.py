"""Общее для всех шагов: эндпоинты, клиенты, одна строка на ошибку, вывод.

Эндпоинты (S3_ENDPOINTS и <ИМЯ>_ENDPOINT_URL, _ACCESS_KEY, _SECRET_KEY, _BUCKET, _REGION…)
читает settings.py из окружения и .env. Из одной записи Endpoint строятся все четыре клиента —
boto3, minio, DuckDB и s3fs (pandas), поэтому настройки совместимости заданы здесь один раз.
Рядом: failures.py (что за ошибка), wire.py (каждый HTTP-запрос: --trace и журнал записанного),
deadline.py (сроки и Ctrl-C). Шаги импортируют common первым: он ставит обработчик Ctrl-C
раньше тяжёлых библиотек.
"""

import deadline  # первым: Ctrl-C во время импорта библиотек — тоже одна строка

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from rich.text import Text

import failures
import settings
import wire

# Вывод и слова для зала живут рядом, шаги зовут их через common: common.table, common.plural…
from screen import check, compare, console, fail, header, note, ok, pairs, progress, styled, table, user_metadata, warn  # noqa: F401
from words import count, human_size, moment, number, plural, short_etag  # noqa: F401

ROOT = settings.ROOT

# Короткие таймауты и мало повторов: мёртвый провайдер не должен молчать минутами перед залом
# (по умолчанию botocore ждёт соединения 60 с, minio-py — до 5 повторов, DuckDB — 30 с и 3 повтора).
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 4
ATTEMPTS = 2
DEADLINE = 12  # секунд на шаг у одного эндпоинта: медленный или «капающий» сервер не держит зал

# python <шаг>.py --trace: каждый HTTP-запрос каждого клиента — одной строкой.
TRACE = wire.trace_if_asked(sys.argv, lambda line: console.print(Text("  " + line, style="dim")))
deadline.also_interrupt(lambda: [con.interrupt() for con in wire.duckdb_connections()])


@dataclass(frozen=True)
class Endpoint:
    """Один S3-эндпоинт. Ключи не попадают в repr, а значит и в вывод."""

    name: str
    url: str
    region: str
    bucket: str
    url_style: str = "path"
    ca_bundle: str | None = None
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)

    @property
    def prefix(self) -> str:  # «yandex» → YANDEX_ENDPOINT_URL, YANDEX_BUCKET…
        return settings.prefix(self.name)

    @property
    def host(self) -> str:  # host:port без схемы — так его ждут minio и DuckDB
        return urlsplit(self.url).netloc

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (443 if self.secure else 80)

    @property
    def secure(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    def derived(self, kind: str) -> str:
        """Бакет лекции: derived("duckdb") → <бакет>-duckdb (имена — в settings.SUFFIXES)."""
        return self.bucket + settings.SUFFIXES[kind]


def config_error(message: str) -> None:
    console.print(Text.assemble(("Ошибка настройки:", "bold red"), " ", message))  # путь и имена — как есть
    raise SystemExit(2)


def endpoints() -> list[Endpoint]:
    """Эндпоинты из окружения и .env; любая ошибка настройки — одна строка и код выхода 2."""
    try:
        return [Endpoint(**settings.endpoint(name)) for name in settings.endpoint_names()]
    except settings.Invalid as problem:
        config_error(str(problem))


def data_file(download: bool = False) -> Path:
    """CSV «Титаника»: TITANIC_CSV или titanic.csv в корне; download — скачать, если его нет."""
    try:
        return settings.data_file(download, say=console.print)
    except settings.Invalid as problem:
        config_error(str(problem))


# ── Клиенты ─────────────────────────────────────────────────────────────────────────────────────

def _botocore_config(endpoint: Endpoint) -> dict:
    return dict(
        # vhost: бакет в имени хоста (bucket.storage.yandexcloud.net); path: в пути — нужен для MinIO и IP.
        s3={"addressing_style": "virtual" if endpoint.url_style == "vhost" else "path"},
        # boto3 ≥ 1.36 считает CRC у каждой загрузки; MinIO, Ceph, GCS и российские облака
        # такое отвергают (boto/boto3#4392): считаем контрольные суммы, только когда их требует API.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
    )


def boto3_client(endpoint: Endpoint):
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=endpoint.url, region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
        # Свой CA (лаборатория, компания) — только из <ИМЯ>_CA_BUNDLE; проверку TLS не выключаем никогда.
        verify=endpoint.ca_bundle or True,
        # SigV4: ссылки с подписью v2 подписывают Content-Type и ломаются у простого HTTP-клиента.
        config=Config(signature_version="s3v4", **_botocore_config(endpoint)),
    )
    s3_answers_only(client.meta.events)
    wire.observe_botocore(client.meta.events, endpoint, "boto3")
    return client


def minio_client(endpoint: Endpoint):
    import certifi
    import urllib3
    from minio import Minio

    http = wire.minio_pool(
        endpoint,
        # Пул minio-py по умолчанию ждёт ответа 5 минут и повторяет 5 раз (minio/minio-py#1068).
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        retries=urllib3.Retry(total=ATTEMPTS - 1, read=0, backoff_factor=0.2),
        cert_reqs="CERT_REQUIRED", ca_certs=endpoint.ca_bundle or certifi.where(),
    )
    client = Minio(
        endpoint.host,  # minio ждёт host:port без схемы (minio/minio-py#737)
        access_key=endpoint.access_key, secret_key=endpoint.secret_key, secure=endpoint.secure,
        # Без region minio сначала спрашивает GetBucketLocation, а его разрешают не все (minio/minio-py#1006).
        region=endpoint.region, http_client=http,
    )
    if endpoint.url_style == "vhost":
        client.enable_virtual_style_endpoint()
    return client


def location(endpoint: Endpoint) -> dict:
    """CreateBucket: LocationConstraint только вне us-east-1 (AWS его там отвергает, Ceph — чужой)."""
    if endpoint.region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": endpoint.region}}


def storage_options(endpoint: Endpoint) -> dict:
    """storage_options для pandas: s3fs поверх aiobotocore с теми же настройками, что у boto3."""
    import s3fs
    from aiobotocore.session import AioSession

    session = AioSession()
    # aiohttp ждёт «100 Continue» без всякого таймаута: запись на зависший сервер висела бы вечно.
    # Заголовок Expect не подписан (SigV4 его пропускает), поэтому его можно убрать перед отправкой.
    session.register("before-send.s3", _drop_expect_header)
    s3_answers_only(session.get_component("event_emitter"))  # клиенты s3fs получат копию этих крючков
    wire.observe_botocore(session, endpoint, "s3fs")
    # Свои повторы s3fs (5 попыток с паузами) поверх повторов botocore превращают зависший
    # сервер в минуту тишины; параметра для них нет — только атрибут класса.
    s3fs.S3FileSystem.retries = 1
    return {"key": endpoint.access_key, "secret": endpoint.secret_key, "endpoint_url": endpoint.url,
            "client_kwargs": {"region_name": endpoint.region, "verify": endpoint.ca_bundle or True},
            "config_kwargs": _botocore_config(endpoint), "session": session, "skip_instance_cache": True}


# Ответ S3 на эти запросы — всегда XML-документ (пустой список — тоже <ListBucketResult>). Не здесь
# GetBucketVersioning: пустой ответ 200 на него — сервер без версий, это «!» шага versioning.py.
XML_ANSWERS = {"ListBuckets", "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads",
               "ListParts", "CreateMultipartUpload", "CompleteMultipartUpload", "CopyObject", "UploadPartCopy",
               "DeleteObjects", "GetObjectTagging", "GetBucketTagging", "GetBucketLocation"}


def s3_answers_only(events) -> None:
    """Крючки botocore (boto3 и s3fs): адрес эндпоинта один, и ответ 200 — настоящий XML S3.

    Перенаправление: на 301 и 307 botocore ищет регион бакета — HEAD бакета, на который снова 307
    (RecursionError), а у ListBuckets бакета нет вовсе (TypeError). У S3-совместимого эндпоинта
    регионов-адресов нет: запрос помечен «уже перенаправлен», и 3xx остаётся ошибкой с Location —
    failures называет адрес из неё.
    Тело 200: botocore выдаёт оборванный XML за ошибку 500 и повторяет запрос, а пустое тело
    ListBuckets разбирает как ответ без бакетов (потом KeyError: 'Buckets'). Его крючок заменён своим:
    <Error> в ответе 200 (сбой CopyObject посреди копирования) — по-прежнему 500, а тело, которого не
    разобрать, — failures.NotS3 до всяких повторов."""
    from botocore.handlers import _handle_200_error

    events.register_first("needs-retry.s3", _no_region_redirect)
    events.unregister("before-parse.s3.*", _handle_200_error)
    events.register_first("before-parse.s3.*", _xml_or_not_s3)


def _no_region_redirect(request_dict, **_) -> None:
    request_dict["context"].setdefault("s3_redirect", {})["redirected"] = True


def _xml_or_not_s3(operation_model, response_dict, **_) -> None:
    from xml.etree import ElementTree

    shape = operation_model.output_shape
    if response_dict["status_code"] != 200 or shape is None or operation_model.has_event_stream_output:
        return
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].type_name in ("blob", "string"):  # тело — сами данные (GetObject)
        return
    body = response_dict["body"]
    if not body:
        if operation_model.name in XML_ANSWERS:
            raise failures.NotS3(f"{operation_model.name}: 200 с пустым телом")
        return
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise failures.NotS3(f"{operation_model.name}: 200, а XML не разобрать") from None
    if root.tag == "Error":
        response_dict["status_code"] = 500
    elif root.tag.rsplit("}", 1)[-1].lower() == "html":  # страница прокси — тоже XML, но не ответ S3
        raise failures.NotS3(f"{operation_model.name}: 200 с HTML-страницей")


def literal(value: str) -> str:
    """Строка для SQL DuckDB в кавычках (апостроф удваивается): путь «lecturer's data» не ломает запрос.
    Не параметр ($url): с параметрами DuckDB импортирует pandas и pyarrow — полсекунды на каждый шаг."""
    return "'" + str(value).replace("'", "''") + "'"


def _drop_expect_header(request, **_) -> None:  # None: ответ before-send иначе считается ответом сервера
    request.headers.pop("Expect", None)


def duckdb_connect(endpoint: Endpoint):
    """Соединение DuckDB с httpfs и секретом S3 этого эндпоинта."""
    import certifi
    import duckdb
    import duckdb_extension_httpfs  # httpfs из колеса: без INSTALL из интернета (duckdb/duckdb#3315)

    con = duckdb.connect()
    con.load_extension(str(next(Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
    con.execute(f"SET http_timeout = {READ_TIMEOUT}")  # секунды без ответа
    con.execute("SET http_retries = 0")  # COPY и так повторяет PUT сам
    # Те же CA, что у boto3 и minio (certifi), или свой из <ИМЯ>_CA_BUNDLE; проверка включена всегда.
    con.execute("SET enable_curl_server_cert_verification = true")
    con.execute(f"SET ca_cert_file = {literal(endpoint.ca_bundle or certifi.where())}")
    con.execute(f"""
        CREATE SECRET lecture (
            TYPE s3, KEY_ID {literal(endpoint.access_key)}, SECRET {literal(endpoint.secret_key)},
            REGION {literal(endpoint.region)},     -- не-AWS хранилищам регион тоже нужен (duckdb/duckdb#9778)
            ENDPOINT {literal(endpoint.host)},     -- без схемы (duckdb/duckdb-httpfs#15)
            USE_SSL {str(endpoint.secure).lower()},
            URL_STYLE {literal(endpoint.url_style)} -- в кавычках, иначе молча игнорируется (duckdb-httpfs#153)
        )""")
    wire.observe_duckdb(con, endpoint)
    return con


# ── Эндпоинт: одна строка на ошибку, дальше — следующий ─────────────────────────────────────────

_results: list[tuple[str, bool, bool]] = []  # (эндпоинт, прошёл, работать с ним нельзя)


@contextmanager
def endpoint_block(endpoint: Endpoint, seconds: float = DEADLINE) -> Iterator[None]:
    """Блок эндпоинта: заголовок, срок, и ожидаемая ошибка — одна строка ✗ вместо трассировки.
    После сбоя и Ctrl-C отменяет свои незавершённые составные загрузки (по UploadId из wire)."""
    console.rule(f"[bold]{endpoint.name}[/]  {endpoint.url}  ключ {failures.mask_key(endpoint.access_key)}",
                 style="cyan")
    failure = None
    try:
        with deadline.limit(seconds, endpoint.port) as watch:
            yield
    except (Exception, KeyboardInterrupt, deadline.Expired) as error:
        wire.flush(stop_on_interrupt=False)  # ответы DuckDB — до объяснения: «нет Range», таймауты
        expired = watch.seconds if watch.expired else None
        if deadline.interrupted():  # DuckDB превращает Ctrl-C в RuntimeError («Query interrupted»)
            failure = failures.Failure("прервано", "Ctrl-C")
        else:
            failure = failures.explain(error, endpoint, expired, wire.seen(endpoint))
        if failure is None:
            raise  # не сетевая и не S3-ошибка: это ошибка в лекции, трассировка нужна
    finally:
        wire.flush(stop_on_interrupt=False)  # Ctrl-C здесь не теряется: его проверяют ниже
        wire.forget_duckdb()
    leftovers = [] if failure else wire.abandoned_uploads(endpoint)
    uploads = wire.own_uploads(endpoint) + leftovers
    # После истёкшего срока на отмену — 2 с: сервер уже показал, что медлит; остаток отменит следующий запуск.
    patience = 2 if failure and failure.code == "таймаут" else READ_TIMEOUT
    aborted = wire.abort_uploads(endpoint, uploads, boto3_client(endpoint), patience) if uploads else []
    for bucket, name in aborted if leftovers else []:
        warn(f"отменена незавершённая загрузка прошлого запуска: {bucket}/{name}")
    tail = f"; незавершённых загрузок отменено: {len(aborted)}" if failure and aborted else ""
    if deadline.interrupted():
        fail(f"{endpoint.name}: прервано (Ctrl-C){tail}")
        raise SystemExit(deadline.INTERRUPTED)
    if failure:
        fail(f"{endpoint.name}: {failures.describe(failure, endpoint)}{tail}")
    _results.append((endpoint.name, failure is None, bool(failure) and failure.code in failures.UNUSABLE))


@contextmanager
def feature(name: str) -> Iterator[None]:
    """Необязательная возможность S3 (версии, теги, политики): если сервер её не поддерживает,
    это строка «!» — знание о сервере, а не сбой лекции; остальные ошибки идут в блок эндпоинта."""
    try:
        yield
    except Exception as error:
        behaviour = failures.unsupported(error)
        if behaviour is None:
            raise
        warn(f"{name}: сервер {behaviour}")


def lacks(condition: bool, behaviour: str) -> None:
    """Сервер ответил «да», но возможности нет: behaviour — что он сделал на самом деле."""
    if condition:
        raise failures.Lacking(behaviour)


# Обычный HTTP-запрос без S3-библиотеки и без ключей (urllib): шаги 14, 18, 19.
plain_http = partial(wire.plain_http, timeout=READ_TIMEOUT)


def mask_secrets(text: str, endpoint: Endpoint) -> str:
    """Ключ доступа и секрет в тексте — замаскированы (например, в заголовке Authorization)."""
    return failures.mask(text, endpoint.secret_key, endpoint.access_key)


def summary() -> int:
    """Итог шага. Код выхода: 0 — все эндпоинты прошли, 1 — хотя бы один нет,
    3 — ни с одним работать нельзя: нет связи, ключи или TLS (лекцию вести не на чем)."""
    failed = [name for name, good, _ in _results if not good]
    total = plural(len(_results), "эндпоинта", "эндпоинтов", "эндпоинтов")
    if not failed:
        console.print(f"\n[bold green]{len(_results)} из {total}: ОК[/]")
        return 0
    console.print(f"\n[bold red]{len(_results) - len(failed)} из {total}: ОК[/] (ошибки: {', '.join(failed)})")
    return 3 if all(unreachable for _, _, unreachable in _results) else 1
