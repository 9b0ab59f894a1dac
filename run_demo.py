"""Вся лекция подряд: двенадцать шагов, каждый — отдельный процесс, как `python <шаг>.py`.

Перед шагом — номер, название и команда; в терминале ждёт Enter. Без S3_ENDPOINTS (нет .env)
сам запускает встроенный S3-сервер и ведёт лекцию на нём: нужен только Python.
В конце — таблица: шаг, статус, время.

Запуск: poetry run python run_demo.py [--no-pause] [--from N] [--only N] [--extras]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from dotenv import load_dotenv

import common

# Единственный список шагов: README повторяет его (тест сверяет порядок и скрипты).
STEPS = [
    (1, "list_bucket.py", "Список бакетов"),
    (2, "list_objects.py", "Объекты в бакетах: пока пусто"),
    (3, "upload_object.py", "Загрузка объекта с метаданными"),
    (4, "list_objects.py", "Объекты после загрузки"),
    (5, "create_remove_bucket.py", "Создание и удаление бакета"),
    (6, "create_bucket.py", "Бакеты для DuckDB и pandas"),
    (7, "list_bucket.py", "Список бакетов после создания"),
    (8, "duckdb_copy_to_s3.py", "DuckDB пишет Parquet в S3"),
    (9, "duckdb_read_from_s3.py", "DuckDB читает Parquet из S3"),
    (10, "pandas_dataframe_to_s3.py", "pandas пишет DataFrame в S3"),
    (11, "pandas_dataframe_from_s3.py", "pandas читает из S3"),
    (12, "list_objects.py", "Всё записанное — на месте"),
]
# Дополнительные шаги: теория лекции, которую можно запустить (--extras или --only 13…).
EXTRAS = [
    (13, "object_metadata.py", "Метаданные и теги объекта"),
    (14, "presigned_url.py", "Временные ссылки: S3 — это HTTP"),
    (15, "multipart_upload.py", "Составная загрузка большого файла"),
    (16, "versioning.py", "Версии объекта"),
    (17, "duckdb_pushdown.py", "DuckDB читает только нужные байты"),
]

EMBEDDED_BUCKET = "lecture"


def start_embedded_s3() -> dict[str, str]:
    """Встроенный S3 на свободном порту в этом процессе и переменные одного эндпоинта «local» для него."""
    import local_s3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    local_s3.start_server(port, EMBEDDED_BUCKET, log_requests=False)
    url = f"http://127.0.0.1:{port}"
    return {"S3_ENDPOINTS": "local", "LOCAL_ENDPOINT_URL": url, "LOCAL_ACCESS_KEY": "lecture",
            "LOCAL_SECRET_KEY": "lecture-secret", "LOCAL_BUCKET": EMBEDDED_BUCKET}


def main() -> int:
    parser = argparse.ArgumentParser(description="Лекция «S3 как стандарт» целиком")
    parser.add_argument("--no-pause", action="store_true", help="не ждать Enter перед шагами")
    parser.add_argument("--from", dest="start", type=int, default=1, metavar="N", help="начать с шага N")
    parser.add_argument("--only", type=int, metavar="N", help="только шаг N")
    parser.add_argument("--extras", action="store_true", help="после двенадцати шагов — дополнительные (13+)")
    args = parser.parse_args()

    steps = STEPS + (EXTRAS if args.extras or (args.only or args.start) > len(STEPS) else [])
    steps = [s for s in steps if (s[0] == args.only if args.only else s[0] >= args.start)]
    if not steps:
        common.config_error(f"нет такого шага; шаги: 1–{len(STEPS) + len(EXTRAS)}")

    env = dict(os.environ)
    load_dotenv(Path.cwd() / ".env", override=False)
    if not os.environ.get("S3_ENDPOINTS"):
        env.update(start_embedded_s3())
        common.console.print("[bold yellow]S3_ENDPOINTS не задан (.env нет) — запускаю встроенный S3 на "
                             f"{env['LOCAL_ENDPOINT_URL']}[/]")
    pause = sys.stdin.isatty() and not args.no_pause

    results = []
    for number, script, title in steps:
        common.console.rule(f"[bold magenta]Шаг {number}. {title}[/]", style="magenta")
        common.console.print(f"[bold]$ python {script}[/]")
        if pause:
            try:
                input("Enter — запустить шаг ")
            except (KeyboardInterrupt, EOFError):
                results.append([number, script, 130, 0.0])
                break
        started = time.perf_counter()
        # Ctrl-C достаётся шагу: он отменит свои незавершённые загрузки и выйдет с кодом 130.
        previous = signal.signal(signal.SIGINT, lambda *_: None)
        try:
            code = subprocess.run([sys.executable, str(common.ROOT / script)], env=env).returncode
        finally:
            signal.signal(signal.SIGINT, previous)
        results.append([number, script, code, time.perf_counter() - started])
        if code in (2, 130):  # ошибка настройки или Ctrl-C: дальше не идём, шаг уже сказал, что делать
            break

    status = {0: "[green]✓ ОК[/]", 1: "[red]✗ ошибки[/]", 2: "[red]✗ остановлено[/]", 130: "[red]✗ прервано[/]"}
    common.table("Итог лекции", ["Шаг", "Скрипт", "Статус", "Время, мс"],
                 [[n, s, status.get(c, f"[red]✗ код {c}[/]"), f"{t * 1000:.0f}"] for n, s, c, t in results])
    codes = [code for _, _, code, _ in results]
    if 130 in codes:
        common.fail(f"Лекция прервана. Продолжить: python run_demo.py --from {results[-1][0]}")
        return 130
    if 2 in codes:
        common.fail("Лекция остановлена: исправьте настройку по сообщению выше и продолжите с --from "
                    f"{results[-1][0]}")
        return 2
    return 1 if any(codes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
