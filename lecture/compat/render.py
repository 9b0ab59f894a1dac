"""Таблица матрицы: в терминал (rich, по ширине экрана) и в Markdown для README; легенда под ней."""

from __future__ import annotations

from rich.table import Table

from lecture.compat.runner import CLIENTS, OK, SKIPPED, UNCHECKED, UNUSED, Run
from lecture.screen import console, note, warn

OPERATIONS = {  # строка таблицы: что проверено, чтобы поставить ✓
    "list_buckets": "ListBuckets",  # бакет <бакет>-compat в списке
    "create_bucket": "CreateBucket",  # boto3 — для всех проверок, minio — в конце тот же бакет
    "put_object": "PutObject",  # boto3 и minio — с Content-Type и x-amz-meta-client
    "head_object": "HeadObject",  # размер тот же, метаданные вернулись
    "list_objects": "ListObjectsV2, «/»",  # Delimiter=/: ключ и «папка» (общий префикс)
    "get_range": "GetObject, Range",  # пришли ровно запрошенные байты
    "partitioned": "Hive-разбиение",  # файлы …/n=1/, …/n=2/ прочитаны одной таблицей, n — из ключей
    "copy_object": "CopyObject REPLACE",  # копия в себя заменила метаданные
    "tagging": "Теги объекта",  # теги из PUT (X-Amz-Tagging) читаются GetObjectTagging
    "presigned": "Ссылка: PUT и GET",  # urllib без ключей пишет и читает те же байты
    "expiry": "Ссылка: срок истёк",  # ссылка на секунду через 2 с получает 403
    "multipart": "Multipart upload",  # 5 МиБ + 4 КиБ двумя частями, прочитано то же
    "versioning": "Версии объекта",  # два PUT — два VersionId, первая читается по своему
    "list_versions": "ListObjectVersions",  # обе версии в списке
    "policy": "Политика бакета",  # анонимный GET: 403, с политикой 200, без неё снова 403
    "delete_object": "DeleteObject",  # после удаления HEAD отвечает 404
    "delete_bucket": "DeleteBucket",  # пустой бакет удалён
}
# Что значат слова в клетках: сервер ответил «да», но сделал не то.
WORDS = {
    "без метаданных": "HEAD не вернул x-amz-meta-*, записанные в PUT",
    "нет Range": "на запрос части объекта (Range) пришёл весь объект",
    "без папок": "ListObjectsV2 с Delimiter=/ не вернул общих префиксов",
    "не тот список": "в списке не то, что записано",
    "не заменил": "CopyObject с REPLACE оставил прежние метаданные",
    "без тегов": "теги из заголовка X-Amz-Tagging в PUT не сохранились (PutObjectTagging — отдельный запрос)",
    "без срока": "просроченная ссылка всё ещё открывает объект",
    "версий нет": "PutBucketVersioning принят, но PUT не выдаёт VersionId",
    "не та версия": "по VersionId первой версии читается другое",
    "не все версии": "ListObjectVersions показал не все записанные версии",
    "открыт всем": "объект читается анонимно и без политики",
    "не открыл": "с политикой «всем GetObject» анонимный GET всё ещё запрещён",
    "не закрыл": "после DeleteBucketPolicy объект всё ещё читается анонимно",
    "не удалён": "после DeleteObject объект на месте",
    "не те байты": "прочитано не то, что записано",
    "другая операция": ("на ?policy, ?tagging или ?versioning сервер выполнил другую операцию "
                        "(какую — строка «!» под таблицей compat.py)"),
}
STYLE = {OK: "green", UNUSED: "dim", SKIPPED: "dim", UNCHECKED: "bold red"}


def grid(runs: list[Run], cells: list) -> list[list[str]]:
    """Строки таблицы: подпись операции и клетки эндпоинт × клиент."""
    used = {(operation, client) for _, client, operation, *_ in cells}
    rows = []
    for operation, label in OPERATIONS.items():
        row = [label]
        for run in runs:
            for client in CLIENTS:
                if (operation, client) not in used:
                    row.append(UNUSED)
                elif not run.started:
                    row.append(UNCHECKED)  # эндпоинт не проверялся: почему — в строке ✗ над таблицей
                else:
                    row.append(run.cells.get((operation, client), SKIPPED))
        rows.append(row)
    return rows


def legend(rows: list[list[str]]) -> list[str]:
    initials = ", ".join(f"{initial} — {NAMES[client]}" for client, initial in CLIENTS.items())
    lines = [f"Клиенты: {initials}. ✓ — работает, как обещает S3; «—» — этот клиент в лекции "
             "так не делает; · — не проверялось: не удалась операция, без которой эта "
             "не имеет смысла."]
    if any(UNCHECKED in row[1:] for row in rows):
        lines.append("«✗» в клетках — эндпоинт не проверен: почему, сказано в строке ✗ над таблицей.")
    seen = {cell for row in rows for cell in row[1:]}
    words = [f"«{word}» — {meaning}" for word, meaning in WORDS.items() if word in seen]
    if words:
        lines.append("; ".join(words) + ".")
    return lines


NAMES = {"boto3": "boto3", "minio": "minio", "duckdb": "DuckDB", "pandas": "pandas (s3fs)",
         "pyarrow": "pyarrow (свой клиент на C++, pyarrow.fs.S3FileSystem)", "polars": "polars (Rust, object_store)"}


def view(runs: list[Run], cells: list):
    """Таблица для терминала: имя эндпоинта над первым из его столбцов, под ним буквы клиентов."""
    from rich import box
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold cyan", pad_edge=False)
    table.add_column("Операция", no_wrap=True)
    for run in runs:
        for number, initial in enumerate(CLIENTS.values()):
            name = run.endpoint.name if number == 0 else ""
            table.add_column(f"{name}\n{initial}", justify="center", overflow="fold")
    for row in grid(runs, cells):
        table.add_row(row[0], *(Text(cell, style=STYLE.get(cell, "bold yellow")) for cell in row[1:]))
    return table


def show(runs: list[Run], cells: list) -> None:
    """Таблица в терминал — по стольку эндпоинтов, сколько помещается в ширину экрана, строки те же."""
    from rich.measure import Measurement

    rows = grid(runs, cells)
    group: list[Run] = []
    for run in runs:
        unbounded = console.options.update(max_width=10_000)  # иначе мера обрезана шириной экрана
        wider = Measurement.get(console, unbounded, view([*group, run], cells)).maximum
        if group and wider > console.width:
            console.print(view(group, cells))
            group = []
        group.append(run)
    console.print(view(group, cells))
    for line in legend(rows):
        note(line)
    problems: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        for operation, client, text in run.problems:
            place = f"{run.endpoint.name}·{CLIENTS[client]}"
            problems.setdefault((OPERATIONS[operation], text), []).append(place)
    for (label, text), places in problems.items():
        warn(f"{label} ({', '.join(places)}): {text}")


def markdown(runs: list[Run], cells: list) -> str:
    """Та же таблица в Markdown: у каждого столбца имя целиком (эндпоинт·клиент)."""
    rows = grid(runs, cells)
    header = ["Операция"] + [f"{run.endpoint.name}·{initial}"
                             for run in runs for initial in CLIENTS.values()]
    lines = ["| " + " | ".join(header) + " |", "|---|" + ":-:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + "\n\n".join(legend(rows)) + "\n"  # абзац на строку легенды
