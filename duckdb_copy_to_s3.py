"""Шаг 8. DuckDB пишет в S3.

DuckDB читает локальный CSV и одной командой COPY кладёт его в S3 как Parquet — колоночный
формат аналитики. Второй COPY разбивает данные по классу каюты: ключи вида
titanic_by_class/Pclass=1/data_0.parquet («hive-разбиение»). Папок в S3 нет — это префиксы ключей.
Строки в SQL — в кавычках через common.literal: путь с апострофом не ломает запрос.

Запуск: poetry run python duckdb_copy_to_s3.py [--trace]
"""

import common

LEAVES_DATA = True  # записанное остаётся в S3: run_demo.py --from N повторит шаг на пустом сервере

ROWS = ("строка", "строки", "строк")


def main() -> int:
    path = common.data_file()
    csv = common.literal(path)
    common.header("DuckDB: CSV → Parquet в S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            con = common.duckdb_connect(endpoint, writes=True)  # пишет: журнал проверен заранее
            target = f"s3://{endpoint.derived('duckdb')}"
            parquet = common.literal(f"{target}/titanic.parquet")
            by_class = common.literal(f"{target}/titanic_by_class")

            # glob по S3 — это ListObjectsV2: DuckDB листает бакет, как boto3 и minio.
            found = con.execute(f"SELECT count(*) FROM glob({common.literal(target + '/**')})")
            common.note(f"{target}: объектов до записи — {found.fetchone()[0]}")

            con.execute(f"CREATE TABLE titanic AS SELECT * FROM read_csv({csv})")
            con.execute(f"COPY titanic TO {parquet} (FORMAT parquet)")
            written = con.execute(f"""COPY titanic TO {by_class}
                                      (FORMAT parquet, PARTITION_BY (Pclass), OVERWRITE_OR_IGNORE,
                                       RETURN_FILES)""")
            rows, files = written.fetchone()

            keys = [[url.removeprefix(target + "/")] for url in sorted(files)]
            common.table(f"{endpoint.name} / {endpoint.derived('duckdb')}: записал DuckDB",
                         ["Ключ"], [["titanic.parquet"], *keys])
            check = con.execute(f"SELECT count(*) FROM read_parquet({parquet})")
            counted = check.fetchone()[0]
            common.check(counted == rows, f"в Parquet все {common.plural(rows, *ROWS)} CSV",
                         "в Parquet не столько строк, сколько в CSV")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
