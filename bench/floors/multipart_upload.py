"""Пол шага multipart_upload.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/multipart_upload.py
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

import tempfile
from boto3.s3.transfer import TransferConfig
with tempfile.NamedTemporaryFile() as f:
    f.write(os.urandom(64 << 20)); f.flush()
    s3.upload_file(f.name, bucket, "extras/multipart-boto3.bin", Config=TransferConfig(
        multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4))
    mc.fput_object(bucket, "extras/multipart-minio.bin", f.name, part_size=8 << 20, num_parallel_uploads=4)
mc.get_object(bucket, "extras/multipart-boto3.bin").read()
s3.get_object(Bucket=bucket, Key="extras/multipart-minio.bin")["Body"].read()
for k in ("boto3", "minio"):
    s3.head_object(Bucket=bucket, Key=f"extras/multipart-{k}.bin")
