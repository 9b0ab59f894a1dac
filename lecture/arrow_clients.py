"""Клиенты на Arrow читают тот же S3 (шаг о других языках): pyarrow (C++, AWS SDK for C++) и polars
(Rust, object_store) — из той же записи Endpoint, что и клиенты common.

Те же знания, что у четырёх клиентов common, на языке каждого клиента: схема и host:port, стиль
адреса, регион, свой CA, короткие таймауты и мало повторов. Проверку TLS не выключает ни один.
Таймауты и число попыток задаёт common (как у rclone и AWS CLI в tools.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from lecture.settings import Endpoint


def pyarrow_filesystem(endpoint: Endpoint, connect: float, read: float, attempts: int,
                       writes: bool = False):
    """S3FileSystem из pyarrow — его собственный клиент на C++ (AWS SDK for C++), не s3fs.
    writes — через него пишут (compat.py): маленький объект уходит одним PutObject, а не составной загрузкой."""
    import certifi
    from pyarrow import fs

    # AWS SDK for C++ по умолчанию считает контрольную сумму каждой записи и шлёт тело «aws-chunked»
    # с суммой в конце: Ceph 16 отвечает 411, s3rver сохраняет куски вместе с рамкой. boto3 выключен так же
    # (request_checksum_calculation); параметра у pyarrow нет — SDK читает переменные, когда строит клиента.
    with _environment(AWS_REQUEST_CHECKSUM_CALCULATION="when_required",
                      AWS_RESPONSE_CHECKSUM_VALIDATION="when_required"):
        return fs.S3FileSystem(
            access_key=endpoint.access_key, secret_key=endpoint.secret_key,
            endpoint_override=endpoint.host, scheme="https" if endpoint.secure else "http",  # схема — отдельно
            # Со своим адресом AWS SDK ходит в стиле path; бакет в имени хоста — только при <ИМЯ>_URL_STYLE=vhost.
            force_virtual_addressing=endpoint.url_style == "vhost",
            region=endpoint.region,  # регион входит в подпись SigV4: не тот — SignatureDoesNotMatch
            # Те же CA, что у boto3 и DuckDB: свой из <ИМЯ>_CA_BUNDLE или certifi, а не системные curl.
            tls_ca_file_path=(endpoint.ca_bundle or certifi.where()) if endpoint.secure else None,
            connect_timeout=connect, request_timeout=read,
            retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=attempts),  # по умолчанию 3 попытки
            # Без отложенного открытия каждый поток записи — CreateMultipartUpload, даже на 20 байт.
            allow_delayed_open=writes,
        )


def polars_options(endpoint: Endpoint, bucket: str, connect: float, read: float, attempts: int) -> dict:
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
        "connect_timeout": f"{connect}s",
        "timeout": f"{read}s",  # на весь запрос, а не на одно чтение: объекты лекции маленькие
        # По умолчанию polars повторяет запрос с паузами до 10 с: мёртвый сервер молчал бы дольше срока.
        "max_retries": attempts - 1, "retry_timeout_ms": read * 1000,
    }


@contextmanager
def polars_trust(endpoint: Endpoint) -> Iterator[None]:
    """Свой CA для polars. В storage_options такой настройки нет (pola-rs/polars#21007 не влит), но rustls
    берёт корневые сертификаты из SSL_CERT_FILE, когда polars строит клиента (pola-rs/polars#13741).
    Переменная задана только на время чтения: те же CA, что у boto3, — <ИМЯ>_CA_BUNDLE или certifi."""
    import certifi

    if not endpoint.secure:
        yield
        return
    with _environment(SSL_CERT_FILE=endpoint.ca_bundle or certifi.where()):
        yield


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Переменные окружения на время блока; после — как было (заданные до него — с прежними значениями)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
