"""Вся лекция подряд: двенадцать шагов, каждый — отдельный процесс, как `python <шаг>.py`.

Перед шагом — номер, название и команда; в терминале ждёт Enter. Без S3_ENDPOINTS (нет .env)
сам запускает встроенный S3-сервер и ведёт лекцию на нём: нужен только Python. Встроенный
сервер живёт, пока идёт лекция, поэтому --from N сначала молча повторяет шаги 1…N−1 —
и лекция продолжается с теми же данными. В конце — таблица: шаг, статус, время.

Ctrl-C достаётся шагу (он отменит свои загрузки), лекция останавливается и говорит, как
продолжить. Если ни один эндпоинт не отвечает, лекция останавливается с подсказкой.

Запуск: poetry run python run_demo.py [--no-pause] [--from N] [--only N] [--extras] [--cluster] [--trace]
        [--debug]
"""

import argparse
import ast
import os
import signal
import socket
import subprocess
import sys
import time

import common
from lecture import settings

# Единственный список шагов: README повторяет его (тест сверяет порядок и скрипты).
STEPS = [
    (1, "list_bucket.py", "Список бакетов"),
    (2, "list_objects.py", "Объекты в бакетах лекции"),
    (3, "upload_object.py", "Загрузка объекта с метаданными"),
    (4, "list_objects.py", "Объекты после загрузки"),
    (5, "create_remove_bucket.py", "Создание и удаление бакета"),
    (6, "create_bucket.py", "Бакеты для DuckDB и pandas"),
    (7, "list_bucket.py", "Список бакетов после создания"),
    (8, "duckdb_copy_to_s3.py", "DuckDB пишет Parquet в S3"),
    (9, "duckdb_read_from_s3.py", "DuckDB читает Parquet из S3"),
    (10, "pandas_dataframe_to_s3.py", "pandas пишет DataFrame в S3"),
    (11, "pandas_dataframe_from_s3.py", "pandas читает из S3"),
    (12, "list_objects.py", "Всё записанное на месте"),
]
# Дополнительные шаги: теория лекции, которую можно запустить (--extras или --only 13…).
EXTRAS = [
    (13, "object_metadata.py", "Метаданные и теги объекта"),
    (14, "presigned_url.py", "Временные ссылки: S3 — это HTTP"),
    (15, "multipart_upload.py", "Составная загрузка большого файла"),
    (16, "versioning.py", "Версии объекта"),
    (17, "duckdb_pushdown.py", "DuckDB читает только нужные байты"),
    (18, "bucket_policy.py", "Политика бакета: кто может читать"),
    (19, "plain_http.py", "ListObjectsV2 без S3-библиотеки"),
    (20, "other_clients_read_s3.py", "Другие языки читают то же самое"),
    (21, "spark_read_from_s3.py", "Spark: то же озеро, другой движок"),
]
# Глава о надёжности: свой кластер Ceph из трёх OSD теряет узел (--cluster или --only cluster).
CLUSTER = ("cluster", "cluster_demo.py", "Надёжность: кластер теряет узел, данные целы")

EMBEDDED_BUCKET = "lecture"
UNREACHABLE = 3  # код выхода шага: ни с одним эндпоинтом работать нельзя (нет связи, ключи, TLS)
BUG = 4  # код выхода шага: ошибка самой лекции (строка с путём к отчёту)
STATUS = {0: "✓ ОК", 1: "✗ ошибки", 2: "✗ настройка", UNREACHABLE: "✗ нет связи", BUG: "✗ ошибка лекции",
          130: "✗ прервано"}


def leaves_data(script: str) -> bool:
    """Шаг сам объявляет, что после него в S3 что-то остаётся (LEAVES_DATA = True): такие шаги
    повторяет --from N на пустом встроенном сервере. Читается без импорта: шаг тянет свои библиотеки."""
    tree = ast.parse((common.ROOT / script).read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["LEAVES_DATA"]
               and ast.literal_eval(node.value) is True for node in tree.body)


def start_embedded_s3() -> dict[str, str]:
    """Встроенный S3 на свободном порту в этом процессе и переменные эндпоинта «local» для него."""
    import local_s3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    local_s3.start_server(port, EMBEDDED_BUCKET, log_requests=False)
    return {"S3_ENDPOINTS": "local", "LOCAL_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "LOCAL_ACCESS_KEY": "lecture", "LOCAL_SECRET_KEY": "lecture-secret", "LOCAL_BUCKET": EMBEDDED_BUCKET}


def choose(args) -> list[tuple]:
    """Шаги, которые покажет лекция; неверный номер — ошибка настройки с допустимым диапазоном."""
    every = STEPS + EXTRAS
    last = every[-1][0]
    if args.only == "cluster":
        return [CLUSTER]
    if args.only is not None and not (args.only.isdigit() and 1 <= int(args.only) <= last):
        common.config_error(f"--only {args.only}: нет такого шага; шаги 1–{last} или cluster")
    if not 1 <= args.start <= last:
        common.config_error(f"--from {args.start}: нет такого шага; шаги 1–{last}")
    if args.only:
        return [step for step in every if step[0] == int(args.only)]
    extras = args.extras or args.start > len(STEPS)
    chosen = [s for s in STEPS + (EXTRAS if extras else []) if s[0] >= args.start]
    return [s for s in chosen if runnable(s)] + ([CLUSTER] if args.cluster else [])


def runnable(step: tuple) -> bool:
    """Шаг 21 — только там, где есть pyspark и Java: иначе строка, что поставить, и лекция идёт без него."""
    from lecture import spark

    if step[1] != "spark_read_from_s3.py" or not (reason := spark.missing()):
        return True
    common.note(f"· шаг {step[0]} пропущен: {reason}")
    return False


def run(script: str, env: dict, extra: list[str], quiet: bool = False) -> int:
    """Шаг — отдельный процесс. Ctrl-C, присланный только лектору (kill -INT), передаём шагу:
    шаг сам отменит свои загрузки и выйдет с кодом 130. Второй сигнал шаг пропустит мимо.
    Шаг стартует с Ctrl-C «мимо» (SIG_IGN наследуется) и сам ставит обработчик в common.run:
    сигнал в первые миллисекунды запуска не превратится в трассировку. Был Ctrl-C — лекция стоит."""
    interrupted, started = [], []

    def forward(signum, frame):  # Ctrl-C, пришедший и во время запуска шага, не теряется
        interrupted.append(True)
        for process in started:
            _pass_on(process)

    previous = signal.signal(signal.SIGINT, forward)
    try:
        process = subprocess.Popen([sys.executable, str(common.ROOT / script), *extra], env=env,
                                   stdout=subprocess.DEVNULL if quiet else None,
                                   stderr=subprocess.DEVNULL if quiet else None,
                                   preexec_fn=_ignore_sigint if os.name == "posix" else None)
    except BaseException:
        signal.signal(signal.SIGINT, previous)
        raise
    started.append(process)
    if interrupted:  # сигнал пришёл, пока шаг запускался
        _pass_on(process)
    try:
        code = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted and code == 0:  # Ctrl-C, когда шаг уже закончил: шаг прошёл, а лекция стоит
        raise Finished
    return 130 if interrupted else code


def _pass_on(process: subprocess.Popen) -> None:
    """Ctrl-C — шагу. В Windows консоль сама шлёт его всем своим процессам, а послать SIGINT
    другому процессу там нельзя (send_signal знает только SIGTERM и CTRL_*_EVENT)."""
    if os.name == "posix":
        process.send_signal(signal.SIGINT)


def _ignore_sigint() -> None:
    """В дочернем процессе до exec: шаг стартует с Ctrl-C «мимо», пока его обработчик не встал."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Finished(KeyboardInterrupt):
    """Ctrl-C пришёл, когда шаг уже закончил работу: он прошёл, лекцию — остановить."""


def replay(steps: list[tuple], env: dict) -> bool:
    """Встроенный сервер запущен пустым: пишущие шаги до N повторяются без вывода — данные на месте."""
    started = time.perf_counter()
    steps = [step for step in steps if leaves_data(step[1])]
    for number, script, _ in steps:
        if run(script, env, [], quiet=True) != 0:
            common.fail(f"шаг {number} ({script}) не прошёл при повторе: запустите лекцию сначала")
            return False
    numbers = ", ".join(str(number) for number, _, _ in steps)
    common.note(f"Встроенный S3 пуст: шаги {numbers} повторены без вывода "
                f"({common.number(time.perf_counter() - started)} с), данные на месте.")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="Лекция «S3 как стандарт» целиком")
    parser.add_argument("--no-pause", action="store_true", help="не ждать Enter перед шагами")
    parser.add_argument("--from", dest="start", type=int, default=1, metavar="N", help="начать с шага N")
    parser.add_argument("--only", metavar="N", help="только шаг N (или cluster)")
    parser.add_argument("--extras", action="store_true", help="после двенадцати шагов — дополнительные (13+)")
    parser.add_argument("--cluster", action="store_true", help="в конце — кластер Ceph теряет узел")
    parser.add_argument("--trace", action="store_true", help="шаги печатают каждый HTTP-запрос")
    parser.add_argument("--debug", action="store_true", help="ошибка лекции — ещё и с трассировкой")
    args = parser.parse_args()
    steps = choose(args)

    try:
        settings.read_dotenv()  # тот же .env, что читают шаги, и та же проверка кодировки
    except settings.Invalid as problem:
        common.config_error(str(problem))
    env = dict(os.environ)
    if not os.environ.get("S3_ENDPOINTS") and steps != [CLUSTER]:
        env.update(start_embedded_s3())
        common.console.print(f"[bold yellow].env нет: запускаю встроенный S3 на {env['LOCAL_ENDPOINT_URL']}[/]")
        first = steps[0][0] if steps[0] != CLUSTER else 1
        earlier = [s for s in STEPS if s[0] < first]
        if any(leaves_data(s[1]) for s in earlier) and not replay(earlier, env):
            return 1
    pause = sys.stdin.isatty() and not args.no_pause
    trace = args.trace or common.flags.trace  # common.run уже забрал --trace из sys.argv
    debug = args.debug or common.flags.debug  # и --debug
    extra = (["--trace"] if trace else []) + (["--debug"] if debug else [])

    results, stopped = [], False
    for number, script, title in steps:
        started = None
        try:  # Ctrl-C между шагами или в паузе — тоже остановка лекции, а не трассировка
            heading = "Надёжность" if number == CLUSTER[0] else f"Шаг {number}"
            common.console.rule(f"[bold magenta]{heading}. {title}[/]", style="magenta")
            common.console.print(f"[bold]$ python {' '.join([script, *extra])}[/]")
            if pause:
                input("Enter — запустить шаг ")
            started = time.perf_counter()
            code = run(script, env, extra)
        except Finished:
            code, stopped = 0, True
        except (KeyboardInterrupt, EOFError):
            common.console.print()  # после «^C» в паузе — с новой строки
            code = 130
        results.append([number, script, code, time.perf_counter() - started if started else 0.0])
        if stopped or code in (2, UNREACHABLE, 130):  # дальше не идём: шаг уже сказал, что не так
            break

    common.table("Итог лекции", ["Шаг", "Скрипт", "Статус", "Время, с"],
                 [[n, s, common.styled(STATUS.get(c, f"✗ код {c}"), "green" if c == 0 else "red"), common.number(t)]
                  for n, s, c, t in results])
    code, last = results[-1][2], results[-1][0]
    if stopped:
        numbers = [number for number, _, _ in steps]
        following = numbers[numbers.index(last) + 1:]
        resume = f". Продолжить: python run_demo.py --from {following[0]}" if following else ""
        common.fail(f"Лекция прервана после шага {last}{resume}")
        return 130
    if code == 130:
        common.fail(f"Лекция прервана. Продолжить: python run_demo.py --from {last}")
    elif code == 2:
        common.fail(f"Лекция остановлена: исправьте настройку по сообщению выше и продолжите: "
                    f"python run_demo.py --from {last}")
    elif code == UNREACHABLE:
        common.fail("Ни один эндпоинт не работает: нет связи или не подходят ключи. Проверьте сервер "
                    "(docker-compose up -d или python local_s3.py) и .env, затем продолжите: "
                    f"python run_demo.py --from {last}")
    if code in (2, UNREACHABLE, 130):
        return code
    if any(result[2] == BUG for result in results):
        return BUG
    return 1 if any(result[2] for result in results) else 0


if __name__ == "__main__":
    # Лектору — обычный Ctrl-C (KeyboardInterrupt в паузе между шагами): обработчик шагов ему не нужен.
    raise SystemExit(common.run(main, ctrl_c=False))
