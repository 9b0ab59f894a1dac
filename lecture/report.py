"""Ошибка самой лекции: одна красная строка в зале, вся трассировка — в файле отчёта.

Исключение, которое failures не узнал, — не сбой провайдера, а ошибка в лекции или в библиотеке.
Зал видит одну строку: тип исключения, откуда оно (minio, aiohttp, duckdb… или «лекция» — модули
проекта), первая строка сообщения с замаскированными ключами и путь к отчёту. Отчёт (права 600)
хранит трассировку целиком, версии Python и клиентов, имя и адрес эндпоинта — но не ключи.
Код выхода такого шага — 4: тесты и CI ловят ошибку лекции, даже когда зал видит одну строку.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import time
import traceback
from importlib import metadata
from pathlib import Path

BUG = 4  # код выхода: ошибка лекции
CLIENTS = ("boto3", "botocore", "minio", "duckdb", "s3fs", "aiobotocore", "pandas", "pyarrow")
_PROJECT = Path(__file__).resolve().parent.parent
_STDLIB = {Path(sysconfig.get_paths()[name]).resolve() for name in ("stdlib", "platstdlib")}


def origin(error: BaseException) -> str:
    """Откуда исключение: библиотека самого глубокого кадра трассировки, не из стандартной библиотеки;
    модули проекта — «лекция»."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        where = Path(frame.filename).resolve()
        if "site-packages" in where.parts or "dist-packages" in where.parts:
            parts = where.parts
            top = parts[max(parts.index(p) for p in ("site-packages", "dist-packages") if p in parts) + 1]
            return top.removesuffix(".py")
        if _PROJECT in where.parents and ".venv" not in where.parts:
            return "лекция"
        if not any(root in where.parents for root in _STDLIB):
            return where.stem
    return "лекция"


def write(error: BaseException, script: str, endpoint=None, mask=lambda text: text) -> Path | None:
    """Файл отчёта в каталоге состояния (права 600); None — записать не удалось."""
    from lecture import journal

    versions = []
    for name in CLIENTS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    lines = [f"Ошибка лекции: {script}", time.strftime("%Y-%m-%d %H:%M:%S %z"),
             f"Python {platform.python_version()} ({sys.platform})", ", ".join(versions)]
    if endpoint is not None:
        lines.append(f"эндпоинт {endpoint.name}: {endpoint.url}")
    lines += ["", *traceback.format_exception(error)]
    text = mask("\n".join(line.rstrip("\n") for line in lines) + "\n")
    folder = journal.state_dir() / "reports"
    where = f"-{endpoint.name}" if endpoint is not None else ""
    target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(script).stem}{where}-{os.getpid()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError:
        return None
    return target


def line(error: BaseException, report: Path | None, mask=lambda text: text) -> str:
    """«ошибка лекции: KeyError (лекция): 'Buckets'; отчёт: …/reports/….txt»"""
    message = str(error).strip().splitlines()
    first = mask(message[0]) if message else ""
    where = f"; отчёт: {report}" if report else "; отчёт записать не удалось"
    return f"ошибка лекции — {type(error).__name__} ({origin(error)})" + (f": {first}" if first else "") + where
