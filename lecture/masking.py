"""Секреты не печатаются: ключ доступа и секрет в любом тексте для зала — замаскированы.

Текст сервера, библиотеки или трассировки может нести ключи (Credential=KEY/… в сообщении об ошибке,
заголовок Authorization в отчёте). Прежде чем показать его или записать в отчёт, ключи заменяются
их началом и концом: AKIA…KY1.
"""

from __future__ import annotations

import re


def mask(text: str, secret_key: str, access_key: str) -> str:
    """Ключи в тексте сервера или библиотеки — только целиком, не кусок имени бакета или переменной.
    Секрет (base64: буквы, цифры, + / =) ищем целым; ключ доступа — между не-буквами (Credential=KEY/…),
    но не внутри имени вроде KEY-tmp или KEY_ENDPOINT_URL."""
    if secret_key:
        text = re.sub(rf"(?<![\w+/=.-]){re.escape(secret_key)}(?![\w+/=.-])", mask_key(secret_key), text)
    if access_key:
        text = re.sub(rf"(?<![\w.-]){re.escape(access_key)}(?![\w.-])", mask_key(access_key), text)
    return text


def mask_key(key: str) -> str:
    """AKIA…KY1; короткий ключ — две первые буквы и последняя (le…e), совсем короткий — только «…»."""
    if len(key) > 10:
        return f"{key[:4]}…{key[-3:]}"
    return f"{key[:2]}…{key[-1:]}" if len(key) >= 6 else "…"
