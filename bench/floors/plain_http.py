"""Пол шага plain_http.py: самая короткая программа с теми же запросами к S3, что у шага, в том же
порядке, без вывода и проверок (её запускает bench/step_cost.py). Вручную — с теми же переменными
окружения, что у шага, против встроенного S3 (`python local_s3.py`: 127.0.0.1:9000, бакет lecture),
после шагов, которые готовят его данные:
    LOCAL_ENDPOINT_URL=http://127.0.0.1:9000 TITANIC_CSV=titanic.csv python bench/floors/plain_http.py
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

from xml.etree import ElementTree
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
address = f"{url}/{bucket}?list-type=2"
request = AWSRequest(method="GET", url=address)
S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
ElementTree.fromstring(http("GET", address, headers=dict(request.headers)))
s3.list_objects_v2(Bucket=bucket); list(mc.list_objects(bucket, recursive=True))
