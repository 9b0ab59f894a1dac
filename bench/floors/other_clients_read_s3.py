"""Пол шага other_clients_read_s3.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/other_clients_read_s3.py
"""
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]

import boto3
from botocore.config import Config
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name="us-east-1", config=cfg)

import shutil, subprocess
import polars as pl
from pyarrow import dataset as ds, fs, parquet as pq
s3.get_object(Bucket=bucket, Key="boto3/titanic.csv")["Body"].read()
s3.head_object(Bucket="lecture-duckdb", Key="titanic.parquet")
a = fs.S3FileSystem(access_key=key, secret_key=secret, region="us-east-1", scheme="http", endpoint_override=url.split("//")[1])
a.open_input_stream(f"{bucket}/boto3/titanic.csv").read()
pq.read_table("lecture-duckdb/titanic.parquet", filesystem=a)
ds.dataset("lecture-duckdb/titanic_by_class", filesystem=a, format="parquet", partitioning="hive").to_table()
o = {"aws_endpoint_url": url, "aws_access_key_id": key, "aws_secret_access_key": secret, "aws_region": "us-east-1",
     "aws_allow_http": "true"}
pl.read_csv(f"s3://{bucket}/boto3/titanic.csv", storage_options=o)
pl.read_parquet("s3://lecture-duckdb/titanic.parquet", storage_options=o)
pl.scan_parquet("s3://lecture-duckdb/titanic_by_class/**/*.parquet", hive_partitioning=True, storage_options=o).collect()
if shutil.which("rclone"):
    subprocess.run(["rclone", "--version"], capture_output=True)
    subprocess.run(["rclone", "cat", f":s3,provider=Other,endpoint={url},access_key_id={key},"
                    f"secret_access_key={secret}:{bucket}/boto3/titanic.csv"], capture_output=True)
if shutil.which("aws"):
    subprocess.run(["aws", "--version"], capture_output=True)
    subprocess.run(["aws", "s3", "cp", f"s3://{bucket}/boto3/titanic.csv", "-", "--endpoint-url", url], capture_output=True,
                   env=dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1"))
