"""Пол шага bucket_policy.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/bucket_policy.py
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

import json
b = "lecture-pub"
address = f"{url}/{b}/hello.txt"
mc.bucket_exists(b)
s3.create_bucket(Bucket=b)
s3.put_object(Bucket=b, Key="hello.txt", Body=b"hello, world")
http("GET", address)
mc.set_bucket_policy(b, json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{b}/*"]}]}))
http("GET", address)
s3.delete_bucket_policy(Bucket=b)
http("GET", address)
s3.delete_object(Bucket=b, Key="hello.txt"); s3.delete_bucket(Bucket=b)
