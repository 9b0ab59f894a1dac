"""Шаг 19. S3 — это HTTP: список объектов без S3-библиотеки.

aws s3 ls, s3cmd ls, rclone ls и mc ls отправляют один и тот же запрос: GET /<бакет>?list-type=2.
Здесь botocore только подписывает его (SigV4 — это заголовки Authorization и X-Amz-Date),
отправляет обычный urllib, а ответ разбирает стандартный модуль xml. boto3 и minio задают
тот же запрос — ключи совпадают. Подпись на экране скрыта: в ней ключ доступа.

Запуск: poetry run python plain_http.py [--trace]
"""

from xml.etree import ElementTree

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import common


def main() -> int:
    common.header("ListObjectsV2 руками: подписать, отправить, разобрать XML")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket = endpoint.bucket
            url = f"{endpoint.url}/{bucket}?list-type=2"
            request = AWSRequest(method="GET", url=url)
            signer = S3SigV4Auth(Credentials(endpoint.access_key, endpoint.secret_key), "s3",
                                 endpoint.region)
            signer.add_auth(request)  # только подпись: заголовки Authorization и X-Amz-Date

            status, body = common.plain_http("GET", url, endpoint, headers=dict(request.headers))
            answer = s3.list_objects_v2(Bucket=bucket)
            listing = minio.list_objects(bucket_name=bucket, recursive=True)

            root = ElementTree.fromstring(body)  # не XML — ответ не от S3, будет строка ✗
            by_hand = {item.findtext("{*}Key") for item in root.iterfind("{*}Contents")}
            by_boto3 = {item["Key"] for item in answer.get("Contents", [])}
            by_minio = {item.object_name for item in listing}
            auth = request.headers["Authorization"].split("Signature=")[0] + "Signature=…"
            common.note(f"GET /{bucket}?list-type=2 → HTTP {status}\n"
                        f"Authorization: {common.mask_secrets(auth, endpoint)}")
            rows = [[key, key in by_boto3, key in by_minio] for key in sorted(by_hand)]
            common.table(f"{endpoint.name} / {bucket}: ключи из XML", ["Ключ", "boto3", "minio"],
                         rows or [["(пусто)", "", ""]])
            common.check(status == 200 and by_hand == by_boto3 == by_minio,
                         "запрос руками, boto3 и minio видят одни и те же ключи",
                         f"HTTP {status}: ответ руками разошёлся с SDK")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
