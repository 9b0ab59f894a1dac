"""Spark рядом с DuckDB и pandas: один и тот же запрос к одному и тому же озеру.

Запрос шага 21 — выживаемость по классу и полу по hive-разбиению DuckDB
(s3://lecture-duckdb/titanic_by_class/) — против встроенного S3 (moto) на 127.0.0.1. Время
каждого движка — в отдельном процессе: запуск (импорт и соединение; у Spark — JVM и SparkSession)
и запрос, первый и повторный (первый запрос Spark ещё загружает классы S3A и AWS SDK). Каждое
время — медиана --runs запусков; движки идут по очереди, чтобы фоновая нагрузка досталась всем.
В конце — готовый Markdown-блок для README (раздел «S3 в аналитике»).

Запуск: poetry install --with spark; poetry run python bench/spark_cost.py [--runs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402
from lecture import spark  # noqa: E402

ENGINES = ("spark", "duckdb", "pandas")
SOURCE = "titanic_by_class/"
SQL = "SELECT Pclass, Sex, count(*), avg(Survived) FROM read_parquet({url}, hive_partitioning = true) GROUP BY ALL"


def child(engine: str) -> dict[str, float]:
    """Один запуск движка в этом процессе: секунды на запуск и на два одинаковых запроса."""
    started = time.perf_counter()
    endpoint = common.endpoints()[0]
    source = f"{endpoint.derived('duckdb')}/{SOURCE}"
    if engine == "spark":
        paths = spark.jars()
        with spark.session([endpoint], lambda e: [e.derived("duckdb")], common.CONNECT_TIMEOUT,
                           common.READ_TIMEOUT, common.ATTEMPTS, paths) as session:
            from pyspark.sql import functions as F

            ready = time.perf_counter()
            times = []
            for _ in range(2):
                begin = time.perf_counter()
                table = session.read.parquet(f"s3a://{source}")
                table.groupBy("Pclass", "Sex").agg(F.count("*"), F.avg("Survived")).collect()
                times.append(time.perf_counter() - begin)
    elif engine == "duckdb":
        con = common.duckdb_connect(endpoint)
        ready = time.perf_counter()
        times = []
        for _ in range(2):
            begin = time.perf_counter()
            con.execute(SQL.format(url=common.literal(f"s3://{source}*/*.parquet"))).fetchall()
            times.append(time.perf_counter() - begin)
    else:
        import pandas as pd

        options = common.storage_options(endpoint)
        ready = time.perf_counter()
        times = []
        for _ in range(2):
            begin = time.perf_counter()
            frame = pd.read_parquet(f"s3://{source}", storage_options=options)
            frame.groupby(["Pclass", "Sex"], observed=True)["Survived"].agg(["size", "mean"])
            times.append(time.perf_counter() - begin)
    return {"start": ready - started, "first": times[0], "again": times[1]}


def run(engine: str, env: dict) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", engine], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"✗ {engine}: код выхода {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - started  # вместе с запуском Python и импортами
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="запусков каждого движка (медиана)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    if reason := spark.missing():
        common.fail(f"Spark не запустить: {reason}")
        return 1
    spark.jars(common.console)  # скачивание (один раз) — не часть замера
    import run_demo

    data = Path(os.environ.get("TITANIC_CSV") or ROOT / "titanic.csv")
    if not data.is_file():
        data = ROOT / "tests" / "data" / "titanic_small.csv"
    env = dict(os.environ, **run_demo.start_embedded_s3(), TITANIC_CSV=str(data), COLUMNS="160")
    for script in ("create_bucket.py", "duckdb_copy_to_s3.py"):
        done = subprocess.run([sys.executable, str(ROOT / script)], env=env, cwd=ROOT, capture_output=True)
        if done.returncode != 0:
            common.fail(f"{script}: код выхода {done.returncode}")
            return 1
    load = os.getloadavg()[0]
    measured: dict[str, list[dict]] = {engine: [] for engine in ENGINES}
    for _ in range(args.runs):
        for engine in ENGINES:
            measured[engine].append(run(engine, env))
            common.console.print(f"{engine}: {measured[engine][-1]}", style="dim")

    def median(engine: str, what: str) -> str:
        return common.number(statistics.median(item[what] for item in measured[engine]), 2)

    names = {"spark": "Spark 4.3 (S3A, local[2])", "duckdb": "DuckDB (httpfs)", "pandas": "pandas (s3fs + pyarrow)"}
    rows = "\n".join(f"| {names[engine]} | {median(engine, 'start')} | {median(engine, 'first')} | "
                     f"{median(engine, 'again')} | {median(engine, 'process')} |" for engine in ENGINES)
    rows_count = max(sum(1 for _ in data.open(encoding="utf-8")) - 1, 0)
    common.console.rule("Для README: «Три движка на одном озере», всё ниже заголовка")
    print(f"""```bash
poetry run python bench/spark_cost.py --runs {args.runs}
```

Запрос шага 21 (выживаемость по классу и полу по `titanic_by_class/` от DuckDB) к встроенному S3 на
127.0.0.1, `{data.name}` ({common.plural(rows_count, 'строка', 'строки', 'строк')}), {os.cpu_count()} ядра, \
load average {common.number(load, 2)}; секунды, медиана {args.runs} запусков:

| Движок | Запуск | Запрос | Повтор | Весь процесс |
|---|---|---|---|---|
{rows}
""", end="", flush=True)
    common.console.rule()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
