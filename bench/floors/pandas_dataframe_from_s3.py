"""Пол шага pandas_dataframe_from_s3.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/pandas_dataframe_from_s3.py
"""
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]

import pandas as pd
opts = {"key": key, "secret": secret, "endpoint_url": url, "config_kwargs": {
        "request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}}

pd.read_parquet("s3://lecture-pandas/titanic.parquet", storage_options=opts)
pd.read_csv("s3://lecture-pandas/titanic.csv", storage_options=opts)
pd.read_parquet("s3://lecture-duckdb/titanic.parquet", storage_options=opts)
