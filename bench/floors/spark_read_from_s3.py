"""Пол шага spark_read_from_s3.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные, и с jar S3A в кэше (`python -m lecture.spark`):
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/spark_read_from_s3.py
"""
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]
jars = os.path.expanduser("~/.cache/s3-lecture/spark-jars")

import boto3
from botocore.config import Config
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name="us-east-1", config=cfg)

from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.driver.extraClassPath", ":".join(f"{jars}/{j}" for j in (
             "hadoop-aws-3.5.0.jar", "bundle-2.35.4.jar", "analyticsaccelerator-s3-1.3.1.jar")))
         .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
         .config("spark.hadoop.fs.s3a.endpoint", url).config("spark.hadoop.fs.s3a.path.style.access", "true")
         .config("spark.hadoop.fs.s3a.endpoint.region", "us-east-1")
         .config("spark.hadoop.fs.s3a.access.key", key).config("spark.hadoop.fs.s3a.secret.key", secret)
         .config("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
         .getOrCreate())
s3.list_buckets()
s3.list_objects_v2(Bucket="lecture-spark", Prefix="survival_by_class/")
t = spark.read.parquet("s3a://lecture-duckdb/titanic_by_class/")
agg = t.groupBy("Pclass", "Sex").agg(F.count("*").alias("passengers"), F.avg("Survived").alias("survived"))
agg.coalesce(1).write.mode("overwrite").parquet("s3a://lecture-spark/survival_by_class/")
s3.list_objects_v2(Bucket="lecture-spark", Prefix="survival_by_class/")
agg.orderBy("Pclass", "Sex").collect()

import duckdb, duckdb_extension_httpfs, pathlib
con = duckdb.connect()
con.load_extension(str(next(pathlib.Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
            f"ENDPOINT '{url.split('//')[1]}', USE_SSL false, URL_STYLE 'path')")
con.execute("SELECT * FROM read_parquet('s3://lecture-spark/survival_by_class/*.parquet') ORDER BY ALL").fetchall()

import pandas as pd
pd.read_parquet("s3://lecture-spark/survival_by_class/", storage_options={
    "key": key, "secret": secret, "endpoint_url": url, "client_kwargs": {"region_name": "us-east-1"}})
spark.stop()
