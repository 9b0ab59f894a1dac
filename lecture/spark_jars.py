"""Jar-файлы S3A для Spark (шаг 21): ровно те версии, что ждёт Hadoop 3.5.0 из pyspark 4.3.0, с SHA-256.

Скачиваются один раз в кэш (~/.cache/s3-lecture/spark-jars или $XDG_CACHE_HOME), каждый отдельно, без
транзитивных зависимостей: POM Hadoop называют репозитории вне Maven Central. Здесь же — чем запускать
Spark (pyspark и Java 17+) и что сказать, если этого нет.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import urllib.request
from importlib.util import find_spec
from pathlib import Path
from typing import NamedTuple

# Откуда брать jar: Maven Central (или его зеркало — S3_LECTURE_MAVEN_REPOSITORY).
REPOSITORY = "https://repo.maven.apache.org/maven2"
DOWNLOAD_TIMEOUT = 30  # секунд тишины при скачивании jar


class Jar(NamedTuple):
    group: str
    artifact: str
    version: str
    sha256: str
    size: int

    @property
    def file(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    def url(self, repository: str) -> str:
        return f"{repository.rstrip('/')}/{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file}"


# Версии — из POM hadoop-aws 3.5.0 и его родителя hadoop-project 3.5.0 (Hadoop внутри pyspark 4.3.0).
JARS = (
    Jar("org.apache.hadoop", "hadoop-aws", "3.5.0",
        "66bd9eefb938b1a1657487324b63c13df2d8b17164a1dd24e0ef37b905bc5baa", 938_071),
    # AWS SDK для Java целиком: S3A зовёт его классы напрямую (686 МБ — самая большая часть главы).
    Jar("software.amazon.awssdk", "bundle", "2.35.4",
        "db4b55f24ad1b4e70f17eb1717a4de76a8dadc5a27d764be7c44ff67b2c1c677", 686_119_507),
    # Нужен S3AFileSystem при запуске, даже когда поток чтения — classic (ниже).
    Jar("software.amazon.s3.analyticsaccelerator", "analyticsaccelerator-s3", "1.3.1",
        "4959a9747cbb479c73c3ffbcd479bee5b014f8b2880994585a8693fb9d24675e", 2_473_459),
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "s3-lecture" / "spark-jars"


def java_command() -> str | None:
    """java, которую запустит pyspark: из JAVA_HOME, иначе из PATH."""
    home = os.environ.get("JAVA_HOME", "").strip()
    return str(Path(home, "bin", "java")) if home else shutil.which("java")


def missing() -> str | None:
    """Чего не хватает для Spark — одна строка «что поставить»; None — всё есть."""
    if find_spec("pyspark") is None:
        return "pyspark не установлен: poetry install --with spark"
    java = java_command()
    if java is None or not Path(java).exists():
        return "нет Java (нужна 17+): apt-get install openjdk-17-jre-headless или JAVA_HOME"
    try:
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as error:
        return f"java не запускается ({type(error).__name__}): нужна Java 17+"
    found = re.search(r'version "(\d+)', probe.stderr)
    if probe.returncode != 0 or not found:
        return f"java не запускается (код {probe.returncode}): нужна Java 17+"
    if int(found.group(1)) < 17:
        return f"Java {found.group(1)} слишком старая: Spark 4 нужна 17+"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> str:
    state = path.stat()
    return f"{state.st_size} {state.st_mtime_ns}"


def _verified(jar: Jar, path: Path) -> bool:
    """Jar в кэше — тот, что закреплён: SHA-256 сверен при скачивании, а отметка рядом помнит размер и
    время файла (686 МБ не пересчитывать при каждом запуске). Файл тронут — сверяем заново."""
    mark = path.with_name(path.name + ".verified")
    try:
        if mark.is_file() and mark.read_text() == f"{jar.sha256} {_stamp(path)}":
            return True
        if not path.is_file() or path.stat().st_size != jar.size or _sha256(path) != jar.sha256:
            return False
        mark.write_text(f"{jar.sha256} {_stamp(path)}")
        return True
    except OSError:
        return False


class DownloadFailed(Exception):
    """Jar не скачать или он не тот: текст говорит, какой и что делать."""


def jars(console=None) -> list[Path]:
    """Пути к трём jar в кэше. Недостающие скачиваются по одному с полосой прогресса (rich) в console;
    каждый сверяется по SHA-256 до того, как лечь в кэш. Битый файл в кэше скачивается заново."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    folder = cache_dir()
    paths = [folder / jar.file for jar in JARS]
    needed = [(jar, path) for jar, path in zip(JARS, paths, strict=True) if not _verified(jar, path)]
    if not needed:
        return paths
    total = sum(jar.size for jar, _ in needed) / 1e6
    line = f"Spark: скачиваю jar S3A один раз — {len(needed)}, {total:.0f} МБ — в {folder}"
    console.print(line, highlight=False) if console else print(line)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console) as progress:
        for jar, path in needed:
            _download(jar, path, progress)
    return paths


def _download(jar: Jar, path: Path, progress) -> None:
    repository = os.environ.get("S3_LECTURE_MAVEN_REPOSITORY", "").strip() or REPOSITORY
    url = jar.url(repository)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    task = progress.add_task(f"{jar.artifact} {jar.version}", total=jar.size) if progress else None
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as answer, partial.open("wb") as file:
            for block in iter(lambda: answer.read(1 << 20), b""):
                file.write(block)
                digest.update(block)
                if progress:
                    progress.advance(task, len(block))
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DownloadFailed(f"{jar.file} не скачать из {repository} ({type(error).__name__}): нужен доступ "
                             "к Maven Central один раз (или S3_LECTURE_MAVEN_REPOSITORY — его зеркало)") from None
    if digest.hexdigest() != jar.sha256:
        partial.unlink(missing_ok=True)
        raise DownloadFailed(f"{jar.file} из {repository}: SHA-256 не тот, что закреплён в lecture/spark_jars.py — "
                             "файл подменён или повреждён, в кэш не положен")
    partial.replace(path)
    path.with_name(path.name + ".verified").write_text(f"{jar.sha256} {_stamp(path)}")
