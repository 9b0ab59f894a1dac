"""Пол шага duckdb_pushdown.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/duckdb_pushdown.py
"""
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]

import duckdb, duckdb_extension_httpfs, pathlib
con = duckdb.connect()
con.load_extension(str(next(pathlib.Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
            f"ENDPOINT '{url.split('//')[1]}', USE_SSL false, URL_STYLE 'path')")

import boto3
from botocore.config import Config
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name="us-east-1", config=cfg)

u = "s3://lecture-duckdb/pushdown/events-1000000.parquet"
if (u,) not in con.execute("SELECT file FROM glob('s3://lecture-duckdb/pushdown/*')").fetchall():
    con.execute(f"COPY (SELECT range AS id, random() * 1000 AS amount, md5(range::VARCHAR) AS note "
                f"FROM range(1000000)) TO '{u}' (FORMAT parquet, ROW_GROUP_SIZE 100000)")
s3.head_object(Bucket="lecture-duckdb", Key="pushdown/events-1000000.parquet")
con.execute("SET enable_external_file_cache = false")
q = f"SELECT count(*), avg(amount) FROM '{u}' WHERE id BETWEEN 500000 AND 509999"
con.execute(q).fetchall(); con.execute("EXPLAIN ANALYZE " + q).fetchall()
