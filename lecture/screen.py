"""Что видит зал: заголовки, строки ✓ ! ✗, таблицы на 80 колонок, сравнение boto3 и minio, прогресс.

Шаги зовут эти функции через common (common.table, common.check…). Печать строки — только печать:
ни запросов, ни SQL (журнал запросов DuckDB читается в конце блока эндпоинта), поэтому она не падает.

Строка — простой текст, не разметка rich: ключ «[red]alert» или «data[/]old.csv», имя бакета, ответ
сервера печатаются как есть. Своё оформление лекции внутри строки или ячейки — styled("создан", "bold green").
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from types import SimpleNamespace

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lecture import failures
from lecture.words import human_size, moment, plural

console = Console(highlight=False)


def styled(text: str, style: str) -> Text:
    """Оформление самой лекции: styled("создан", "bold green") — в ячейке таблицы или в строке."""
    return Text(text, style=style)


def _plain(text: str | Text) -> Text:
    return text if isinstance(text, Text) else Text(str(text))


def header(title: str) -> None:
    console.print(Text("\n" + title, style="bold magenta"))


def ok(text: str | Text) -> None:
    console.print(Text.assemble(("✓", "bold green"), " ", _plain(text)))


def warn(text: str | Text) -> None:
    """«!» — сервер чего-то не умеет: это знание о сервере, а не сбой лекции."""
    console.print(Text.assemble(("!", "bold yellow"), " ", _plain(text)))


def note(text: str | Text) -> None:
    """Просто сведения: без ✓, он только для проверок."""
    console.print(_plain(text))


def fail(text: str | Text) -> None:
    console.print(Text.assemble(("✗", "bold red"), " ", _plain(text)))


def check(condition: bool, good: str, bad: str) -> None:
    """✓ good — или ошибка этого эндпоинта с текстом bad."""
    if not condition:
        raise failures.CheckFailed(bad)
    ok(good)


def table(title: str, columns: list[str], rows: list[list]) -> None:
    """Таблица для 80 колонок: первый столбец (ключ, бакет) не сокращается, остальные переносятся."""
    console.print(Text(title, style="italic"))  # заголовок — по ширине экрана, а не таблицы: имена целиком
    cells = [[_cell(cell) for cell in row] for row in rows]
    view = Table(header_style="bold cyan")
    widest = max([len(columns[0])] + [row[0].cell_len for row in cells])
    view.add_column(columns[0], min_width=min(widest, console.width - 12), overflow="fold")
    for column in columns[1:]:
        view.add_column(column, overflow="fold")
    for row in cells:
        view.add_row(*row)
    console.print(view)


def _cell(cell) -> Text:
    if isinstance(cell, dict):
        return Text(pairs(cell))
    if isinstance(cell, datetime):
        return Text(moment(cell))
    if isinstance(cell, bool):  # ✓ только там, где что-то проверено
        return Text("✓", style="green") if cell else Text("✗", style="red")
    return _plain(cell)


def compare(title: str, columns: list[str], by_boto3: dict, by_minio: dict, noun: tuple[str, str, str],
            shown: int = 20) -> None:
    """Что увидели boto3 и minio: таблица «имя, подробность, boto3, minio» и проверка, что одно и то же.
    Подробность — дата или размер в байтах (число показывается как «58,9 КиБ»)."""
    rows = []
    for name in sorted(by_boto3.keys() | by_minio.keys()):
        detail = by_boto3.get(name, by_minio.get(name))
        text = human_size(detail) if isinstance(detail, int) else detail
        rows.append([name, text, name in by_boto3, name in by_minio])
    more = [[f"… и ещё {len(rows) - shown}", "", "", ""]] if len(rows) > shown else []
    table(title, [*columns, "boto3", "minio"], rows[:shown] + more or [["(пусто)", "", "", ""]])
    check(by_boto3.keys() == by_minio.keys(), f"boto3 и minio видят одно и то же: {plural(len(rows), *noun)}",
          "boto3 и minio видят разное")


def pairs(mapping: dict) -> str:
    """Метаданные и теги: «ключ=значение» по алфавиту."""
    return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items())) or "—"


@contextmanager
def progress(total: int, *clients: str) -> Iterator[SimpleNamespace]:
    """Полоса прогресса на клиента: bars.boto3 — Callback= для boto3, bars.minio — progress= для minio.
    Объём и скорость — в тех же единицах, что и всё на экране: «234,9 из 256,0 МиБ, 111,2 МиБ/с»."""
    from rich.progress import BarColumn, Progress, TextColumn

    sizes = TextColumn("{task.fields[done]}")
    with Progress(TextColumn("{task.description}"), BarColumn(), sizes, console=console, transient=True) as view:
        def moved(task, amount: int) -> None:
            view.advance(task, amount)
            state = next(item for item in view.tasks if item.id == task)
            speed = f", {human_size(state.speed)}/с" if state.speed else ""
            view.update(task, done=f"{human_size(state.completed)} из {human_size(total)}{speed}")

        advance = {client: partial(moved, view.add_task(client, total=total, done="")) for client in clients}
        # minio сообщает о прогрессе объекту с методами set_meta и update
        yield SimpleNamespace(boto3=advance.get("boto3"),
                              minio=SimpleNamespace(set_meta=lambda **_: None, update=advance.get("minio")))


def lowered(metadata: dict) -> dict:
    """Имена x-amz-meta-* строчными: это заголовки HTTP, регистр в них не важен (gofakes3 отдаёт Client)."""
    return {name.lower(): value for name, value in metadata.items()}


def user_metadata(headers) -> dict:
    """Свои метаданные объекта из заголовков ответа: x-amz-meta-client → client."""
    return {k.lower().removeprefix("x-amz-meta-"): v for k, v in headers.items() if k.lower().startswith("x-amz-meta-")}
