"""Шаг 21. Spark: то же озеро, другой движок.

Данные переросли один компьютер — берут Spark. S3 он читает своим клиентом: S3A из Hadoop на AWS
SDK для Java. А видит то же, что DuckDB и pandas: hive-разбиение шага 8, где столбец Pclass —
из ключей …/Pclass=1/…. Spark считает выживаемость по классу и полу и пишет её в Parquet
в <бакет>-spark; DuckDB и pandas читают то, что записал Spark. Три движка, три клиента S3,
одно хранилище. На кластере меняется одно: SPARK_MASTER=spark://хост:7077 (здесь local[2]).
Настройки S3A строит lecture/spark_conf.py из той же записи эндпоинта.

Нужны poetry install --with spark и Java 17+.

Запуск: poetry run python spark_read_from_s3.py
"""

import time

import common
from lecture import spark as s3a

SOURCE = "titanic_by_class/"  # записал DuckDB на шаге 8
TARGET = "survival_by_class/"
SEX = {"female": "ж", "male": "м"}
SECONDS = common.DEADLINE + 30  # первый запрос Spark ещё и загружает в JVM классы S3A и AWS SDK
BY_DUCKDB = "SELECT Pclass, Sex, passengers, survived FROM read_parquet({url}) ORDER BY ALL"


def lake(endpoint) -> list[str]:
    """Бакеты эндпоинта, с которыми работает Spark: у каждого — свои настройки S3A."""
    return [endpoint.derived("duckdb"), endpoint.derived("spark")]


def main() -> int:
    common.header("Spark: то же озеро, другой движок")
    if reason := s3a.missing():
        common.note(f"· шаг пропущен: {reason}")
        return 0
    endpoints = common.endpoints()
    try:
        jars = s3a.jars(common.console)  # один раз на машину: дальше — из кэша
    except s3a.DownloadFailed as problem:
        common.config_error(str(problem))
    started = time.perf_counter()
    with s3a.session(endpoints, lake, common.CONNECT_TIMEOUT, common.READ_TIMEOUT, common.ATTEMPTS,
                     jars) as spark:
        started = time.perf_counter() - started
        for endpoint in endpoints:
            with common.endpoint_block(endpoint, seconds=SECONDS), s3a.jobs(spark, endpoint):
                three_engines(spark, endpoint, started)
    return common.summary()


def three_engines(spark, endpoint, started: float) -> None:
    """Spark читает озеро DuckDB и пишет итог в <бакет>-spark; DuckDB и pandas читают записанное."""
    import pandas as pd
    from pyspark.sql import functions as F

    s3 = common.boto3_client(endpoint)
    source, mine = endpoint.derived("duckdb"), endpoint.derived("spark")
    answer = s3.list_buckets()
    if mine not in {bucket["Name"] for bucket in answer["Buckets"]}:
        s3.create_bucket(Bucket=mine, **common.location(endpoint))
    before = s3.list_objects_v2(Bucket=mine, Prefix=TARGET)
    s3a.only_own(endpoint, mine, before.get("Contents", []))  # Spark перезапишет каталог целиком

    working = time.perf_counter()
    titanic = spark.read.parquet(f"s3a://{source}/{SOURCE}")  # LIST, затем GET Range
    survival = titanic.groupBy("Pclass", "Sex").agg(
        F.count("*").alias("passengers"), F.avg("Survived").alias("survived"))
    survival.coalesce(1).write.mode("overwrite").parquet(f"s3a://{mine}/{TARGET}")
    seconds = time.perf_counter() - working
    written = s3a.record_written(endpoint, s3, mine, TARGET)  # в журнал: уберёт cleanup.py
    by_spark = [tuple(row) for row in survival.orderBy("Pclass", "Sex").collect()]

    con = common.duckdb_connect(endpoint)
    query = con.execute(BY_DUCKDB.format(url=common.literal(f"s3://{mine}/{TARGET}*.parquet")))
    by_duckdb = query.fetchall()
    options = common.storage_options(endpoint)
    frame = pd.read_parquet(f"s3://{mine}/{TARGET}", storage_options=options)
    by_pandas = list(frame.sort_values(["Pclass", "Sex"]).itertuples(index=False, name=None))

    rows = [[c, SEX.get(s, s), n, common.number(100 * rate), row in by_duckdb, row in by_pandas]
            for row in by_spark for c, s, n, rate in [row]]
    common.table(f"{endpoint.name}: Spark — {source}/{SOURCE} → {mine}/{TARGET}",
                 ["Класс", "Пол", "Пассажиров", "Выжило, %", "DuckDB", "pandas"], rows)
    parts = ", ".join(item["Key"].removeprefix(TARGET) for item in written)
    common.note(f"Spark {spark.version} ({spark.sparkContext.master}) запущен за "
                f"{common.number(started)} с; прочитал, посчитал и записал за "
                f"{common.number(seconds)} с: {parts}")
    common.check(by_duckdb == by_spark == by_pandas,
                 "DuckDB и pandas читают записанное Spark — три движка сходятся",
                 "DuckDB, pandas и Spark видят разное")


if __name__ == "__main__":
    raise SystemExit(common.run(main))
