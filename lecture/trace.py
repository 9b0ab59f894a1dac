"""--trace: каждый HTTP-запрос каждого клиента — одной строкой: клиент, метод, путь, статус, байты.

S3 — это просто HTTP. Подпись ссылки (X-Amz-Signature, X-Amz-Credential) и длинные случайные
идентификаторы не печатаются целиком; заголовок Authorization не печатается никогда.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from lecture.words import human_size

SIGNED_QUERY = ("X-Amz-", "Signature", "AWSAccessKeyId", "Expires")  # подпись ссылки: не печатаем
LONG_IDS = {"uploadId", "versionId", "continuation-token"}  # случайные длинные: в трассировке — начало

_printer: list[Callable[[str], None]] = []  # функция печати строки трассировки, если --trace


def start(printer: Callable[[str], None]) -> None:
    """Печатать каждый запрос функцией printer (python <шаг>.py --trace)."""
    _printer[:] = [printer]


def line(client, method, url, status, sent, received) -> None:
    """Строка трассировки одного обмена; sent и received — байты тела запроса и ответа или None."""
    if not _printer:
        return
    parts = urlsplit(url)
    query = [f"{k}={v[:8] + '…' if k in LONG_IDS and len(v) > 12 else v}" if v else k
             for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith(SIGNED_QUERY)]
    path = unquote(parts.path) + ("?" + "&".join(query) if query else "")
    received = None if method == "HEAD" else received  # у HEAD тела нет: Content-Length — размер объекта
    sizes = "".join(f" {arrow}{human_size(int(n))}" for arrow, n in (("↑", sent), ("↓", received)) if n)
    _printer[0](f"{client:<6} {method:<6} {path} → {status}{sizes}")
