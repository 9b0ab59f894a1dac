"""Шаг 10. pandas пишет DataFrame в S3.

pandas не знает про S3: адрес s3://… он передаёт библиотеке s3fs (fsspec), а та делает
те же PUT, что boto3. storage_options — ключи и адрес эндпоинта. Один DataFrame уходит
в бакет дважды: в Parquet (через pyarrow) и в CSV.

Запуск: poetry run python pandas_dataframe_to_s3.py [--trace]
"""

import common

LEAVES_DATA = True  # записанное остаётся в S3: run_demo.py --from N повторит шаг на пустом сервере


def main() -> int:
    import pandas as pd  # в main: Ctrl-C посреди долгого импорта — тоже одна строка «прервано»

    df = pd.read_csv(common.data_file())
    common.header(f"pandas: DataFrame {df.shape[0]}×{df.shape[1]} → S3")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            options = common.storage_options(endpoint)
            target = f"s3://{endpoint.derived('pandas')}"

            df.to_parquet(f"{target}/titanic.parquet", index=False, storage_options=options)
            df.to_csv(f"{target}/titanic.csv", index=False, storage_options=options)

            common.table(f"{endpoint.name} / {endpoint.derived('pandas')}: записал pandas",
                         ["Ключ", "Формат", "Строк", "Столбцов"],
                         [["titanic.parquet", "Parquet", len(df), df.shape[1]],
                          ["titanic.csv", "CSV", len(df), df.shape[1]]])
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
