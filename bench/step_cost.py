"""Сколько стоит каждый шаг: время шага против «пола» — самой короткой программы с теми же запросами.

Пол шага — это запуск Python, импорт тех же библиотек и те же запросы к S3 без таблиц, проверок
и обработки ошибок (bench/floors/<шаг>.py). Всё идёт против встроенного S3-сервера (moto) на
127.0.0.1, каждое время — медиана нескольких запусков (шаг и пол запускаются по очереди, чтобы
фоновая нагрузка машины досталась обоим поровну). Заодно: лишние импорты шагов, скорость
составной загрузки (и aws/rclone, если установлены), доля байтов, которую DuckDB скачал.

Необязательное сравнение (aws, rclone), которое не удалось запустить, — одна строка, и бенчмарк
идёт дальше; код выхода 1 — только если не прошёл сам шаг или его пол. В конце — готовый
Markdown-блок для docs/cost.md «Сколько стоит каждый шаг»: машина, число запусков, таблица.

Запуск: poetry run python bench/step_cost.py [--runs 5] [--only list_bucket.py ...]
Быстрая самопроверка: poetry run python bench/step_cost.py --runs 1 --only list_bucket.py
"""

import argparse
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rich.markup import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402
import run_demo  # noqa: E402

MIB = 1024 * 1024
TOOL_TIMEOUT = 300  # секунд на одну загрузку 64 МиБ внешней программой
# Инструменты того же класса: части по 8 МиБ, как у шага 15. Имя → (как назвать в README, команда).
TOOLS = {
    "aws": ("`aws s3 cp`", ["aws", "s3", "cp", "{file}", "s3://lecture/extras/aws.bin", "--endpoint-url", "{url}",
                            "--only-show-errors"]),
    "rclone": ("`rclone copyto`", ["rclone", "copyto", "{file}", ":s3,provider=Other,endpoint={url},"
                                   "access_key_id=lecture,secret_access_key=lecture-secret:lecture/extras/rclone.bin",
                                   "--s3-chunk-size", "8M"]),
}
TOOL_ENV = {"AWS_ACCESS_KEY_ID": "lecture", "AWS_SECRET_ACCESS_KEY": "lecture-secret",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}
HEAVY = ("boto3", "minio", "duckdb", "pandas", "pyarrow", "s3fs")
# Пояснение к строке таблицы README: откуда у шага время, которого нет у соседей.
NOTES = {"presigned_url.py": "2 с — ожидание срока ссылки", "multipart_upload.py": "64 МиБ"}

# Пол шага — bench/floors/<шаг>.py: самая короткая программа с теми же запросами, что у шага, в том же
# порядке, без вывода и проверок. Каждую можно запустить и руками (python bench/floors/list_bucket.py)
# с теми же переменными окружения, что у шага (LOCAL_ENDPOINT_URL, TITANIC_CSV).
FLOORS = Path(__file__).resolve().parent / "floors"
FLOOR = {path.name: path.read_text(encoding="utf-8") for path in sorted(FLOORS.glob("*.py"))}

# docs/cost.md «Сколько стоит каждый шаг» — всё, что ниже заголовка; машину и числа подставляет замер.
README_TEXT = """\
```bash
poetry run python bench/step_cost.py {options}
```

Бенчмарк (не тест) запускает каждый шаг против встроенного S3 и сравнивает его время с «полом» —
самой короткой программой с теми же запросами: запуск Python, те же библиотеки, те же запросы, без
таблиц и проверок. Заодно ищет лишние импорты, меряет составную загрузку (и `aws s3 cp` / `rclone`,
если они есть) и долю байтов, которую скачал DuckDB. Этот текст и таблицу бенчмарк печатает сам,
в конце вывода.

{machine}

| Шаг | Время, мс | Пол, мс | × пола |
|---|---|---|---|
{rows}

{summary}
"""


def skipped(text: str) -> None:
    """Необязательное сравнение не удалось: одна строка «!» при любой ширине терминала."""
    common.console.print(f"[bold yellow]![/] {text}", soft_wrap=True)


class Broken(Exception):
    """Не прошёл шаг или его пол: замер без него бессмыслен, бенчмарк останавливается."""


def run_timed(command: list[str], env: dict, what: str) -> tuple[float, str]:
    """Секунды и вывод одного запуска; ненулевой код выхода — Broken с концом вывода."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise Broken(f"{what}: код выхода {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout


def heavy_imports(command: list[str], env: dict) -> set[str]:
    """Какие тяжёлые библиотеки программа действительно загрузила (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return {name for name in HEAVY if name in names}


def tool_speed(command: list[str], env: dict, runs: int) -> tuple[float | None, str, str]:
    """МиБ/с загрузки 64 МиБ внешней программой (медиана, вместе с её запуском) — или None,
    причина для README («код выхода 1») и подробность для экрана (последняя строка её ошибки)."""
    program = shutil.which(command[0])
    if program is None:
        return None, "программы нет в PATH", ""
    times = []
    with tempfile.NamedTemporaryFile() as file:
        file.write(os.urandom(64 * MIB))
        file.flush()
        argv = [program] + [part.format(file=file.name, url=env["LOCAL_ENDPOINT_URL"]) for part in command[1:]]
        for _ in range(runs):
            started = time.perf_counter()
            try:
                done = subprocess.run(argv, env=dict(env, **TOOL_ENV), cwd=ROOT, capture_output=True, text=True,
                                      timeout=TOOL_TIMEOUT)
            except subprocess.TimeoutExpired:
                return None, f"не уложилась в {TOOL_TIMEOUT} с", ""
            except OSError as error:
                return None, "не запускается", error.strerror or str(error)
            if done.returncode != 0:
                last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
                return None, f"код выхода {done.returncode}", last[0][:120] if last else ""
            times.append(time.perf_counter() - started)
    return 64 / statistics.median(times), "", ""


def multipart_speeds(outputs: list[str]) -> dict[str, float]:
    """МиБ/с boto3 и minio из таблицы шага 15 (медиана по запускам): строка «│ boto3 │ … │ 148 │ ✓ │»."""
    found: dict[str, list[float]] = {}
    for output in outputs:
        for client, speed in re.findall(r"│ (boto3|minio)\s.*│ (\d+)\s+│ ✓", output):
            found.setdefault(client, []).append(float(speed))
    return {client: statistics.median(speeds) for client, speeds in found.items()}


def pushdown_share(output: str) -> tuple[str, str] | None:
    """(доля в процентах, размер объекта) из таблицы шага 17: «5,4», «42,5 МиБ»."""
    row = re.search(r"│ ([\d,]+ (?:Б|КиБ|МиБ|ГиБ))\s+│ [\d,]+ (?:Б|КиБ|МиБ|ГиБ)\s+│ ([\d,]+) %", output)
    return (row.group(2), row.group(1)) if row else None


def machine(runs: int, data: Path, load: tuple[float, float]) -> str:
    """Строка «Замер: …» для README: процессор, память, ОС, Python, данные, число запусков."""
    cpus = os.cpu_count() or 1
    proc = {name: Path("/proc", name).read_text() if Path("/proc", name).is_file() else ""
            for name in ("cpuinfo", "meminfo")}  # Linux; на других системах — то, что знает platform
    named = re.search(r"^model name\s*:\s*(.+)$", proc["cpuinfo"], re.MULTILINE)
    model = f"{named.group(1).strip()}, {platform.machine()}" if named else platform.processor() or platform.machine()
    total = re.search(r"MemTotal:\s+(\d+) kB", proc["meminfo"])
    memory = f", {common.number(int(total.group(1)) / MIB)} ГиБ ОЗУ" if total else ""
    try:
        system = platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        system = platform.platform(terse=True)
    rows = max(sum(1 for _ in data.open(encoding="utf-8")) - 1, 0)
    return (f"Замер: {common.plural(cpus, 'ядро', 'ядра', 'ядер')} ({model}){memory}, {system}, "
            f"Python {platform.python_version()}, moto {importlib.metadata.version('moto')}, "
            f"`{data.name}` ({common.plural(rows, 'строка', 'строки', 'строк')}); каждое время — медиана "
            f"{common.plural(runs, 'запуска', 'запусков', 'запусков')}; средняя загрузка машины (load average "
            f"за минуту) {common.number(load[0], 2)} в начале замера и {common.number(load[1], 2)} в конце:")


def summary(extra: dict[str, set[str]], speeds: dict[str, float], tools: dict[str, tuple[float | None, str, str]],
            share: tuple[str, str] | None, measured: set[str]) -> str:
    """Абзац под таблицей: лишние импорты, скорость составной загрузки, доля байтов DuckDB."""
    heavy = [f"{script} — {', '.join(sorted(names))}" for script, names in extra.items() if names]
    lines = [f"Лишние импорты: {'; '.join(heavy)}." if heavy
             else "Лишних импортов нет: шаги с boto3 и minio не грузят pandas и DuckDB."]
    speed = [f"{client} {speeds[client]:.0f} МиБ/с" for client in ("boto3", "minio") if client in speeds]
    speed += [f"{TOOLS[tool][0]} {mib:.0f} МиБ/с (вместе с запуском CLI)" for tool, (mib, _, _) in tools.items() if mib]
    missing = [f"{TOOLS[tool][0]} не сравнивался ({why})" for tool, (mib, why, _) in tools.items() if not mib]
    if speed:
        lines.append(f"Составная загрузка 64 МиБ по loopback: {', '.join(speed)}.")
    if missing:
        lines.append(f"{'; '.join(missing)}.")
    if share:
        lines.append(f"DuckDB на выборочном запросе скачал {share[0]} % файла в {share[1]}.")
    elif "duckdb_pushdown.py" in measured:
        lines.append("Долю байтов DuckDB в выводе шага 17 найти не удалось.")
    return " ".join(lines)


def wrap(paragraph: str) -> str:
    """Абзац README — строками до 100 знаков, как остальной текст README."""
    return textwrap.fill(paragraph, width=100, break_long_words=False, break_on_hyphens=False)


def choose(only: list[str] | None, parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """Что мерить и что прогнать перед этим: шаги до последнего выбранного (им нужны бакеты и данные)."""
    order = [script for _, script, _ in run_demo.STEPS + run_demo.EXTRAS]
    scripts = list(dict.fromkeys(order))
    if not only:
        return scripts, order
    chosen = [name if name.endswith(".py") else name + ".py" for name in only]
    unknown = [name for name in chosen if name not in scripts]
    if unknown:
        parser.error(f"нет таких шагов: {', '.join(unknown)}; есть: {', '.join(scripts)}")
    last = max(order.index(name) for name in chosen)
    return [script for script in scripts if script in chosen], order[:last + 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="запусков каждого шага и пола (медиана)")
    parser.add_argument("--only", nargs="+", metavar="STEP", help="только эти шаги, например list_bucket.py")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: нужен хотя бы один запуск")
    measured, warmup = choose(args.only, parser)
    try:
        return bench(args, measured, warmup)
    except Broken as problem:
        common.fail(f"бенчмарк остановлен, не прошёл {problem}")
        return 1


def bench(args, measured: list[str], warmup: list[str]) -> int:
    load_before = os.getloadavg()[0]
    data = Path(os.environ.get("TITANIC_CSV") or ROOT / "titanic.csv")
    if not data.is_file():
        data = ROOT / "tests" / "data" / "titanic_small.csv"
    env = dict(os.environ, **run_demo.start_embedded_s3(), TITANIC_CSV=str(data), COLUMNS="160")
    for script in warmup:  # прогрев: бакеты, данные и кэши ОС
        run_timed([sys.executable, str(ROOT / script)], env, f"прогрев {script}")

    rows, ratios, extra, outputs = [], [], {}, {}
    for script in measured:
        step, floor = [sys.executable, str(ROOT / script)], [sys.executable, str(FLOORS / script)]
        walls, floors, outputs[script] = [], [], []
        for _ in range(args.runs):  # по очереди: шаг, пол, шаг, пол…
            seconds, output = run_timed(step, env, script)
            walls.append(seconds)
            outputs[script].append(output)
            floors.append(run_timed(floor, env, f"пол {script}")[0])
        wall, least = statistics.median(walls), statistics.median(floors)
        extra[script] = heavy_imports([str(ROOT / script)], env) - heavy_imports([str(FLOORS / script)], env)
        ratios.append(wall / least)
        rows.append([script, wall * 1000, least * 1000, wall / least])
        common.console.print(f"{script}: {wall * 1000:.0f} мс, пол {least * 1000:.0f} мс", style="dim")
    common.table(f"Стоимость шагов: медиана {common.plural(args.runs, 'запуска', 'запусков', 'запусков')}, "
                 f"встроенный S3, {data.name}",
                 ["Шаг", "Время, мс", "Пол, мс", "× пола", "Лишние импорты"],
                 [[script, f"{wall:.0f}", f"{least:.0f}", common.number(ratio, 2),
                   ", ".join(sorted(extra[script])) or "—"] for script, wall, least, ratio in rows])

    speeds = multipart_speeds(outputs.get("multipart_upload.py", []))
    if "multipart_upload.py" in measured and not speeds:
        skipped("скорость составной загрузки в выводе шага 15 не найдена — в README её не будет")
    tools = {}
    for tool, (_, command) in TOOLS.items():  # необязательные сравнения: сбой — одна строка, идём дальше
        tools[tool] = tool_speed(command, env, args.runs)
        mib, why, detail = tools[tool]
        if mib:
            common.console.print(f"{tool}: {mib:.0f} МиБ/с (с запуском процесса)")
        else:
            reason = f"{why}: {escape(detail)}" if detail else why
            skipped(f"{tool}: сравнение пропущено — {reason}; бенчмарк идёт дальше")
    share = pushdown_share(outputs.get("duckdb_pushdown.py", [""])[-1])
    if "duckdb_pushdown.py" in measured and not share:
        skipped("долю скачанных байтов в выводе шага 17 найти не удалось — в README её не будет")
    if ratios:
        common.console.print(f"Худшее отношение к полу: {common.number(max(ratios), 2)} (цель — не больше 1,3)")

    options = f"--runs {args.runs}" + (f" --only {' '.join(measured)}" if args.only else "")
    block = README_TEXT.format(
        options=options,
        machine=wrap(machine(args.runs, data, (load_before, os.getloadavg()[0]))),
        rows="\n".join(f"| {script}{f' ({NOTES[script]})' if script in NOTES else ''} | {wall:.0f} | {least:.0f} | "
                       f"{common.number(ratio, 2)} |" for script, wall, least, ratio in rows),
        summary=wrap(summary(extra, speeds, tools, share, set(measured))))
    common.console.rule("Для docs/cost.md «Сколько стоит каждый шаг»: всё ниже заголовка")
    print(block, end="", flush=True)  # без rich: ни переносов строк, ни разметки в квадратных скобках
    common.console.rule()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
