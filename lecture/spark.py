"""Spark (шаг 21): сессия Spark с S3A — клиентом S3 из Hadoop на AWS SDK для Java — из записей Endpoint.

Здесь — жизнь сессии и то, что шаг делает в ней; остальное — в соседних модулях, по одной идее:
- чем запускать и три jar-файла S3A с SHA-256 в кэше — spark_jars (missing(), jars());
- настройки Spark и S3A по бакетам эндпоинтов, хранилище доверия Java — spark_conf;
- ошибка Java → исключение Python, понятное failures, — spark_errors.
Сессия кончается всегда: spark.stop(), а JVM, если не вышла сама, убивается — ничего не остаётся.
Ключи не попадают в командную строку JVM (её видит ps): их получает уже запущенная JVM.
Записанное Spark (его запросы идут мимо Python) лекция вносит в журнал сама: record_written.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lecture import deadline, failures, journal
from lecture.spark_conf import s3a_bucket, s3a_defaults, s3a_keys, spark_settings, trust_options
from lecture.spark_errors import python_error
from lecture.spark_jars import DownloadFailed, cache_dir, jars, missing  # noqa: F401 — шагу

# Сколько ждать JVM: запуск — секунды (на двух занятых ядрах до 30 с), остановка — секунды.
START_TIMEOUT = 90
STOP_TIMEOUT = 10
MASTER = "local[2]"  # SPARK_MASTER=spark://хост:7077 — и тот же шаг идёт на кластере


def log_path() -> Path:
    """Вывод JVM (журнал Spark с трассировками Java) — в файл рядом с журналом лекции, не в зал."""
    return journal.state_dir() / "spark.log"


# ── Сессия ──────────────────────────────────────────────────────────────────────────────────────

class Buckets:
    """Бакет S3A — чей он: одна сессия помнит, какой эндпоинт настроил какой бакет."""

    def __init__(self):
        self.owner: dict[str, str] = {}

    def claim(self, endpoint, bucket: str) -> bool:
        return self.owner.setdefault(bucket, endpoint.name) == endpoint.name


@contextmanager
def session(endpoints, buckets_of, connect_timeout: int, read_timeout: int, attempts: int,
            jar_paths: list[Path]) -> Iterator:
    """SparkSession с S3A для бакетов каждого эндпоинта (buckets_of(endpoint) → имена). Бакет с тем же
    именем у второго эндпоинта одна сессия отдать ему не может (S3A различает хранилища
    по имени бакета; их отвергнет jobs). На выходе — всегда: spark.stop() и JVM завершена."""
    # pyspark предупреждает о pandas 3 при импорте: pandas-API Spark шагу не нужен, залу — его предупреждение.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\.")
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    # py4j пишет о прерванном вызове logging.exception() — с трассировкой в stderr, через basicConfig корня.
    # Ctrl-C и срок объясняет блок эндпоинта одной строкой; у корневого журнала есть обработчик — тишина.
    logging.getLogger().addHandler(logging.NullHandler())
    master = os.environ.get("SPARK_MASTER", "").strip() or MASTER
    claims, shared = Buckets(), set()
    with tempfile.TemporaryDirectory(prefix="s3-lecture-spark-") as folder:
        scratch = Path(folder)
        settings = spark_settings(master, jar_paths, trust_options(endpoints, scratch), scratch)
        settings |= {f"spark.hadoop.{name}": value
                     for name, value in s3a_defaults(connect_timeout, read_timeout, attempts).items()}
        keys = {}
        for endpoint in endpoints:
            for bucket in buckets_of(endpoint):
                if not claims.claim(endpoint, bucket):
                    shared.add((endpoint.name, bucket))
                    continue
                settings |= {f"spark.hadoop.{k}": v for k, v in s3a_bucket(endpoint, bucket).items()}
                keys |= s3a_keys(endpoint, bucket)
        conf = SparkConf(loadDefaults=False).setAll(list(settings.items()))
        log_path().parent.mkdir(parents=True, exist_ok=True)
        handler = signal.getsignal(signal.SIGINT)
        gateway = spark = None
        if master.startswith("local"):  # иначе Spark ищет внешний адрес машины и пишет об этом в журнал
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

        with log_path().open("wb") as log:  # журнал последнего запуска
            try:
                # JVM: stdout и stderr — в файл; py4j ждёт её, пока не появится файл с её портом.
                gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
                context = SparkContext(conf=conf, gateway=gateway)
                # pyspark ставит свой обработчик Ctrl-C; прерыванием шага заведует deadline.
                signal.signal(signal.SIGINT, handler)
                hadoop = context._jsc.hadoopConfiguration()
                for name, value in keys.items():
                    hadoop.set(name, value)
                spark = SparkSession(context)
                _shared.clear()
                _shared.update(shared)
                yield spark
            finally:
                signal.signal(signal.SIGINT, handler)
                _stop(spark, gateway)


def _stop(spark, gateway) -> None:
    """spark.stop(), но не дольше STOP_TIMEOUT; после Ctrl-C или срока — сразу убить JVM: она могла
    застрять на запросе к S3, а ждать её незачем — в памяти нет ничего, что надо сохранить."""

    proc = getattr(gateway, "proc", None)
    if spark is not None and not deadline.interrupted():
        try:
            spark.stop()
        except Exception:  # noqa: BLE001 — JVM уже нет или она не отвечает: ниже её завершат
            pass
    if gateway is not None:
        try:
            gateway.shutdown()
        except Exception:  # noqa: BLE001 — соединения с JVM уже разорваны
            pass
    if proc is None:
        return
    try:
        proc.stdin.close()  # JVM pyspark выходит, когда у неё закрыт stdin
    except OSError:
        pass
    try:
        proc.wait(timeout=0 if deadline.interrupted() else STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_shared: set[tuple[str, str]] = set()  # (эндпоинт, бакет): имя бакета в сессии уже у другого эндпоинта


@contextmanager
def jobs(spark, endpoint) -> Iterator[None]:
    """Вызовы Spark одного эндпоинта: ошибка Java — исключение, которое понимает failures
    (ответ S3 с кодом и статусом, нет соединения, таймаут, TLS); срок истёк или Ctrl-C — задачи
    этого эндпоинта отменяются, чтобы следующий не ждал их."""

    taken = sorted(bucket for name, bucket in _shared if name == endpoint.name)
    if taken:
        raise failures.CheckFailed(f"бакет {taken[0]} в этой сессии Spark уже у другого эндпоинта: настройки "
                                   "S3A — по имени бакета; дайте эндпоинтам разные <ИМЯ>_BUCKET")
    try:
        yield
    except BaseException as error:
        try:
            spark.sparkContext.cancelAllJobs()
        except Exception:  # noqa: BLE001 — JVM уже не отвечает: её завершит session()
            pass
        translated = python_error(error)
        if translated is None:
            raise
        raise translated from None


def foreign(endpoint, bucket: str, objects: list[dict]) -> list[str]:
    """Ключи среди objects (ListObjectsV2), которых лекция не записывала — или которые переписаны после неё
    (другой ETag). Spark, перезаписывая каталог, удаляет всё под ним: чужого там быть не должно."""
    mine = {}
    for entry in journal.entries(endpoint):
        if entry["bucket"] == bucket and entry["op"] == "object" and entry["state"] == "done":
            mine[entry["key"]] = (entry["etag"] or "").strip('"')
    return [item["Key"] for item in objects if mine.get(item["Key"]) != item["ETag"].strip('"')]


def only_own(endpoint, bucket: str, objects: list[dict]) -> None:
    """Чужие объекты под каталогом Spark — ✗ до записи: перезаписывая каталог, Spark удалил бы их."""

    if others := foreign(endpoint, bucket, objects):
        raise failures.CheckFailed(f"в {bucket} чужие объекты ({len(others)}, например {others[0]}): "
                                   "Spark, перезаписывая каталог, удалил бы их")


def record_written(endpoint, s3, bucket: str, prefix: str) -> list[dict]:
    """Что записал Spark (его запросы идут мимо Python): объекты под prefix — в журнал лекции с ETag и временем
    записи, как у DuckDB. Даёт список объектов ListObjectsV2."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    written = listing.get("Contents", [])
    for item in written:
        journal.record(endpoint, "object", bucket, item["Key"], etag=item["ETag"],
                       modified=item["LastModified"].strftime("%Y-%m-%dT%H:%M:%SZ"))
    return written


def main() -> int:
    """python -m lecture.spark — скачать jar заранее (CI, машина без сети во время лекции)."""
    if reason := missing():
        print(f"· {reason}")
        return 0
    started = time.perf_counter()
    try:
        paths = jars()
    except DownloadFailed as problem:
        print(f"✗ {problem}")
        return 1
    size = sum(path.stat().st_size for path in paths) / 1e6
    print(f"✓ jar для Spark в {cache_dir()}: {len(paths)}, {size:.0f} МБ ({time.perf_counter() - started:.1f} с)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
