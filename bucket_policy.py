"""Шаг 18. Кто может читать: политика бакета.

Бакет закрыт по умолчанию: запрос без подписи (анонимный) получает 403. Политика бакета —
JSON в духе IAM: «кому (Principal), что (Action), над чем (Resource)». Политика, разрешающая
всем s3:GetObject, открывает объекты для чтения любому HTTP-клиенту; DELETE ?policy её снимает.
Шаг делает это на своём бакете <бакет>-pub и в конце удаляет и объект, и бакет.

Запуск: poetry run python bucket_policy.py [--trace]
"""

import json

import common

KEY = "hello.txt"


def policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"]}]})


def main() -> int:
    common.header("Политика бакета: анонимное чтение открыть и закрыть")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket = endpoint.derived("public")
            url = object_url(endpoint, bucket, KEY)  # адрес без подписи: так его видит весь мир

            existed = minio.bucket_exists(bucket_name=bucket)
            common.check(not existed, f"бакета {bucket} пока нет",
                         f"бакет {bucket} уже есть: его создали не сейчас, не трогаю")
            s3.create_bucket(Bucket=bucket, **common.location(endpoint))
            try:
                s3.put_object(Bucket=bucket, Key=KEY, Body=b"hello, world")
                closed, _ = common.plain_http("GET", url, endpoint)
                with common.feature("политика бакета"):
                    common.lacks(closed != 403,
                                 f"без политики отдаёт объект анонимно (HTTP {closed})")
                    minio.set_bucket_policy(bucket_name=bucket, policy=policy(bucket))
                    opened, body = common.plain_http("GET", url, endpoint)
                    s3.delete_bucket_policy(Bucket=bucket)
                    closed_again, _ = common.plain_http("GET", url, endpoint)
                    common.table(f"{endpoint.name}: анонимный GET {bucket}/{KEY}",
                                 ["Политика", "HTTP-статус"],
                                 [["нет", closed], ["Allow * s3:GetObject", opened],
                                  ["снята", closed_again]])
                    common.lacks(opened != 200,
                                 f"принял политику, но анонимный GET получил {opened}")
                    common.check(closed == closed_again == 403 and body == b"hello, world",
                                 "политика открыла чтение всем, без неё бакет снова закрыт",
                                 "без политики объект читается анонимно")
            finally:  # бакет создан здесь: убираем его и объект, даже если шаг не удался
                s3.delete_object(Bucket=bucket, Key=KEY)
                s3.delete_bucket(Bucket=bucket)
    return common.summary()


def object_url(endpoint: common.Endpoint, bucket: str, key: str) -> str:
    # vhost: бакет в имени хоста — https://<бакет>.storage.yandexcloud.net/<ключ>
    if endpoint.url_style == "vhost":
        scheme, host = endpoint.url.split("://")
        return f"{scheme}://{bucket}.{host}/{key}"
    return f"{endpoint.url}/{bucket}/{key}"


if __name__ == "__main__":
    raise SystemExit(common.run(main))
