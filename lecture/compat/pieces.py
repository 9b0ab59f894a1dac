"""Что клетки разных клиентов делают одинаково: данные, ссылки без ключей, анонимное чтение, версии."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from lecture.compat.runner import Run
from lecture.failures import lacks

TEXT = "text/plain; charset=utf-8"
BODY = "S3 — это стандарт\n".encode()
TAGS = {"lecture": "s3", "kind": "compat"}
MIB = 1024 * 1024
PART = 5 * MIB  # наименьшая часть составной загрузки; последняя может быть меньше
BIG = bytes(range(256)) * ((PART + 4096) // 256)  # две части: 5 МиБ и 4 КиБ
SOON = 1  # секунда жизни ссылки, на которой проверяется срок
SLOWEST = 2 * MIB  # байт в секунду: на составную загрузку срок больше
# Hive-разбиение: значение ключа …/n=<значение>/data.parquet → строки файла в этой «папке».
PARTS = {"1": ["S3", "как"], "2": ["стандарт"]}


def public_read(bucket: str) -> str:
    """Политика «всем — GetObject» на объекты бакета."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]})


def object_url(endpoint, bucket: str, key: str) -> str:
    """Адрес объекта без подписи; vhost — бакет в имени хоста."""
    scheme, host = endpoint.url.split("://")
    return f"{scheme}://{bucket}.{host}/{key}" if endpoint.url_style == "vhost" else f"{endpoint.url}/{bucket}/{key}"


def through_links(run: Run, put_url: str, get_url: str) -> None:
    """Ссылки без ключей: urllib пишет по одной и читает по другой."""
    body = b"written by a presigned link"
    put_status, _ = run.kit.plain_http("PUT", put_url, run.endpoint, body)
    lacks(put_status != 200, f"HTTP {put_status}")
    get_status, data = run.kit.plain_http("GET", get_url, run.endpoint)
    lacks(get_status != 200, f"HTTP {get_status}")
    lacks(data != body, "не те байты")


def expired_link(run: Run, client: str) -> None:
    url, issued = run.soon[client]
    time.sleep(max(0.0, issued + SOON + 1 - time.monotonic()))  # срок точно истёк
    status, _ = run.kit.plain_http("GET", url, run.endpoint)
    lacks(status == 200, "без срока")
    lacks(status != 403, f"HTTP {status}")


def anonymous_read(run: Run, client: str, allow: Callable, revoke: Callable) -> None:
    key = f"{client}/public.txt"
    url = object_url(run.endpoint, run.bucket, key)  # без подписи: так объект видит весь мир
    run.wrote(client, key)
    run.s3.put_object(Bucket=run.bucket, Key=key, Body=BODY)
    closed, _ = run.kit.plain_http("GET", url, run.endpoint)
    lacks(closed == 200, "открыт всем")  # политике нечего открывать: сервер прав не проверяет
    allow()
    try:
        opened, body = run.kit.plain_http("GET", url, run.endpoint)
    finally:
        revoke()
    closed_again, _ = run.kit.plain_http("GET", url, run.endpoint)
    lacks(opened == 403, "не открыл")
    lacks(opened != 200, f"HTTP {opened}")
    lacks(body != BODY, "не те байты")
    lacks(closed_again == 200, "не закрыл")


def kept_versions(run: Run, client: str, first: str | None, second: str | None) -> list[str]:
    lacks(not first or not second or "null" in (first, second) or first == second,
                 "версий нет")
    run.version_ids[client] = [first, second]
    return [first, second]
