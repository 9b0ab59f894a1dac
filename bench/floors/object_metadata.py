"""Пол шага object_metadata.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/object_metadata.py
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

from minio import Minio
mc = Minio(url.split("//")[1], access_key=key, secret_key=secret, secure=False, region="us-east-1")

from minio.commonconfig import REPLACE, CopySource
k = "extras/metadata.txt"
s3.put_object(Bucket=bucket, Key=k, Body=b"x", ContentType="text/plain", Metadata={"v": "1"}, Tagging="a=b")
mc.stat_object(bucket, k)
mc.copy_object(bucket, k, CopySource(bucket, k), metadata={"Content-Type": "text/plain", "v": "2"},
               metadata_directive=REPLACE)
s3.head_object(Bucket=bucket, Key=k)
mc.get_object_tags(bucket, k); s3.get_object_tagging(Bucket=bucket, Key=k)
