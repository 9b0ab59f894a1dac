"""Шаг 9. DuckDB читает Parquet прямо из S3.

Ничего не скачивается целиком: DuckDB запрашивает у S3 диапазоны байтов (HTTP Range) —
сначала метаданные Parquet, затем только нужные столбцы. SQL по объекту в бакете —
как по локальной таблице; разбиение по Pclass читается как столбец.

Запуск: poetry run python duckdb_read_from_s3.py [--trace]
"""

import common

SURVIVAL = """
    SELECT Pclass, Sex, count(*) AS passengers, avg(Survived) AS survived
    FROM read_parquet({url}) GROUP BY ALL ORDER BY ALL
"""
BY_CLASS = """
    SELECT Pclass, count(*), count(DISTINCT filename)
    FROM read_parquet({pattern}, hive_partitioning = true, filename = true)
    GROUP BY ALL ORDER BY ALL
"""
SEX = {"female": "ж", "male": "м"}


def main() -> int:
    common.header("DuckDB: SQL по Parquet в S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            con = common.duckdb_connect(endpoint)
            source = f"s3://{endpoint.derived('duckdb')}"

            url = common.literal(f"{source}/titanic.parquet")
            result = con.execute(SURVIVAL.format(url=url))
            survival = result.fetchall()
            pattern = common.literal(f"{source}/titanic_by_class/*/*.parquet")
            partitions = con.execute(BY_CLASS.format(pattern=pattern))
            by_class = partitions.fetchall()

            total = sum(row[2] for row in survival)
            rows = [[c, SEX.get(s, s), n, common.number(100 * rate)] for c, s, n, rate in survival]
            common.table(f"{endpoint.name}: {common.plural(total, *PASSENGERS)}, выживаемость",
                         ["Класс", "Пол", "Пассажиров", "Выжило, %"], rows)
            parts = " + ".join(str(n) for _, n, _ in by_class)
            files = sum(f for _, _, f in by_class)  # объектов под шаблоном: чужой тоже читается
            common.check(sum(n for _, n, _ in by_class) == total,
                         f"разбиение по классу сходится: {parts} = {common.plural(total, *ROWS)} "
                         f"из {common.plural(files, *FILES)}",
                         "в разбиении по классу не столько строк, сколько в titanic.parquet")
    return common.summary()


PASSENGERS = ("пассажир", "пассажира", "пассажиров")
ROWS = ("строка", "строки", "строк")
FILES = ("файла", "файлов", "файлов")  # «из 1 файла», «из 3 файлов»

if __name__ == "__main__":
    raise SystemExit(common.run(main))
