"""Spark (шаг 21): S3A — клиент S3 из Hadoop на AWS SDK для Java — из той же записи Endpoint.

Здесь всё, что нужно Spark, и каждая настройка со своей причиной, один раз:
- чем запускать: pyspark (группа Poetry «spark») и Java 17+; нет их — missing() говорит, что поставить;
- три jar-файла S3A ровно тех версий, что ждёт Hadoop 3.5.0 из pyspark 4.3.0, с SHA-256: скачиваются
  один раз в кэш (~/.cache/s3-lecture/spark-jars или $XDG_CACHE_HOME), каждый отдельно, без
  транзитивных зависимостей — POM Hadoop называют репозитории вне Maven Central;
- настройки S3A каждого эндпоинта — для его бакетов (fs.s3a.bucket.<бакет>.*): в одной сессии Spark
  работают несколько эндпоинтов, у каждого свои адрес, регион, стиль адреса и ключи;
- свой CA (<ИМЯ>_CA_BUNDLE) — хранилище доверия Java из PEM (keytool), проверка TLS не выключается;
- короткие таймауты и мало повторов, как у остальных клиентов: мёртвый провайдер стоит секунды;
- сессия кончается всегда: spark.stop(), а JVM, если не вышла сама, убивается — ничего не остаётся.
Ключи не попадают в командную строку JVM (её видит ps): их получает уже запущенная JVM.
"""

from __future__ import annotations

import logging
import os
import re
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
from lecture.spark_jars import DownloadFailed, cache_dir, jars, java_command, missing  # noqa: F401 — шагу

# Сколько ждать JVM: запуск — секунды (на двух занятых ядрах до 30 с), остановка — секунды.
START_TIMEOUT = 90
STOP_TIMEOUT = 10
MASTER = "local[2]"  # SPARK_MASTER=spark://хост:7077 — и тот же шаг идёт на кластере

# ── Настройки ───────────────────────────────────────────────────────────────────────────────────

def s3a_defaults(connect_timeout: int, read_timeout: int, attempts: int) -> dict[str, str]:
    """Настройки S3A для всех бакетов: поведение клиента, одинаковое у всех эндпоинтов."""
    return {
        # Ключи — только из настроек лекции: не ~/.aws, не переменные AWS_*, не метаданные облака
        # (цепочка по умолчанию опрашивает их по очереди и тратит на это секунды).
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        # По умолчанию 30 с на соединение и 200 с на чтение: мёртвый сервер молчал бы минутами.
        # Соединение S3A ждёт не меньше 15 с (меньшее поднимает сам); дольше не пускает срок эндпоинта.
        "fs.s3a.connection.establish.timeout": f"{max(connect_timeout, 15)}s",
        "fs.s3a.connection.timeout": f"{read_timeout}s",
        "fs.s3a.connection.acquisition.timeout": "15s",  # меньше S3A не берёт: соединение из своего пула
        # Повторы — у SDK (5) и поверх них у S3A (7, с паузами от 0,5 с): без этого минуты тишины.
        "fs.s3a.attempts.maximum": str(attempts - 1),
        "fs.s3a.retry.limit": str(attempts - 1),
        "fs.s3a.retry.interval": "200ms",
        "fs.s3a.retry.throttle.limit": str(attempts - 1),
        "fs.s3a.retry.throttle.interval": "200ms",
        # AWS SDK 2.30+ считает CRC у каждой загрузки (как boto3 ≥ 1.36): S3-совместимые хранилища такое
        # отвергают. Контрольная сумма — только Content-MD5, где его требует API (пакетное удаление).
        "fs.s3a.checksum.generation": "false",
        "fs.s3a.create.checksum.algorithm": "",
        "fs.s3a.request.md5.header": "true",
        "fs.s3a.checksum.validation": "false",
        # Условная запись (If-None-Match) умеют не все S3-совместимые хранилища: одни отвечают 501,
        # другие молча пишут поверх. Spark пишет в свой каталог и без неё.
        "fs.s3a.create.conditional.enabled": "false",
        # «Изменился ли объект во время чтения» — сверяем ETag сами, а не заголовком If-Match в GET:
        # условные GET понимают не все хранилища.
        "fs.s3a.change.detection.mode": "client",
        # Обычное чтение запросами Range, как у DuckDB и pyarrow; поток analytics настроен под AWS S3.
        "fs.s3a.input.stream.type": "classic",
        # TLS средствами Java (JSSE): она доверяет хранилищу из -Djavax.net.ssl.trustStore (trust_options).
        "fs.s3a.ssl.channel.mode": "default_jsse",
        "fs.s3a.bucket.probe": "0",  # без лишнего HEAD бакета при каждом открытии
    }


def s3a_bucket(endpoint, bucket: str) -> dict[str, str]:
    """Настройки S3A одного бакета эндпоинта — без ключей (их получает уже запущенная JVM: s3a_keys)."""
    options = {
        "endpoint": endpoint.url,  # со схемой: http:// или https://
        "connection.ssl.enabled": str(endpoint.secure).lower(),
        "endpoint.region": endpoint.region,  # регион входит в подпись SigV4
        # path: бакет в пути — нужен для MinIO, Ceph и IP-адресов; vhost: бакет в имени хоста.
        "path.style.access": str(endpoint.url_style != "vhost").lower(),
    }
    return {f"fs.s3a.bucket.{bucket}.{name}": value for name, value in options.items()}


def s3a_keys(endpoint, bucket: str) -> dict[str, str]:
    return {f"fs.s3a.bucket.{bucket}.access.key": endpoint.access_key,
            f"fs.s3a.bucket.{bucket}.secret.key": endpoint.secret_key}


def spark_settings(master: str, jar_paths: list[Path], java_options: str, scratch: Path) -> dict[str, str]:
    local = master.startswith("local")
    settings = {
        "spark.master": master,
        "spark.app.name": "s3-lecture",
        "spark.ui.enabled": "false",  # веб-интерфейс на порту 4040 лекции не нужен
        "spark.ui.showConsoleProgress": "false",  # полоса стадий в stderr сбила бы таблицы
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),  # не оставлять spark-warehouse в каталоге запуска
        "spark.local.dir": str(scratch / "local"),
        "spark.sql.shuffle.partitions": "4",  # шесть строк итога: 200 задач по умолчанию — пустая работа
        "spark.driver.extraJavaOptions": java_options,
        "spark.executor.extraJavaOptions": java_options,
    }
    jars = ",".join(str(path) for path in jar_paths)
    if local:  # на своём компьютере — только петля: ни одного порта наружу; на кластере адрес выбирает Spark
        settings |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                     # исполнители — в той же JVM: jar прямо в classpath, без раздачи файловым сервером Spark
                     "spark.driver.extraClassPath": jars.replace(",", os.pathsep),
                     # маленькие данные и короткий запуск: JIT без C2 — старт быстрее, CPU меньше
                     "spark.driver.extraJavaOptions": f"{java_options} -XX:TieredStopAtLevel=1".strip()}
    else:
        settings["spark.jars"] = jars  # на кластере Spark раздаст их исполнителям
    return settings


PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def trust_options(endpoints, scratch: Path) -> str:
    """Свои CA эндпоинтов (<ИМЯ>_CA_BUNDLE) — в хранилище доверия Java (PKCS12) вместе с обычными CA
    самой Java: облака с публичными сертификатами проверяются как прежде. Нет своих CA — Java как есть."""
    bundles = list(dict.fromkeys(endpoint.ca_bundle for endpoint in endpoints if endpoint.ca_bundle))
    if not bundles:
        return ""
    keytool = str(Path(java_command()).resolve().parent / "keytool")
    store, password = scratch / "truststore.p12", "s3-lecture"  # пароль хранилища публичных сертификатов
    java_cacerts = Path(java_command()).resolve().parent.parent / "lib" / "security" / "cacerts"
    run = [keytool, "-noprompt", "-storetype", "PKCS12"]
    if java_cacerts.is_file():
        subprocess.run([*run[:2], "-importkeystore", "-srckeystore", str(java_cacerts), "-srcstorepass", "changeit",
                        "-destkeystore", str(store), "-deststoretype", "PKCS12", "-deststorepass", password],
                       check=True, capture_output=True, timeout=60)
    for n, bundle in enumerate(bundles):
        for m, certificate in enumerate(PEM.findall(Path(bundle).read_bytes())):
            pem = scratch / f"ca-{n}-{m}.pem"
            pem.write_bytes(certificate + b"\n")
            subprocess.run([*run, "-importcert", "-alias", f"s3-lecture-{n}-{m}", "-file", str(pem),
                            "-keystore", str(store), "-storepass", password],
                           check=True, capture_output=True, timeout=60)
    return (f"-Djavax.net.ssl.trustStore={store} -Djavax.net.ssl.trustStoreType=PKCS12 "
            f"-Djavax.net.ssl.trustStorePassword={password}")


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


def _java_chain(error: BaseException) -> list:
    """Исключения Java за ошибкой pyspark: сама и её причины (getCause) — объекты py4j."""
    from py4j.protocol import Py4JJavaError

    top = getattr(error, "java_exception", None) if isinstance(error, Py4JJavaError) else None
    top = top or getattr(error, "_origin", None)
    chain, seen = [], 0
    while top is not None and seen < 20:
        chain.append(top)
        top, seen = top.getCause(), seen + 1
    return chain


def python_error(error: BaseException) -> BaseException | None:
    """Ошибка Java из S3A → исключение Python того же смысла (по классам Java, статусу и коду S3, не по
    словам сообщения); None — не ошибка S3A (пусть будет ошибкой лекции с отчётом)."""
    if not isinstance(error, Exception):
        return None
    try:
        chain = _java_chain(error)
    except Exception:  # noqa: BLE001 — JVM не отвечает: сказать о Java больше нечего
        return None
    for java in chain:
        name = java.getClass().getName()
        if name.endswith("S3Exception") or name == "software.amazon.awssdk.services.s3.model.NoSuchBucketException":
            return s3_answer(java)
    for java in chain:
        family = _family(java)
        if family is not None:
            return family(f"{java.getClass().getSimpleName()}: {java.getMessage()}")
    return None


JAVA_FAMILIES = (
    # Проверка сертификата не прошла (свой CA не указан или не тот).
    ({"javax.net.ssl.SSLHandshakeException", "javax.net.ssl.SSLException",
      "sun.security.validator.ValidatorException", "java.security.cert.CertPathValidatorException"}, "ssl"),
    ({"java.net.ConnectException", "java.net.UnknownHostException", "java.net.NoRouteToHostException",
      "org.apache.http.conn.HttpHostConnectException"}, "refused"),
    ({"java.net.SocketTimeoutException", "org.apache.http.conn.ConnectTimeoutException",
      "org.apache.hadoop.net.ConnectTimeoutException", "org.apache.http.conn.ConnectionPoolTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException"}, "timeout"),
    ({"org.apache.http.NoHttpResponseException", "java.net.SocketException",
      "org.apache.http.ConnectionClosedException", "org.apache.http.TruncatedChunkException"}, "cut"),
)


def _family(java):
    import ssl

    types = {"ssl": ssl.SSLError, "refused": ConnectionRefusedError, "timeout": TimeoutError,
             "cut": ConnectionResetError}
    name = java.getClass().getName()
    for names, family in JAVA_FAMILIES:
        if name in names:
            return types[family]
    return None


def s3_answer(java) -> BaseException:
    """Ответ S3 из исключения AWS SDK — как ClientError botocore: код S3, сообщение и статус HTTP."""
    from botocore.exceptions import ClientError

    status = int(java.statusCode())
    details = java.awsErrorDetails()
    code = (details.errorCode() if details is not None else None) or f"HTTP {status}"
    message = (details.errorMessage() if details is not None else None) or ""
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "S3A")


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
