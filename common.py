"""Общее для всех шагов: эндпоинты, клиенты, одна строка на ошибку, вывод.

Эндпоинты (S3_ENDPOINTS и <ИМЯ>_ENDPOINT_URL, _ACCESS_KEY, _SECRET_KEY, _BUCKET, _REGION…)
читает lecture/settings.py из окружения и .env. Из одной записи Endpoint строятся все клиенты —
boto3, minio, DuckDB, s3fs (pandas), pyarrow и polars, поэтому настройки совместимости заданы здесь
один раз. Машинерия — в пакете lecture/: failures (что за ошибка), guard и deadline (блок эндпоинта,
сроки, Ctrl-C), wire и trace (каждый HTTP-запрос: журнал записанного и --trace). Импорт common
ничего не меняет в процессе: обработчики сигналов и флаги --trace и --debug — в common.run(main).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from rich.text import Text

from lecture import answers, arrow_clients, duckdb_log, failures, gaps, guard, journal, masking, settings, tools, wire
from lecture.plain_http import plain_http as _plain_http

# Вывод и слова для зала живут в lecture/, шаги зовут их через common: common.table, common.plural…
from lecture.screen import (  # noqa: F401
    check,
    compare,
    console,
    fail,
    header,
    note,
    ok,
    pairs,
    progress,
    styled,
    table,
    user_metadata,
    warn,
)
from lecture.screen import lowered as _lowered
from lecture.settings import Endpoint  # noqa: F401 — тип записи эндпоинта для шагов
from lecture.words import count, human_size, moment, number, plural, short_etag  # noqa: F401

ROOT = settings.ROOT

# Короткие таймауты и мало повторов: мёртвый провайдер не должен молчать минутами перед залом
# (по умолчанию botocore ждёт соединения 60 с, minio-py — до 5 повторов, DuckDB — 30 с и 3 повтора).
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 4
ATTEMPTS = 2
DEADLINE = 12  # секунд на шаг у одного эндпоинта: медленный или «капающий» сервер не держит зал
TOOL_TIMEOUT = tools.TOOL_TIMEOUT

# Бакеты лекции называются от основного (имена бакетов в облаке глобальны): endpoint.derived("duckdb").
SUFFIXES = {"duckdb": "-duckdb", "pandas": "-pandas", "temp": "-tmp", "versions": "-ver", "public": "-pub",
            "compat": "-compat", "spark": "-spark"}
# Кто что готовит: подсказки в строках ✗ и в ошибке настройки.
HINTS = {"made_by": "шаг 6 (create_bucket.py)"}
DATA_FETCHED_BY = "шаг 3 (upload_object.py)"

flags = guard.flags  # flags.trace, flags.debug — после common.run
config_error = guard.config_error
summary = guard.summary


def endpoints() -> list[Endpoint]:
    """Эндпоинты из окружения и .env; любая ошибка настройки — одна строка и код выхода 2."""
    try:
        found = [settings.endpoint(name, SUFFIXES) for name in settings.endpoint_names()]
    except settings.Invalid as problem:
        config_error(str(problem))
    guard.known(found)  # их ключи маскируются в любой строке об ошибке лекции
    return found


def data_file(download: bool = False) -> Path:
    """CSV «Титаника»: TITANIC_CSV или titanic.csv в корне; download — скачать, если его нет."""
    try:
        return settings.data_file(download, say=console.print, fetched_by=DATA_FETCHED_BY)
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
    answers.s3_answers_only(client.meta.events)
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
    session.register("before-send.s3", answers.drop_expect_header)
    answers.s3_answers_only(session.get_component("event_emitter"))  # клиенты s3fs получат копию этих крючков
    wire.observe_botocore(session, endpoint, "s3fs")
    # Свои повторы s3fs (5 попыток с паузами) поверх повторов botocore превращают зависший
    # сервер в минуту тишины; параметра для них нет — только атрибут класса.
    s3fs.S3FileSystem.retries = 1
    return {"key": endpoint.access_key, "secret": endpoint.secret_key, "endpoint_url": endpoint.url,
            "client_kwargs": {"region_name": endpoint.region, "verify": endpoint.ca_bundle or True},
            "config_kwargs": _botocore_config(endpoint), "session": session, "skip_instance_cache": True}


def literal(value: str) -> str:
    """Строка для SQL DuckDB в кавычках (апостроф удваивается): путь «lecturer's data» не ломает запрос.
    Не параметр ($url): с параметрами DuckDB импортирует pandas и pyarrow — полсекунды на каждый шаг."""
    return "'" + str(value).replace("'", "''") + "'"


def duckdb_connect(endpoint: Endpoint, writes: bool = False):
    """Соединение DuckDB с httpfs и секретом S3 этого эндпоинта. writes — шаг пишет в S3: о запросах
    DuckDB лекция узнаёт после, поэтому журнал проверяется заранее (не записать — ничего не пишем)."""
    import certifi
    import duckdb
    import duckdb_extension_httpfs  # httpfs из колеса: без INSTALL из интернета (duckdb/duckdb#3315)

    if writes:
        journal.ensure_writable()

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
    duckdb_log.observe(con, endpoint)
    return con


def endpoint_block(endpoint: Endpoint, seconds: float = DEADLINE):
    """Блок эндпоинта: заголовок, срок, и ожидаемая ошибка — одна строка ✗ вместо трассировки.
    Неожиданная — тоже одна строка, с отчётом в файле (код выхода 4). После сбоя и Ctrl-C
    отменяет свои незавершённые составные загрузки (lecture/guard.py)."""
    return guard.endpoint_block(endpoint, seconds, boto3_client, READ_TIMEOUT, HINTS)


@contextmanager
def feature(name: str) -> Iterator[None]:
    """Необязательная возможность S3 (версии, теги, политики): если сервер её не поддерживает,
    это строка «!» — знание о сервере, а не сбой лекции; остальные ошибки идут в блок эндпоинта.
    Сервер, выполнивший вместо неё другую операцию (lecture/gaps.py), — тоже «!»: что он сделал."""
    gaps.start()
    try:
        yield
    except Exception as error:
        behaviour = failures.unsupported(error) or gaps.behaviour()
        if behaviour is None:
            raise
        warn(f"{name}: сервер {behaviour}")


lacks = failures.lacks  # сервер ответил «да», но возможности нет: строка «!» в feature


def same_metadata(stored: dict, sent: dict) -> bool:
    """Сервер хранит те метаданные, что отправлены. Имена x-amz-meta-* — заголовки HTTP, регистр
    в них не значит ничего (AWS хранит строчными). Сервер, сменивший регистр (gofakes3: Client
    вместо client), метаданные сохранил — но зал это видит, и строка «!» говорит почему."""
    if _lowered(stored) != _lowered(sent):
        return False
    if changed := sorted(set(stored) - set(sent)):
        warn(f"метаданные: сервер сменил регистр имён ({', '.join(changed)}) — "
             "в заголовках HTTP он не важен")
    return True
# Обычный HTTP-запрос без S3-библиотеки и без ключей (urllib): шаги 14, 18, 19.
plain_http = partial(_plain_http, timeout=READ_TIMEOUT)


def mask_secrets(text: str, endpoint: Endpoint) -> str:
    """Ключ доступа и секрет в тексте — замаскированы (например, в заголовке Authorization)."""
    return masking.mask(text, endpoint.secret_key, endpoint.access_key)


def run(main: Callable[[], int], ctrl_c: bool = True) -> int:
    """Весь скрипт под одной защитой (lecture/guard.py): Ctrl-C — «прервано» и код 130, ошибка лекции —
    строка с отчётом и код 4. Здесь, а не при импорте: --trace и --debug, обработчики сигналов."""
    import sys

    guard.take_flags(sys.argv, lambda line: console.print(Text("  " + line, style="dim")))
    return guard.run(main, ctrl_c)


# Другие клиенты (шаг 20) из той же записи Endpoint: pyarrow и polars (lecture/arrow_clients.py),
# rclone и AWS CLI (lecture/tools.py) — с теми же таймаутами и попытками, что у четырёх клиентов выше.
pyarrow_filesystem = partial(arrow_clients.pyarrow_filesystem, connect=CONNECT_TIMEOUT, read=READ_TIMEOUT,
                             attempts=ATTEMPTS)
polars_options = partial(arrow_clients.polars_options, connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, attempts=ATTEMPTS)
polars_trust = arrow_clients.polars_trust
rclone_cli = partial(tools.rclone_cli, connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
aws_cli = partial(tools.aws_cli, connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, attempts=ATTEMPTS)
