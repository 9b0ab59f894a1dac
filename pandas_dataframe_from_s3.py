"""Шаг 11. pandas читает из S3 — и то, что записал сам, и то, что записал DuckDB.

Parquet и CSV, прочитанные из бакета, совпадают с исходным DataFrame. Parquet, который
на шаге 8 записал DuckDB, pandas читает тем же вызовом: один стандарт хранения,
один формат данных — разные инструменты.

Запуск: poetry run python pandas_dataframe_from_s3.py
"""

import pandas as pd

import common


def survival(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby(["Pclass", "Sex"]).agg(пассажиров=("Survived", "size"), выжило=("Survived", "mean"))


def main() -> int:
    original = pd.read_csv(common.data_file())
    common.header("pandas: DataFrame ← S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            options = common.storage_options(endpoint)

            from_parquet = pd.read_parquet(f"s3://{endpoint.pandas_bucket}/titanic.parquet", storage_options=options)
            from_csv = pd.read_csv(f"s3://{endpoint.pandas_bucket}/titanic.csv", storage_options=options)
            from_duckdb = pd.read_parquet(f"s3://{endpoint.duckdb_bucket}/titanic.parquet", storage_options=options)

            table = survival(from_duckdb)
            common.table(f"{endpoint.name}: {len(from_duckdb)} пассажиров из Parquet DuckDB — выживаемость",
                         ["класс", "пол", "пассажиров", "выжило, %"],
                         [[c, s, n, f"{100 * rate:.1f}"] for (c, s), n, rate in table.itertuples(name=None)])
            common.check(from_parquet.equals(original) and from_csv.equals(original),
                         f"Parquet и CSV из S3 совпадают с исходным DataFrame ({len(original)} строк)",
                         "прочитанный из S3 DataFrame не совпал с исходным")
            common.check(table.equals(survival(original)), "данные DuckDB дают тот же результат, что исходные",
                         "данные DuckDB разошлись с исходными")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
