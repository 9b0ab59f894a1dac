"""Пол шага presigned_url.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/presigned_url.py
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

import urllib.error, urllib.request
def http(method, address, body=None, headers={}):
    kind = {"Content-Type": "application/octet-stream"} if body is not None else {}
    try:
        return urllib.request.urlopen(urllib.request.Request(address, body, {**kind, **headers}, method=method)).read()
    except urllib.error.HTTPError as error:
        return error.read()

import time
from datetime import timedelta
p = {"Bucket": bucket, "Key": "extras/presigned-boto3.txt"}
soon = [s3.generate_presigned_url("get_object", Params=p, ExpiresIn=1)]
http("PUT", s3.generate_presigned_url("put_object", Params=p), b"x")
http("GET", s3.generate_presigned_url("get_object", Params=p))
k = "extras/presigned-minio.txt"
soon.append(mc.presigned_get_object(bucket, k, expires=timedelta(seconds=1)))
http("PUT", mc.presigned_put_object(bucket, k), b"x")
http("GET", mc.presigned_get_object(bucket, k))
time.sleep(2)
for address in soon:
    http("GET", address)
