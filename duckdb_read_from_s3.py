"""Шаг 9. DuckDB читает Parquet прямо из S3.

Ничего не скачивается целиком: DuckDB запрашивает у S3 диапазоны байтов (HTTP Range) —
сначала метаданные Parquet, затем только нужные столбцы. SQL по объекту в бакете —
как по локальной таблице; разбиение по Pclass читается как столбец.

Запуск: poetry run python duckdb_read_from_s3.py
"""

import common

SURVIVAL = """
    SELECT Pclass AS класс, Sex AS пол, count(*) AS пассажиров, round(100 * avg(Survived), 1) AS "выжило, %"
    FROM '{source}' GROUP BY ALL ORDER BY ALL
"""


def main() -> int:
    common.header("DuckDB: запросы к Parquet в S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            con = common.duckdb_connect(endpoint)
            source = f"s3://{endpoint.duckdb_bucket}"

            total = con.execute(f"SELECT count(*) FROM '{source}/titanic.parquet'").fetchone()[0]
            result = con.execute(SURVIVAL.format(source=f"{source}/titanic.parquet"))
            common.table(f"{endpoint.name}: {total} пассажиров — выживаемость по классу и полу",
                         [c[0] for c in result.description], result.fetchall())

            by_class = con.execute(f"SELECT Pclass, count(*) FROM read_parquet('{source}/titanic_by_class/*/*.parquet',"
                                   " hive_partitioning = true) GROUP BY ALL ORDER BY ALL").fetchall()
            common.check(sum(n for _, n in by_class) == total,
                         "разбиение по классу: " + ", ".join(f"Pclass={c}: {n}" for c, n in by_class),
                         "в разбиении по классу не столько строк, сколько в titanic.parquet")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
