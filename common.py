"""Общее для всех шагов лекции: эндпоинты, клиенты, обработка ошибок, вывод.

Эндпоинты читаются из окружения и из файла .env в текущем каталоге — скрипты запускают
из корня проекта (переменная окружения важнее .env):
    S3_ENDPOINTS=minio,yandex              — имена эндпоинтов через запятую;
    <ИМЯ>_ENDPOINT_URL, _ACCESS_KEY, _SECRET_KEY, _BUCKET — обязательны;
    <ИМЯ>_REGION (us-east-1), _URL_STYLE (path | vhost), _CA_BUNDLE — необязательны.

Из одной записи Endpoint строятся все четыре клиента — boto3, minio, DuckDB и s3fs (pandas),
поэтому настройки совместимости у них одинаковые и заданы здесь один раз.
Тяжёлые библиотеки (boto3, minio, duckdb) импортируются только внутри сборщиков клиентов.
"""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent
console = Console(highlight=False)

# Короткие таймауты и мало повторов: мёртвый провайдер не должен молчать минутами перед залом
# (по умолчанию botocore ждёт соединения 60 с, minio-py — до 5 повторов, DuckDB — 30 с и 3 повтора).
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 4
ATTEMPTS = 2

TITANIC_URL = "https://raw.githubusercontent.com/datasciencedojo/datasets/master/titanic.csv"
TITANIC_COLUMNS = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age",
                   "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"]

# Имена бакетов по правилам S3: 3–63 символа, строчные латинские буквы, цифры, точки и дефисы.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_SUFFIXES = {"duckdb_bucket": "-duckdb", "pandas_bucket": "-pandas", "temp_bucket": "-tmp",
                   "versions_bucket": "-ver"}


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
    def prefix(self) -> str:  # начало имён переменных: «yandex» → YANDEX_ENDPOINT_URL, YANDEX_BUCKET…
        return variable_prefix(self.name)

    @property
    def host(self) -> str:  # host:port без схемы — так его ждут minio и DuckDB
        return urlsplit(self.url).netloc

    @property
    def secure(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    # Остальные бакеты лекции выводятся из основного: имена бакетов в облаке глобальны,
    # поэтому свои уникальные имена даёт одна переменная <ИМЯ>_BUCKET.
    @property
    def duckdb_bucket(self) -> str:
        return self.bucket + BUCKET_SUFFIXES["duckdb_bucket"]

    @property
    def pandas_bucket(self) -> str:
        return self.bucket + BUCKET_SUFFIXES["pandas_bucket"]

    @property
    def temp_bucket(self) -> str:
        return self.bucket + BUCKET_SUFFIXES["temp_bucket"]

    @property
    def versions_bucket(self) -> str:
        return self.bucket + BUCKET_SUFFIXES["versions_bucket"]


def config_error(message: str) -> None:
    console.print(f"[bold red]Ошибка настройки:[/] {message}")
    raise SystemExit(2)


def endpoints() -> list[Endpoint]:
    """Эндпоинты из окружения и .env; любая ошибка настройки — сообщение и код выхода 2."""
    load_dotenv(Path.cwd() / ".env", override=False)
    names = [n.strip() for n in os.environ.get("S3_ENDPOINTS", "").split(",") if n.strip()]
    if not names:
        config_error(
            "не задан S3_ENDPOINTS. Скопируйте .env.example в .env и запустите локальный S3: "
            "docker-compose up -d или python local_s3.py; либо запустите всю лекцию: python run_demo.py"
        )
    return [_read_endpoint(name) for name in names]


def variable_prefix(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _read_endpoint(name: str) -> Endpoint:
    prefix = variable_prefix(name)

    def var(suffix: str, default: str | None = None) -> str:
        value = os.environ.get(f"{prefix}_{suffix}", "").strip() or default
        if value is None:
            config_error(f"эндпоинт «{name}» указан в S3_ENDPOINTS, но не задана переменная {prefix}_{suffix}")
        return value

    url, bucket = var("ENDPOINT_URL"), var("BUCKET")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        config_error(f"{prefix}_ENDPOINT_URL={url!r}: нужен адрес со схемой, например http://127.0.0.1:9000")
    if parts.path.strip("/") or parts.query:
        config_error(f"{prefix}_ENDPOINT_URL={url!r}: адрес без пути — бакет задаётся в {prefix}_BUCKET")
    url_style = var("URL_STYLE", "path").lower()
    if url_style not in ("path", "vhost"):
        config_error(f"{prefix}_URL_STYLE={url_style!r}: допустимо path или vhost")
    for suffix in ("", *BUCKET_SUFFIXES.values()):
        if not BUCKET_NAME.match(bucket + suffix) or ".." in bucket:
            config_error(
                f"{prefix}_BUCKET={bucket!r}: имя бакета по правилам S3 — 3–63 символа, строчные латинские "
                f"буквы, цифры, точки и дефисы (лекция добавляет к нему суффиксы до 7 символов, "
                f"поэтому не длиннее 56)"
            )
    ca_bundle = var("CA_BUNDLE", "") or None
    if ca_bundle and not (Path(ca_bundle).is_file() and os.access(ca_bundle, os.R_OK)):
        config_error(f"{prefix}_CA_BUNDLE={ca_bundle!r}: файл не найден или не читается")
    return Endpoint(name=name, url=url.rstrip("/"), region=var("REGION", "us-east-1"), bucket=bucket,
                    url_style=url_style, ca_bundle=ca_bundle,
                    access_key=var("ACCESS_KEY"), secret_key=var("SECRET_KEY"))


def data_file(download: bool = False) -> Path:
    """Локальный CSV «Титаника» (TITANIC_CSV, по умолчанию titanic.csv в корне); download — скачать, если нет."""
    path = Path(os.environ.get("TITANIC_CSV", "") or ROOT / "titanic.csv")
    fetch = f"curl -fsSL -o {path} {TITANIC_URL}"
    if not path.is_file() and download:
        console.print(f"Файла {path.name} нет — скачиваю {TITANIC_URL}")
        try:
            with urllib.request.urlopen(TITANIC_URL, timeout=10) as response:
                body = response.read()
        except OSError as error:
            config_error(f"не удалось скачать файл данных ({error}). Скачайте его командой:\n  {fetch}")
        partial = path.with_name(path.name + ".part")  # полфайла не останется: сначала во временный
        partial.write_bytes(body)
        partial.replace(path)
    if not path.is_file():
        config_error(f"нет файла данных {path}. Его скачивает шаг 3 (upload_object.py) или команда:\n  {fetch}")
    header = path.open(encoding="utf-8", errors="replace").readline().strip().split(",")
    if header != TITANIC_COLUMNS:
        config_error(f"{path} — не CSV «Титаника»: ожидались столбцы {','.join(TITANIC_COLUMNS)}.\n"
                     f"  Скачайте настоящий: {fetch}")
    return path


# ── Клиенты ─────────────────────────────────────────────────────────────────────────────────────

def _botocore_config_kwargs(endpoint: Endpoint) -> dict:
    return dict(
        # vhost: бакет в имени хоста (bucket.storage.yandexcloud.net); path: в пути — нужен для MinIO и IP.
        s3={"addressing_style": "virtual" if endpoint.url_style == "vhost" else "path"},
        # boto3 ≥ 1.36 считает CRC у каждой загрузки; MinIO, Ceph, GCS и российские облака
        # такое отвергают (boto/boto3#4392) — считаем контрольные суммы, только когда их требует API.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # SigV4: ссылки с подписью v2 подписывают Content-Type и ломаются у простого HTTP-клиента.
        signature_version="s3v4",
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
    )


def _verify(endpoint: Endpoint) -> str | bool:
    # Свой CA (лаборатория, компания) — только из <ИМЯ>_CA_BUNDLE; проверку TLS не выключаем никогда.
    return endpoint.ca_bundle or True


def boto3_client(endpoint: Endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        verify=_verify(endpoint),
        config=Config(**_botocore_config_kwargs(endpoint)),
    )


def minio_client(endpoint: Endpoint):
    import certifi
    import urllib3
    from minio import Minio

    http = urllib3.PoolManager(
        # Пул minio-py по умолчанию ждёт ответа 5 минут и повторяет 5 раз (minio/minio-py#1068).
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        retries=urllib3.Retry(total=ATTEMPTS - 1, read=0, backoff_factor=0.2,
                              status_forcelist=[500, 502, 503, 504]),
        cert_reqs="CERT_REQUIRED",
        ca_certs=endpoint.ca_bundle or certifi.where(),
    )
    client = Minio(
        endpoint.host,  # minio ждёт host:port без схемы (minio/minio-py#737)
        access_key=endpoint.access_key,
        secret_key=endpoint.secret_key,
        secure=endpoint.secure,
        # Без region minio сначала спрашивает GetBucketLocation, а его запрещают не все (minio/minio-py#1006).
        region=endpoint.region,
        http_client=http,
    )
    if endpoint.url_style == "vhost":
        client.enable_virtual_style_endpoint()
    return client


def location(endpoint: Endpoint) -> dict:
    """Аргументы CreateBucket для boto3: LocationConstraint только вне us-east-1.

    Ceph RGW принимает лишь свою зону, AWS — отвергает us-east-1 в LocationConstraint."""
    if endpoint.region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": endpoint.region}}


def storage_options(endpoint: Endpoint) -> dict:
    """storage_options для pandas: s3fs поверх aiobotocore с теми же настройками, что у boto3."""
    import s3fs
    from aiobotocore.session import AioSession

    # aiohttp ждёт ответа «100 Continue» без всякого таймаута: запись на зависший сервер висела бы
    # вечно (aio-libs/aiohttp + botocore, marin-community/marin#6719). Заголовок Expect не подписан
    # (SigV4 его пропускает), поэтому его можно убрать перед отправкой.
    session = AioSession()
    session.register("before-send.s3", _drop_expect_header)
    # Свои повторы s3fs (5 попыток с паузами) поверх повторов botocore превращают зависший
    # сервер в минуту тишины; параметра для них нет — только атрибут класса. Оставляем одну попытку.
    s3fs.S3FileSystem.retries = 1
    config = _botocore_config_kwargs(endpoint)
    del config["signature_version"]  # s3fs задаёт подпись сам
    return {
        "key": endpoint.access_key,
        "secret": endpoint.secret_key,
        "endpoint_url": endpoint.url,
        "client_kwargs": {"region_name": endpoint.region, "verify": _verify(endpoint)},
        "config_kwargs": config,
        "session": session,
        "skip_instance_cache": True,
    }


def _drop_expect_header(request, **_) -> None:  # ответ None: обработчик лишь правит запрос
    request.headers.pop("Expect", None)


def duckdb_connect(endpoint: Endpoint):
    """Соединение DuckDB с загруженным httpfs и секретом S3 этого эндпоинта."""
    import certifi
    import duckdb

    con = duckdb.connect()
    try:  # httpfs из колеса duckdb-extension-httpfs — работает без интернета (duckdb/duckdb#3315)
        import duckdb_extension_httpfs

        con.load_extension(str(next(Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
    except (ImportError, StopIteration):
        con.install_extension("httpfs")
        con.load_extension("httpfs")
    con.execute(f"SET http_timeout = {READ_TIMEOUT}")  # секунды без ответа
    con.execute("SET http_retries = 0")  # COPY и так повторяет PUT сам, 2–3 раза
    # Тот же набор CA, что у boto3 и minio (certifi), или свой CA из <ИМЯ>_CA_BUNDLE; проверка включена всегда.
    con.execute("SET enable_curl_server_cert_verification = true")
    con.execute(f"SET ca_cert_file = {_sql_text(endpoint.ca_bundle or certifi.where())}")
    con.execute(f"""
        CREATE SECRET lecture (
            TYPE s3,
            KEY_ID {_sql_text(endpoint.access_key)},
            SECRET {_sql_text(endpoint.secret_key)},
            REGION {_sql_text(endpoint.region)},     -- не-AWS хранилищам регион тоже нужен (duckdb/duckdb#9778)
            ENDPOINT {_sql_text(endpoint.host)},     -- без схемы (duckdb/duckdb-httpfs#15)
            USE_SSL {str(endpoint.secure).lower()},
            URL_STYLE {_sql_text(endpoint.url_style)} -- в кавычках, иначе молча игнорируется (duckdb-httpfs#153)
        )""")
    return con


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ── Ошибки: одна строка на эндпоинт, дальше — следующий ─────────────────────────────────────────

EXPLANATIONS = {
    "SignatureDoesNotMatch": "подпись не сошлась — проверьте {p}_SECRET_KEY",
    "InvalidAccessKeyId": "такого ключа доступа нет — проверьте {p}_ACCESS_KEY",
    "InvalidClientTokenId": "такого ключа доступа нет — проверьте {p}_ACCESS_KEY",
    "AccessDenied": "доступ запрещён — проверьте ключи {p}_ACCESS_KEY/{p}_SECRET_KEY и права на бакет",
    "NoSuchBucket": "бакета нет — бакеты лекции создаёт create_bucket.py (шаг 6)",
    "NoSuchKey": "объекта нет — его записывает один из предыдущих шагов",
    "404": "не найдено — бакет или объект ещё не создан (бакеты лекции создаёт create_bucket.py, шаг 6)",
    "403": "доступ запрещён — проверьте ключи {p}_ACCESS_KEY/{p}_SECRET_KEY и права на бакет",
    "BucketAlreadyExists": "имя бакета занято другим владельцем (имена в облаке глобальны) — смените {p}_BUCKET",
    "BucketNotEmpty": "бакет не пуст — S3 удаляет только пустые бакеты",
    "InvalidLocationConstraint": "хранилище не принимает этот регион — проверьте {p}_REGION",
    "IllegalLocationConstraintException": "хранилище не принимает этот регион — проверьте {p}_REGION",
    "XAmzContentSHA256Mismatch": "хранилище не приняло контрольную сумму загрузки",
    "MissingContentLength": "хранилище не приняло загрузку без Content-Length (контрольные суммы boto3)",
    "RequestTimeTooSkewed": "часы компьютера расходятся с часами сервера — синхронизируйте время",
    "таймаут": "сервер не ответил вовремя — провайдер недоступен или перегружен",
    "нет соединения": "не удалось подключиться — сервер не запущен или адрес {p}_ENDPOINT_URL неверен",
    "TLS": "сертификат сервера не проверен — для своего CA задайте {p}_CA_BUNDLE",
}
# Что лекция пишет сама (регулярные выражения ключей по бакетам): только это удаляет cleanup.py
# и только здесь отменяются незавершённые составные загрузки. Чужие ключи лекция не трогает.
# Основной бакет создаёт пользователь; остальные — лекция (их имена выводятся из основного).
LECTURE_KEYS = {
    "bucket": r"(boto3|minio)/titanic\.csv|extras/.+",
    "duckdb_bucket": r"titanic\.parquet|titanic_by_class/Pclass=\d+/data_\d+\.parquet|pushdown/.+",
    "pandas_bucket": r"titanic\.(parquet|csv)",
    "versions_bucket": r"extras/.+",
    "temp_bucket": r"",  # шаг 5 ничего в него не кладёт
}
_NO_CLEANUP = {"таймаут", "TLS", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403"}
_failed: list[str] = []
_passed: list[str] = []


@contextmanager
def endpoint_block(endpoint: Endpoint) -> Iterator[None]:
    """Блок одного эндпоинта: заголовок, а ожидаемая ошибка — одна строка ✗ вместо трассировки.

    После сбоя (и по Ctrl-C) отменяет незавершённые составные загрузки лекции: объект в S3
    появляется только целиком, но начатые части занимают место, пока загрузку не отменят."""
    console.rule(f"[bold]{endpoint.name}[/]  {endpoint.url}  ключ {mask_key(endpoint.access_key)}", style="cyan")
    try:
        yield
    except (KeyboardInterrupt, Exception) as error:  # ниже отбираются только ожидаемые семейства ошибок
        code = "прервано" if isinstance(error, KeyboardInterrupt) else _error_code(error)
        if code is None:
            raise
        if code == "прервано":  # Ctrl-C (DuckDB превращает его в свою InterruptException)
            fail(f"{endpoint.name}: прервано (Ctrl-C){_abort_lecture_uploads(endpoint)}")
            raise SystemExit(130) from None
        explanation = EXPLANATIONS.get(code, "").format(p=endpoint.prefix) or _error_message(error)
        aborted = "" if code in _NO_CLEANUP else _abort_lecture_uploads(endpoint)
        fail(f"{endpoint.name}: {code + ' — ' if code else ''}{_mask(explanation, endpoint)}{aborted}")
        _failed.append(endpoint.name)
    else:
        _passed.append(endpoint.name)


def _abort_lecture_uploads(endpoint: Endpoint) -> str:
    """Отменяет незавершённые загрузки ключей лекции; сервер может быть уже недоступен — тогда молча."""
    aborted, s3 = 0, boto3_client(endpoint)
    for upload in lecture_uploads(s3, endpoint):
        try:
            s3.abort_multipart_upload(Bucket=upload["Bucket"], Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
        except Exception:  # noqa: BLE001, S110 — уборка после сбоя не должна порождать второй сбой
            pass
    return f"; незавершённых загрузок отменено: {aborted}" if aborted else ""


def lecture_uploads(s3, endpoint: Endpoint) -> list[dict]:
    """Незавершённые составные загрузки ключей лекции во всех её бакетах (нет бакета — нет загрузок)."""
    from botocore.exceptions import ClientError

    found = []
    for attribute, pattern in LECTURE_KEYS.items():
        bucket = getattr(endpoint, attribute)
        try:
            uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        except ClientError:  # бакета нет — нет и загрузок
            continue
        except Exception:  # noqa: BLE001 — сервер недоступен: спрашивать остальные бакеты бесполезно
            break
        found += [dict(upload, Bucket=bucket) for upload in uploads if re.fullmatch(pattern, upload["Key"])]
    return found


def _error_chain(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


_CLIENT_MODULES = {"botocore", "aiobotocore", "boto3", "s3transfer", "minio", "urllib3", "duckdb", "_duckdb",
                   "s3fs", "fsspec", "aiohttp", "ssl"}
_KNOWN_CODES = "|".join(code for code in EXPLANATIONS if code.isascii() and code[0].isupper())


def _error_code(error: BaseException) -> str | None:
    """S3-код ошибки или её семейство; None — ошибка не из S3-клиентов (это баг, пусть видна трассировка)."""
    if isinstance(error, AssertionError):  # common.check: текст уже объясняет, что не так
        return ""
    chain = list(_error_chain(error))
    if not any(type(e).__module__.split(".")[0] in _CLIENT_MODULES or isinstance(e, OSError) for e in chain):
        return None
    for item in chain:  # код, который вернул сам S3-сервер
        response = getattr(item, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code"):
            return str(response["Error"]["Code"])
        if type(item).__module__.startswith("minio") and getattr(item, "code", None):
            return str(item.code)
    text = " / ".join(f"{type(e).__name__}: {e}" for e in chain)
    lowered = text.lower()
    if "interrupt" in lowered:
        return "прервано"
    if match := re.search(rf"<Code>(\w+)</Code>|\b({_KNOWN_CODES})\b", text):
        return match.group(1) or match.group(2)
    if "timeout" in lowered or "timed out" in lowered:
        return "таймаут"
    if re.search(r"certif|ssl server verification|sslerror|sslcert|handshake", lowered):
        return "TLS"
    if match := re.search(r"HTTP (?:code )?(\d{3})\b", text):
        return match.group(1)
    if any(word in lowered for word in ("connect", "refused", "name or service", "resolve", "reset by peer")):
        return "нет соединения"
    if any(isinstance(e, FileNotFoundError) for e in chain):
        return "404"
    if any(isinstance(e, PermissionError) for e in chain):
        return "403"
    return type(error).__name__


def _error_message(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else "без сообщения от сервера"


def _mask(text: str, endpoint: Endpoint) -> str:
    for secret in (endpoint.secret_key, endpoint.access_key):
        if secret:
            text = text.replace(secret, mask_key(secret))
    return text


def mask_key(key: str) -> str:
    return f"{key[:4]}…{key[-3:]}" if len(key) > 10 else "…"


# ── Вывод ───────────────────────────────────────────────────────────────────────────────────────

def header(title: str) -> None:
    console.print(f"\n[bold magenta]{title}[/]")


def ok(text: str) -> None:
    console.print(f"[bold green]✓[/] {text}")


def fail(text: str) -> None:
    console.print(f"[bold red]✗[/] {text}")


def table(title: str, columns: list[str], rows: list[list]) -> None:
    view = Table(title=title, title_justify="left", header_style="bold cyan")
    for column in columns:
        view.add_column(column)
    for row in rows:  # словарь (метаданные, теги) — «ключ=значение» по алфавиту
        view.add_row(*(", ".join(f"{k}={v}" for k, v in sorted(cell.items())) if isinstance(cell, dict) else str(cell)
                       for cell in row))
    console.print(view)


def user_metadata(headers) -> dict:
    """Свои метаданные объекта из заголовков ответа (minio отдаёт их все): x-amz-meta-client → client."""
    return {k.lower().removeprefix("x-amz-meta-"): v for k, v in headers.items() if k.lower().startswith("x-amz-meta-")}


def human_size(size: int) -> str:
    for unit in ("Б", "КиБ", "МиБ", "ГиБ"):
        if size < 1024 or unit == "ГиБ":
            return f"{size:.0f} {unit}" if unit == "Б" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def check(condition: bool, good: str, bad: str) -> None:
    """✓ good — или ошибка этого эндпоинта с текстом bad."""
    if not condition:
        raise AssertionError(bad)
    ok(good)


def agree(flag: bool) -> str:
    return "[green]✓[/]" if flag else "[red]✗[/]"


def summary() -> int:
    """Итоговая строка шага; код выхода 0 — все эндпоинты прошли, 1 — хотя бы один нет."""
    total = len(_passed) + len(_failed)
    if _failed:
        console.print(f"\n[bold red]{len(_passed)} из {total} эндпоинтов: ОК[/] (ошибки: {', '.join(_failed)})")
        return 1
    console.print(f"\n[bold green]{total} из {total} эндпоинтов: ОК[/]")
    return 0
