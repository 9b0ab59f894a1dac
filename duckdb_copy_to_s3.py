"""Шаг 8. DuckDB пишет в S3.

DuckDB читает локальный CSV и одной командой COPY кладёт его в S3 как Parquet — колоночный
формат аналитики. Второй COPY разбивает данные по классу каюты: ключи вида
titanic_by_class/Pclass=1/data_0.parquet («hive-разбиение»). Папок в S3 нет — это префиксы ключей.

Запуск: poetry run python duckdb_copy_to_s3.py
"""

import common


def main() -> int:
    path = common.data_file()
    common.header("DuckDB: CSV → Parquet в S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            con = common.duckdb_connect(endpoint)
            target = f"s3://{endpoint.duckdb_bucket}"
            # glob по S3 — это ListObjectsV2: DuckDB умеет листать бакет, как boto3 и minio.
            before = con.execute(f"SELECT count(*) FROM glob('{target}/**')").fetchone()[0]
            common.ok(f"{target}: объектов до записи — {before}")
            con.execute(f"CREATE TABLE titanic AS SELECT * FROM read_csv('{path}')")

            con.execute(f"COPY titanic TO '{target}/titanic.parquet' (FORMAT parquet)")
            con.execute(f"COPY titanic TO '{target}/titanic_by_class' "
                        "(FORMAT parquet, PARTITION_BY (Pclass), OVERWRITE_OR_IGNORE)")

            files = con.execute(f"SELECT file FROM glob('{target}/**/*.parquet') ORDER BY file").fetchall()
            counts = con.execute(f"SELECT count(*) FROM '{target}/titanic.parquet'").fetchone()[0]
            common.table(f"{endpoint.name}: что записал DuckDB", ["Ключ в S3"], [[f] for (f,) in files])
            common.check(counts == con.execute("SELECT count(*) FROM titanic").fetchone()[0],
                         f"в Parquet все {counts} строк CSV", "в Parquet не столько строк, сколько в CSV")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
