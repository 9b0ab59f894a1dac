"""Настройки лекции: эндпоинты из окружения и .env, файл данных — и их проверка до первого запроса.

Всё, что не так, — исключение Invalid с русским текстом, который называет переменную;
common превращает его в «Ошибка настройки: …» и код выхода 2. Правила имён бакетов —
полные правила S3 (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
"""

from __future__ import annotations

import csv
import ipaddress
import os
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent
TITANIC_URL = "https://raw.githubusercontent.com/datasciencedojo/datasets/master/titanic.csv"
# Остальные бакеты лекции называются от основного: имена бакетов в облаке глобальны.
SUFFIXES = {"duckdb": "-duckdb", "pandas": "-pandas", "temp": "-tmp", "versions": "-ver", "public": "-pub",
            "compat": "-compat", "spark": "-spark"}

TITANIC_COLUMNS = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age",
                   "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"]
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class Invalid(Exception):
    """Настройка неверна: текст говорит, какая переменная и что с ней."""


def read_dotenv() -> None:
    """.env в текущем каталоге дополняет окружение (переменная окружения важнее строки в .env)."""
    dotenv = Path.cwd() / ".env"
    try:
        for key, value in dotenv_values(dotenv).items() if dotenv.is_file() else ():
            os.environ.setdefault(key, value or "")
    except UnicodeDecodeError:
        raise Invalid(f"{dotenv} не в кодировке UTF-8 (например, Windows-1251): пересохраните его в UTF-8") from None


def endpoint_names() -> list[str]:
    """Имена из S3_ENDPOINTS (окружение и .env)."""
    read_dotenv()
    names = [name.strip() for name in os.environ.get("S3_ENDPOINTS", "").split(",") if name.strip()]
    if not names:
        raise Invalid("не задан S3_ENDPOINTS. Скопируйте .env.example в .env и запустите локальный S3: "
                      "docker-compose up -d или python local_s3.py; либо всю лекцию: python run_demo.py")
    if problem := names_problem(names):
        raise Invalid(problem)
    return names


def endpoint(name: str) -> dict:
    """Поля записи Endpoint для эндпоинта name, проверенные."""
    variables = prefix(name)

    def var(suffix: str, default: str | None = None) -> str:
        value = os.environ.get(f"{variables}_{suffix}", "").strip() or default
        if value is None:
            raise Invalid(f"эндпоинт «{name}» указан в S3_ENDPOINTS, но не задана переменная {variables}_{suffix}")
        return value

    url, bucket = var("ENDPOINT_URL"), var("BUCKET")
    region, url_style = var("REGION", "us-east-1"), var("URL_STYLE", "path").lower()
    if url_style not in ("path", "vhost"):
        raise Invalid(f"{variables}_URL_STYLE={url_style!r}: допустимо path или vhost")
    for problem in (url_problem(f"{variables}_ENDPOINT_URL", url, url_style),
                    region_problem(f"{variables}_REGION", region)):
        if problem:
            raise Invalid(problem)
    if problem := bucket_problem(bucket):
        raise Invalid(f"{variables}_BUCKET={bucket!r}: имя бакета по правилам S3 — {problem}")
    for suffix in SUFFIXES.values():
        if problem := bucket_problem(bucket + suffix):
            raise Invalid(f"{variables}_BUCKET={bucket!r}: бакет лекции {bucket + suffix} нарушает правила S3 "
                          f"({problem}): к основному имени добавляются суффиксы до 7 символов, оно — не длиннее 56")
    ca_bundle = var("CA_BUNDLE", "") or None
    if ca_bundle and not (Path(ca_bundle).is_file() and os.access(ca_bundle, os.R_OK)):
        raise Invalid(f"{variables}_CA_BUNDLE={ca_bundle!r}: файл не найден или не читается")
    return {"name": name, "url": url.rstrip("/"), "region": region, "bucket": bucket, "url_style": url_style,
            "ca_bundle": ca_bundle, "access_key": var("ACCESS_KEY"), "secret_key": var("SECRET_KEY")}


def data_file(download: bool, say) -> Path:
    """CSV «Титаника» (TITANIC_CSV, по умолчанию titanic.csv в корне); download — скачать, если его нет."""
    default = ROOT / "titanic.csv"
    path = Path(os.environ.get("TITANIC_CSV", "") or default)
    fetch = f"curl -fsSL -o {default} {TITANIC_URL}"  # подсказка не предлагает затереть чужой файл
    if not path.is_file() and download and path == default:
        say(f"Файла {path.name} нет: скачиваю {TITANIC_URL}")
        try:
            with urllib.request.urlopen(TITANIC_URL, timeout=10) as response:
                body = response.read()
        except OSError:
            raise Invalid(f"не удалось скачать файл данных. Скачайте его командой:\n  {fetch}") from None
        partial = path.with_name(path.name + ".part")  # полфайла не останется: сначала во временный
        partial.write_bytes(body)
        partial.replace(path)
    if not path.is_file():
        hint = fetch if path == default else f"curl -fsSL -o {path} {TITANIC_URL}"
        raise Invalid(f"нет файла данных {path}. Его скачивает шаг 3 (upload_object.py) или команда:\n  {hint}")
    if problem := titanic_problem(path):
        hint = "" if path == default else " и уберите TITANIC_CSV"
        raise Invalid(f"{path} не CSV «Титаника»: {problem}.\n  Скачайте настоящий{hint}: {fetch}")
    return path


def prefix(name: str) -> str:
    """Начало имён переменных эндпоинта: «yandex» → YANDEX_ENDPOINT_URL, YANDEX_BUCKET…"""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def names_problem(names: list[str]) -> str | None:
    for name in names:
        if not NAME.match(name):
            return f"S3_ENDPOINTS: имя «{name}» — латинские буквы, цифры, _ и -, начинается с буквы"
    prefixes = [prefix(name) for name in names]
    for name, variable in zip(names, prefixes, strict=True):
        if prefixes.count(variable) > 1:
            return f"S3_ENDPOINTS: эндпоинт «{name}» указан дважды (переменные {variable}_…)"
    return None


def url_problem(variable: str, url: str, url_style: str) -> str | None:
    """Адрес со схемой, хостом и портом, без пути, логина и пароля."""
    parts = urlsplit(url)
    name = variable.removesuffix("_ENDPOINT_URL")
    if parts.username or parts.password:  # сам адрес не печатаем: в нём пароль
        return f"{variable}: в адресе логин и пароль; ключи задаются в {name}_ACCESS_KEY и {name}_SECRET_KEY"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{variable}={url!r}: нужен адрес со схемой, например http://127.0.0.1:9000"
    try:
        parts.port  # noqa: B018 — urlsplit проверяет порт только при обращении
    except ValueError:
        return f"{variable}={url!r}: порт — число от 1 до 65535"
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"{variable}={url!r}: адрес без пути; бакет задаётся в {name}_BUCKET"
    if url_style == "vhost" and _is_ip(parts.hostname):
        return f"{variable}={url!r}: с IP-адресом стиль vhost невозможен (бакет становится частью имени хоста)"
    return None


def region_problem(variable: str, region: str) -> str | None:
    if not REGION.match(region):
        return f"{variable}={region!r}: регион пишется как us-east-1 или ru-central1 (без пробелов)"
    return None


def bucket_problem(name: str) -> str | None:
    """Что нарушает имя бакета по правилам S3, или None."""
    if not 3 <= len(name) <= 63:
        return "от 3 до 63 символов"
    if name != name.lower():
        return "только строчные буквы, а в имени есть заглавные"
    if not all(LABEL.match(label) for label in name.split(".")):
        return "строчные латинские буквы, цифры, точки и дефисы; в начале и в конце, и рядом с точкой — буква или цифра"
    if _is_ip(name):
        return "не в виде IP-адреса"
    for reserved in RESERVED_PREFIXES:
        if name.startswith(reserved):
            return f"не начинается с {reserved}"
    for reserved in RESERVED_SUFFIXES:
        if name.endswith(reserved):
            return f"не кончается на {reserved}"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def titanic_problem(path: Path) -> str | None:
    """Что не так с CSV «Титаника»: заголовок и каждая строка (числа там, где их ждут DuckDB и pandas)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:  # -sig: BOM от Excel не мешает
            rows = csv.reader(file)
            if next(rows, None) != TITANIC_COLUMNS:
                return f"ожидались столбцы {','.join(TITANIC_COLUMNS)}"
            for number, row in enumerate(rows, start=2):
                if problem := _row_problem(row):
                    return f"строка {number}: {problem}"
    except UnicodeDecodeError:
        return "файл не в кодировке UTF-8"
    except csv.Error:  # поле длиннее предела модуля csv или испорченные кавычки
        limit = csv.field_size_limit()
        return f"строка {rows.line_num}: CSV не разобрать — поле длиннее {limit} символов или кавычки не закрыты"
    return None


def _row_problem(row: list[str]) -> str | None:
    if len(row) != len(TITANIC_COLUMNS):
        return f"{len(row)} полей вместо {len(TITANIC_COLUMNS)}"
    record = dict(zip(TITANIC_COLUMNS, row, strict=True))
    checks = {"PassengerId": str.isdigit, "Survived": lambda v: v in ("0", "1"), "Pclass": str.isdigit,
              "Sex": lambda v: v in ("male", "female"), "SibSp": str.isdigit, "Parch": str.isdigit,
              "Age": _number_or_empty, "Fare": _number_or_empty}
    for column, valid in checks.items():
        if not valid(record[column]):
            return f"в столбце {column} недопустимое значение {record[column]!r}"
    return None


def _number_or_empty(value: str) -> bool:
    try:
        return value == "" or float(value) >= 0
    except ValueError:
        return False
