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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from rich.text import Text

import failures
import settings
import wire
from lecture import journal, report

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
# python <шаг>.py --debug: ошибка лекции печатает и трассировку (она всегда есть и в файле отчёта).
DEBUG = "--debug" in sys.argv
if DEBUG:
    sys.argv.remove("--debug")
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


_known: list[Endpoint] = []


def config_error(message: str) -> None:
    console.print(Text.assemble(("Ошибка настройки:", "bold red"), " ", message))  # путь и имена — как есть
    raise SystemExit(2)


def endpoints() -> list[Endpoint]:
    """Эндпоинты из окружения и .env; любая ошибка настройки — одна строка и код выхода 2."""
    try:
        found = [Endpoint(**settings.endpoint(name)) for name in settings.endpoint_names()]
    except settings.Invalid as problem:
        config_error(str(problem))
    _known[:] = found  # их ключи маскируются в любой строке об ошибке лекции
    return found


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
    wire.observe_duckdb(con, endpoint)
    return con


# ── Эндпоинт: одна строка на ошибку, дальше — следующий ─────────────────────────────────────────

_results: list[tuple[str, bool, bool]] = []  # (эндпоинт, прошёл, работать с ним нельзя)
_bugs: list[str] = []  # эндпоинты, где случилась ошибка лекции: код выхода 4
_journal_warned: list[str] = []


@contextmanager
def endpoint_block(endpoint: Endpoint, seconds: float = DEADLINE) -> Iterator[None]:
    """Блок эндпоинта: заголовок, срок, и ожидаемая ошибка — одна строка ✗ вместо трассировки.
    Неожиданная — тоже одна строка, с отчётом в файле (код выхода 4). После сбоя и Ctrl-C
    отменяет свои незавершённые составные загрузки (по UploadId из wire)."""
    console.rule(Text.assemble((endpoint.name, "bold"), f"  {endpoint.url}  ключ "
                               f"{failures.mask_key(endpoint.access_key)}"), style="cyan")
    failure = bug = None
    try:
        with deadline.limit(seconds, endpoint.port) as watch:
            yield
    except (Exception, KeyboardInterrupt, deadline.Expired) as error:
        failure, bug = _outcome(error, endpoint, watch)
    finally:
        try:
            wire.flush(stop_on_interrupt=False)  # Ctrl-C здесь не теряется: его проверяют ниже
            wire.forget_duckdb()
        except journal.Unavailable as problem:
            failure = failure or failures.Failure("журнал", str(problem))
    aborted, leftovers = _abort_uploads(endpoint, failure)
    for upload in aborted if leftovers else []:
        warn(f"отменена незавершённая загрузка прошлого запуска: {upload.bucket}/{upload.key}")
    tail = f"; незавершённых загрузок отменено: {len(aborted)}" if failure and aborted else ""
    if deadline.interrupted():
        fail(f"{endpoint.name}: прервано (Ctrl-C){tail}")
        raise SystemExit(deadline.INTERRUPTED)
    if failure and failure.code == "журнал":  # писать в S3 без журнала нельзя: остановиться, как при настройке
        config_error(failure.explanation)
    if bug:
        fail(f"{endpoint.name}: {bug}{tail}")
        _bugs.append(endpoint.name)
    elif failure:
        fail(f"{endpoint.name}: {failures.describe(failure, endpoint)}{tail}")
    _results.append((endpoint.name, failure is None and bug is None,
                     bool(failure) and failure.code in failures.UNUSABLE))


def _outcome(error: BaseException, endpoint: Endpoint, watch) -> tuple[failures.Failure | None, str | None]:
    """(ожидаемый сбой, строка об ошибке лекции) — одно из двух."""
    try:
        wire.flush(stop_on_interrupt=False)  # ответы DuckDB — до объяснения: «нет Range», таймауты
    except journal.Unavailable as problem:
        return failures.Failure("журнал", str(problem)), None
    if isinstance(error, journal.Unavailable):
        return failures.Failure("журнал", str(error)), None
    expired = watch.seconds if watch.expired else None
    if deadline.interrupted():  # DuckDB превращает Ctrl-C в RuntimeError («Query interrupted»)
        return failures.Failure("прервано", "Ctrl-C"), None
    failure = failures.explain(error, endpoint, expired, wire.seen(endpoint))
    if failure is not None:
        return failure, None
    return None, unexpected(error, endpoint)


def unexpected(error: BaseException, endpoint: Endpoint | None = None) -> str:
    """Ошибка лекции: отчёт в файл, строка для зала (с --debug — и трассировка)."""
    def masked(text: str) -> str:
        for item in {*_known, *([endpoint] if endpoint else [])}:
            text = mask_secrets(text, item)
        return text

    if DEBUG:
        import traceback

        console.print(Text(masked("".join(traceback.format_exception(error))), style="red"))
    path = report.write(error, sys.argv[0], endpoint, masked)
    return report.line(error, path, masked)


def _abort_uploads(endpoint: Endpoint, failure) -> tuple[list, list]:
    """Отменить незавершённые загрузки этого процесса, а если блок прошёл — и брошенные прошлыми запусками.
    Журнал не прочитать — загрузки прошлых запусков подождут (строка «!» — один раз)."""
    leftovers = []
    if not failure:
        try:
            leftovers = wire.abandoned_uploads(endpoint)
        except journal.Unavailable as problem:
            if not _journal_warned:
                _journal_warned.append(str(problem))
                warn(str(problem))
    uploads = wire.own_uploads(endpoint) + leftovers
    if not uploads:
        return [], leftovers
    # После истёкшего срока на отмену — 2 с: сервер уже показал, что медлит; остаток отменит следующий запуск.
    patience = 2 if failure and failure.code == "таймаут" else READ_TIMEOUT
    try:
        return wire.abort_uploads(endpoint, uploads, boto3_client(endpoint), patience), leftovers
    except journal.Unavailable:
        return [], leftovers


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
    3 — ни с одним работать нельзя: нет связи, ключи или TLS (лекцию вести не на чем),
    4 — ошибка самой лекции (строка с путём к отчёту уже напечатана)."""
    failed = [name for name, good, _ in _results if not good]
    total = plural(len(_results), "эндпоинта", "эндпоинтов", "эндпоинтов")
    if not failed:
        console.print(f"\n[bold green]{len(_results)} из {total}: ОК[/]")
        return 0
    console.print(Text.assemble((f"\n{len(_results) - len(failed)} из {total}: ОК", "bold red"),
                                f" (ошибки: {', '.join(failed)})"))
    if _bugs:
        return report.BUG
    return 3 if all(unreachable for _, _, unreachable in _results) else 1


def run(main: Callable[[], int]) -> int:
    """Весь скрипт под одной защитой: Ctrl-C где угодно — «прервано» и код 130, ошибка лекции вне
    эндпоинта — одна строка с отчётом и код 4. После main поздний Ctrl-C уже ничего не меняет:
    итог шага — его собственный. Сигнал может прийти и посреди выхода из блока эндпоинта (тогда
    его срок ещё взведён): сначала всё гасим, потом говорим."""
    try:
        try:
            code = main()
        finally:
            _settle()
    except (KeyboardInterrupt, deadline.Expired):
        _settle()
        if not deadline.interrupted():  # срок истёк, когда блок эндпоинта уже не мог его объяснить
            fail("срок эндпоинта истёк при завершении шага")
            return 1
        sys.stdout.write("\n✗ прервано (Ctrl-C)\n")
        sys.stdout.flush()
        return deadline.INTERRUPTED
    except Exception as error:  # noqa: BLE001 — ошибка лекции: строка и отчёт, а не трассировка
        fail(unexpected(error))
        return report.BUG
    return code


def _settle() -> None:
    """Погасить срок и Ctrl-C. Каждый из них прерывает не больше одного раза: повтор — и больше нечему."""
    for _ in range(3):
        try:
            deadline.finished()
            return
        except (KeyboardInterrupt, deadline.Expired):
            continue


# ── Другие клиенты (шаг 20): pyarrow, polars, rclone и AWS CLI из той же записи Endpoint ─────────
# Те же знания, что у четырёх клиентов выше, на языке каждого клиента: схема и host:port, стиль
# адреса, регион, свой CA, короткие таймауты и мало повторов. Проверку TLS не выключает ни один.

TOOL_TIMEOUT = 10  # секунд на программу (rclone, aws): запуск и одно чтение; сам aws стартует 1–3 с
RCLONE_REMOTE = "lecture"  # имя хранилища rclone: lecture:бакет/ключ ← RCLONE_CONFIG_LECTURE_*


def pyarrow_filesystem(endpoint: Endpoint):
    """S3FileSystem из pyarrow — его собственный клиент на C++ (AWS SDK for C++), не s3fs."""
    import certifi
    from pyarrow import fs

    return fs.S3FileSystem(
        access_key=endpoint.access_key, secret_key=endpoint.secret_key,
        endpoint_override=endpoint.host, scheme="https" if endpoint.secure else "http",  # схема — отдельно
        # Со своим адресом AWS SDK ходит в стиле path; бакет в имени хоста — только при <ИМЯ>_URL_STYLE=vhost.
        force_virtual_addressing=endpoint.url_style == "vhost",
        region=endpoint.region,  # регион входит в подпись SigV4: не тот — SignatureDoesNotMatch
        # Те же CA, что у boto3 и DuckDB: свой из <ИМЯ>_CA_BUNDLE или certifi, а не системные curl.
        tls_ca_file_path=(endpoint.ca_bundle or certifi.where()) if endpoint.secure else None,
        connect_timeout=CONNECT_TIMEOUT, request_timeout=READ_TIMEOUT,
        retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=ATTEMPTS),  # по умолчанию 3 попытки
    )


def polars_options(endpoint: Endpoint, bucket: str) -> dict:
    """storage_options для polars: его клиент на Rust (object_store) со своими именами настроек.
    Свои для каждого бакета: в стиле vhost object_store ждёт адрес, в котором бакет уже есть."""
    vhost = endpoint.url_style == "vhost"
    scheme = "https" if endpoint.secure else "http"
    return {
        "aws_endpoint_url": f"{scheme}://{bucket}.{endpoint.host}" if vhost else endpoint.url,
        "aws_virtual_hosted_style_request": str(vhost).lower(),
        "aws_access_key_id": endpoint.access_key, "aws_secret_access_key": endpoint.secret_key,
        "aws_region": endpoint.region,  # без него polars подписывает запросы как us-east-1
        # object_store без разрешения не ходит по http:// (polars 2 разрешает и сам, по схеме адреса).
        "aws_allow_http": str(not endpoint.secure).lower(),
        "connect_timeout": f"{CONNECT_TIMEOUT}s",
        "timeout": f"{READ_TIMEOUT}s",  # на весь запрос, а не на одно чтение: объекты лекции маленькие
        # По умолчанию polars повторяет запрос с паузами до 10 с: мёртвый сервер молчал бы дольше срока.
        "max_retries": ATTEMPTS - 1, "retry_timeout_ms": READ_TIMEOUT * 1000,
    }


@contextmanager
def polars_trust(endpoint: Endpoint) -> Iterator[None]:
    """Свой CA для polars. В storage_options такой настройки нет (pola-rs/polars#21007 не влит), но rustls
    берёт корневые сертификаты из SSL_CERT_FILE, когда polars строит клиента (pola-rs/polars#13741).
    Переменная задана только на время чтения: те же CA, что у boto3, — <ИМЯ>_CA_BUNDLE или certifi."""
    import os

    import certifi

    if not endpoint.secure:
        yield
        return
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = endpoint.ca_bundle or certifi.where()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = before


def _tool_env() -> dict[str, str]:
    """Окружение программы без чужих настроек S3 и TLS: только то, что нужно запуску.
    rclone, например, падает с LoadCustomCABundleError, если в окружении есть AWS_CA_BUNDLE."""
    import os

    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT", "PYENV_ROOT", "PYENV_VERSION")
    return {name: value for name, value in os.environ.items() if name in keep}


@contextmanager
def rclone_cli(endpoint: Endpoint) -> Iterator:
    """rclone (Go): хранилище lecture: целиком из переменных RCLONE_CONFIG_LECTURE_*, без файла настроек.
    Даёт command (rclone с флагами) и env."""
    import os
    from types import SimpleNamespace

    import certifi

    config = {
        "TYPE": "s3", "PROVIDER": "Other",  # Other: обычный S3 без причуд AWS, Ceph или MinIO
        "ENDPOINT": endpoint.url, "REGION": endpoint.region,
        "ACCESS_KEY_ID": endpoint.access_key, "SECRET_ACCESS_KEY": endpoint.secret_key,
        "FORCE_PATH_STYLE": str(endpoint.url_style != "vhost").lower(),
    }
    env = _tool_env() | {f"RCLONE_CONFIG_{RCLONE_REMOTE.upper()}_{name}": value for name, value in config.items()}
    env["RCLONE_CONFIG"] = os.devnull  # файл настроек пользователя не участвует
    command = ["rclone", "--contimeout", f"{CONNECT_TIMEOUT}s", "--timeout", f"{READ_TIMEOUT}s",
               "--retries", "1", "--low-level-retries", "1"]  # по умолчанию 3 и 10 попыток
    if endpoint.secure:  # --ca-cert заменяет системные CA: те же, что у boto3
        command += ["--ca-cert", endpoint.ca_bundle or certifi.where()]
    yield SimpleNamespace(command=command, env=env, remote=RCLONE_REMOTE)


@contextmanager
def aws_cli(endpoint: Endpoint) -> Iterator:
    """AWS CLI (Python, свой botocore): адрес и CA — флагами, ключи и поведение — переменными AWS_*.
    Стиль адреса переменной не задать — только файлом настроек: он временный, у каждого вызова свой.
    Даёт command (aws с флагами) и env."""
    import os
    import tempfile
    from types import SimpleNamespace

    import certifi

    with tempfile.TemporaryDirectory(prefix="s3-lecture-aws-") as folder:
        config = Path(folder, "config")
        style = "virtual" if endpoint.url_style == "vhost" else "path"
        config.write_text(f"[default]\ns3 =\n    addressing_style = {style}\n")
        env = _tool_env() | {
            "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": os.devnull,  # без профилей пользователя
            "AWS_ACCESS_KEY_ID": endpoint.access_key, "AWS_SECRET_ACCESS_KEY": endpoint.secret_key,
            "AWS_DEFAULT_REGION": endpoint.region,
            # Как у boto3: контрольные суммы — только когда их требует API (boto/boto3#4392).
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
            "AWS_MAX_ATTEMPTS": str(ATTEMPTS), "AWS_RETRY_MODE": "standard",
        }
        command = ["aws", "--endpoint-url", endpoint.url, "--cli-connect-timeout", str(CONNECT_TIMEOUT),
                   "--cli-read-timeout", str(READ_TIMEOUT)]
        if endpoint.secure:
            command += ["--ca-bundle", endpoint.ca_bundle or certifi.where()]
        yield SimpleNamespace(command=command, env=env)
