"""Пол шага duckdb_copy_to_s3.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/duckdb_copy_to_s3.py
"""
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]

import duckdb, duckdb_extension_httpfs, pathlib
con = duckdb.connect()
con.load_extension(str(next(pathlib.Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
            f"ENDPOINT '{url.split('//')[1]}', USE_SSL false, URL_STYLE 'path')")

con.execute("SELECT count(*) FROM glob('s3://lecture-duckdb/**')").fetchall()
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{data}')")
con.execute("COPY t TO 's3://lecture-duckdb/titanic.parquet' (FORMAT parquet)")
con.execute("COPY t TO 's3://lecture-duckdb/titanic_by_class' (FORMAT parquet, PARTITION_BY (Pclass), "
            "OVERWRITE_OR_IGNORE, RETURN_FILES)").fetchall()
con.execute("SELECT count(*) FROM 's3://lecture-duckdb/titanic.parquet'").fetchall()
