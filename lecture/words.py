"""Числа и слова на экране — как их говорит лектор: «58,9 КиБ», «891 строка», «2 бакета»."""


def count(n: int) -> str:
    """Целое число с пробелами между разрядами: 1 000 000 (четырёхзначные — слитно, 2024)."""
    return f"{n:,}".replace(",", " ") if n >= 10_000 else str(n)


def plural(n: int, one: str, few: str, many: str) -> str:
    """«1 строка», «2 строки», «5 строк», «21 строка»: форма слова по числу."""
    form = one if n % 10 == 1 and n % 100 != 11 else few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many
    return f"{count(n)} {form}"


def number(value: float, digits: int = 1) -> str:
    """Дробное число по-русски: 58,9."""
    return f"{value:.{digits}f}".replace(".", ",")


def human_size(size: float) -> str:
    """58,9 КиБ; единица выбирается после округления, чтобы не было «1024,0 КиБ»."""
    if size < 1024:
        return f"{size:.0f} Б"
    for unit in ("КиБ", "МиБ", "ГиБ"):
        size /= 1024
        if round(size, 1) < 1024 or unit == "ГиБ":
            return f"{number(size)} {unit}"
    return ""


def moment(when) -> str:
    """Дата и время из ответа S3; некоторые серверы даты не присылают."""
    return f"{when:%d.%m.%Y %H:%M}" if when else "—"


def short_etag(etag: str) -> str:
    """ETag короче, но узнаваемо: 8 первых знаков и число частей у составного объекта."""
    digest, _, parts = etag.strip('"').partition("-")
    return digest[:8] + "…" + (f"-{parts}" if parts else "")
