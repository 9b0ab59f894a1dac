"""Настройки Spark и S3A (шаг 21) из той же записи Endpoint, что у всех клиентов, — каждая со своей причиной.

- поведение клиента S3A, одинаковое у всех эндпоинтов: ключи только из настроек лекции, короткие таймауты
  и мало повторов (мёртвый провайдер стоит секунды), без контрольных сумм и условных запросов, которых
  не знают S3-совместимые хранилища;
- адрес, регион и стиль адреса каждого эндпоинта — для его бакетов (fs.s3a.bucket.<бакет>.*): в одной
  сессии Spark работают несколько эндпоинтов; ключи — отдельно (их получает уже запущенная JVM);
- свой CA (<ИМЯ>_CA_BUNDLE) — хранилище доверия Java из PEM (keytool), проверка TLS не выключается.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from lecture.spark_jars import java_command


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
