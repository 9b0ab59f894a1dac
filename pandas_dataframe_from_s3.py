"""Шаг 11. pandas читает из S3 — и то, что записал сам, и то, что записал DuckDB.

Parquet и CSV, прочитанные из бакета, совпадают с исходным DataFrame. Parquet, который
на шаге 8 записал DuckDB, pandas читает тем же вызовом: один стандарт хранения,
один формат данных — разные инструменты.

Запуск: poetry run python pandas_dataframe_from_s3.py [--trace]
"""

import common

SEX = {"female": "ж", "male": "м"}


def survival(df):  # DataFrame → DataFrame: доля выживших по классу и полу
    return df.groupby(["Pclass", "Sex"]).agg(passengers=("Survived", "size"),
                                             survived=("Survived", "mean"))


def main() -> int:
    import pandas as pd  # в main: Ctrl-C посреди долгого импорта — тоже одна строка «прервано»

    original = pd.read_csv(common.data_file())
    common.header("pandas: DataFrame ← S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            options = common.storage_options(endpoint)
            mine = f"s3://{endpoint.derived('pandas')}"
            duckdbs = f"s3://{endpoint.derived('duckdb')}"

            from_parquet = pd.read_parquet(f"{mine}/titanic.parquet", storage_options=options)
            from_csv = pd.read_csv(f"{mine}/titanic.csv", storage_options=options)
            from_duckdb = pd.read_parquet(f"{duckdbs}/titanic.parquet", storage_options=options)

            table = survival(from_duckdb)
            rows = [[c, SEX.get(s, s), n, common.number(100 * rate)]
                    for (c, s), n, rate in table.itertuples(name=None)]
            common.table(f"{endpoint.name}: Parquet от DuckDB, выживаемость",
                         ["Класс", "Пол", "Пассажиров", "Выжило, %"], rows)
            common.check(from_parquet.equals(original) and from_csv.equals(original),
                         f"Parquet и CSV из S3 совпадают с исходным DataFrame "
                         f"({common.plural(len(original), 'строка', 'строки', 'строк')})",
                         "прочитанный из S3 DataFrame не совпал с исходным")
            common.check(table.equals(survival(original)),
                         "данные DuckDB дают тот же результат, что исходные",
                         "данные DuckDB разошлись с исходными")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
