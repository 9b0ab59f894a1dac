"""Журнал записанного: что лекция создала в S3 — бакеты, объекты, версии, составные загрузки.

cleanup.py удаляет ровно это, а после сбоя лекция отменяет ровно свои загрузки. Журнал — база
SQLite (модуль sqlite3 стандартной библиотеки) в каталоге состояния пользователя, а не в
каталоге запуска: другой клон проекта или каталог только для чтения ему не мешают.
- где: S3_LECTURE_STATE_DIR, иначе $XDG_STATE_HOME/s3-lecture (~/.local/state/s3-lecture),
  на macOS ~/Library/Application Support/s3-lecture, в Windows %LOCALAPPDATA%\\s3-lecture;
- записи — с упреждением: сначала «собираюсь создать» (intend), после ответа — «создано» с тем,
  что ответил сервер (confirm), или «не вышло» (forget). Не записалось намерение — запроса нет;
- каждая запись — своя транзакция; WAL и ожидание блокировки: несколько лекций сразу не мешают;
- эндпоинт в журнале — нормализованный адрес (схема, хост, порт; localhost = 127.0.0.1)
  и отпечаток ключа доступа (сам ключ не пишется): у одного сервера бывает много аккаунтов.
Испорченный или недоступный журнал — исключение Unavailable с текстом «что делать».
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

FILE = "journal.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS writes (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,      -- нормализованный адрес эндпоинта: http://127.0.0.1:9000
    account TEXT NOT NULL,      -- отпечаток ключа доступа
    time REAL NOT NULL,
    pid INTEGER NOT NULL,
    op TEXT NOT NULL,           -- bucket, bucket-deleted, object, deleted, upload, upload-done
    state TEXT NOT NULL,        -- intent: запрос отправляется; done: сервер ответил 2xx
    bucket TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    version TEXT,               -- VersionId (бакет с версиями)
    etag TEXT,
    modified TEXT,              -- не позже этого момента (Date ответа сервера) объект был записан
    upload TEXT                 -- UploadId составной загрузки
)"""
COLUMNS = ("id", "address", "account", "time", "pid", "op", "state", "bucket", "key", "version", "etag",
           "modified", "upload")
FACTS = {"version", "etag", "modified", "upload"}


class Unavailable(Exception):
    """Журнал не открыть, не прочитать или не записать: текст называет файл и что делать."""


_lock = threading.Lock()  # рабочие потоки boto3 и minio пишут в журнал одновременно
_connection: sqlite3.Connection | None = None
_opened_for: Path | None = None


def state_dir() -> Path:
    """Каталог состояния лекции: журнал и отчёты об ошибках."""
    if override := os.environ.get("S3_LECTURE_STATE_DIR", "").strip():
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "s3-lecture"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "s3-lecture"
    return Path(os.environ.get("XDG_STATE_HOME", "").strip() or home / ".local" / "state") / "s3-lecture"


def path() -> Path:
    return state_dir() / FILE


def address(url: str) -> str:
    """Один сервер — один адрес: схема и хост в нижнем регистре, порт явно, localhost — 127.0.0.1."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or (443 if scheme == "https" else 80)
    if _loopback(host):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"  # IPv6 в адресе — в скобках
    return f"{scheme}://{host}:{port}"


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def account(access_key: str) -> str:
    return hashlib.sha256(access_key.encode()).hexdigest()[:12]


def _problem(error: BaseException) -> Unavailable:
    where = path()
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return Unavailable(f"журнал лекции {where} испорчен ({error}). Переименуйте его — лекция начнёт новый; "
                           "то, что записано по старому, cleanup.py уже не уберёт")
    return Unavailable(f"журнал лекции {where} не записать ({error}). Освободите место или задайте "
                       "S3_LECTURE_STATE_DIR — каталог, куда можно писать")


def _open() -> sqlite3.Connection:
    global _connection, _opened_for
    where = path()
    if _connection is not None and _opened_for == where:
        return _connection
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(where, timeout=5, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout = 5000")  # другая лекция пишет — подождать, а не упасть
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(SCHEMA)
        connection.execute("CREATE INDEX IF NOT EXISTS by_endpoint ON writes (address, account, id)")
    except (OSError, sqlite3.Error) as error:
        raise _problem(error) from None
    _connection, _opened_for = connection, where
    _import_old_journal(connection)
    return connection


def _run(sql: str, values: tuple = ()) -> sqlite3.Cursor:
    with _lock:
        connection = _open()
        try:
            return connection.execute(sql, values)
        except sqlite3.Error as error:
            raise _problem(error) from None


def ensure_writable() -> None:
    """Журнал открывается и принимает запись: проверка до первого запроса, который что-то создаст."""
    _run("BEGIN IMMEDIATE")
    _run("COMMIT")


def intend(endpoint, op: str, bucket: str, key: str = "") -> int:
    """«Собираюсь создать»: запись до запроса. Не записалась — Unavailable, и запроса не будет."""
    cursor = _run("INSERT INTO writes (address, account, time, pid, op, state, bucket, key) "
                  "VALUES (?, ?, ?, ?, ?, 'intent', ?, ?)",
                  (address(endpoint.url), account(endpoint.access_key), time.time(), os.getpid(), op, bucket, key))
    return cursor.lastrowid


def confirm(row: int, **facts) -> None:
    """Сервер ответил 2xx: создано; facts — что он сообщил (version, etag, modified, upload)."""
    values = {name: value for name, value in facts.items() if name in FACTS}
    assignments = "".join(f", {name} = ?" for name in values)
    _run(f"UPDATE writes SET state = 'done'{assignments} WHERE id = ?", (*values.values(), row))


def forget(row: int) -> None:
    """Сервер ответил отказом: ничего не создано."""
    _run("DELETE FROM writes WHERE id = ?", (row,))


def record(endpoint, op: str, bucket: str, key: str = "", **facts) -> None:
    """Запись задним числом — то, о чём узнали по ответу (удаления, запросы DuckDB)."""
    row = intend(endpoint, op, bucket, key)
    confirm(row, **facts)


def entries(endpoint) -> list[dict]:
    """Всё, что лекция записала на этом эндпоинте этим аккаунтом, по порядку (и намерения тоже)."""
    cursor = _run(f"SELECT {', '.join(COLUMNS)} FROM writes WHERE address = ? AND account = ? ORDER BY id",
                  (address(endpoint.url), account(endpoint.access_key)))
    return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def other_addresses(endpoint) -> list[str]:
    """Другие адреса, где журнал помнит записи того же ключа доступа: тот же сервер через другой порт?"""
    cursor = _run("SELECT DISTINCT address FROM writes WHERE account = ? AND address != ? ORDER BY address",
                  (account(endpoint.access_key), address(endpoint.url)))
    return [row[0] for row in cursor.fetchall()]


def set_upload(row: int, upload: str) -> None:
    """UploadId, который стал известен позже (DuckDB его не сообщает, его находит ListMultipartUploads)."""
    _run("UPDATE writes SET upload = ? WHERE id = ?", (upload, row))


def _import_old_journal(connection: sqlite3.Connection) -> None:
    """Журнал прошлой версии лекции (.s3-lecture/journal.jsonl в каталоге запуска) переносится сюда один раз;
    испорченные строки пропускаются, файл переименовывается в journal.jsonl.imported."""
    old = Path.cwd() / ".s3-lecture" / "journal.jsonl"
    if not old.is_file():
        return
    try:
        lines = old.read_text(encoding="utf-8", errors="replace").splitlines()
        old.replace(old.with_name("journal.jsonl.imported"))
    except OSError:
        return  # каталог только для чтения: старый журнал останется, как был
    for line in lines:
        try:
            entry = json.loads(line)
            url, fingerprint = entry["account"].rsplit(" ", 1)
            values = (address(url), fingerprint, float(entry["time"]), int(entry.get("pid") or 0), entry["op"],
                      entry["bucket"], entry.get("key") or "", entry.get("version"), entry.get("etag"),
                      entry.get("upload"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if entry["op"] == "upload" and not entry.get("upload"):
            continue  # UploadId не записан (так бывало с DuckDB): отменять нечего
        connection.execute("INSERT INTO writes (address, account, time, pid, op, state, bucket, key, version, "
                           "etag, upload) VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?)", values)
