"""Обычный HTTP-запрос без S3-библиотеки и без ключей (urllib): ссылка с подписью, публичный бакет,
ListObjectsV2 руками. Что он записал — тоже записано лекцией (журнал через wire)."""

from __future__ import annotations

from lecture import wire


def plain_http(method: str, url: str, endpoint, body: bytes | None = None, headers: dict | None = None,
               timeout: float = 4) -> tuple[int, bytes]:
    """Запрос method по адресу url; свой CA — из <ИМЯ>_CA_BUNDLE. Ответ: (статус, тело)."""
    import ssl
    import urllib.error
    import urllib.request

    # Без Content-Type urllib объявит тело формой (x-www-form-urlencoded), а некоторые серверы её разбирают.
    kind = {"Content-Type": "application/octet-stream"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers={**kind, **(headers or {})})
    context = ssl.create_default_context(cafile=endpoint.ca_bundle)
    row = wire.intend(endpoint, method, url)  # записанное по ссылке — тоже записано лекцией
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # 403, 404 — тоже ответ сервера, его и показываем
        status, headers, data = error.code, error.headers, error.read()
    wire.exchange("urllib", endpoint, method, url, status, headers, {}, len(body) if body else None, row=row)
    return status, data
