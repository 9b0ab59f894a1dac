"""Шаг 14. Временная ссылка: S3 — это просто HTTP.

Клиент с ключами подписывает ссылку (presigned URL, SigV4): в ней срок жизни и подпись.
Подпись считается локально, запросов к S3 при этом нет. Любая программа без ключей и без
S3-библиотеки (здесь urllib) пишет по ссылке (PUT) и читает (GET). Когда срок истёк,
хранилище отвечает 403.

Запуск: poetry run python presigned_url.py [--trace]
"""

import time
from datetime import timedelta

import common

SOON = 1  # секунда: ссылка, на которой видно, что срок проверяется


def main() -> int:
    common.header("Временные ссылки: подписывают boto3 и minio, ходит urllib")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket, rows, expiring = endpoint.bucket, [], {}

            key = "extras/presigned-boto3.txt"
            body = b"written by a link from boto3"
            put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key})
            get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
            soon_url = s3.generate_presigned_url("get_object", ExpiresIn=SOON,
                                                 Params={"Bucket": bucket, "Key": key})
            put_status, _ = common.plain_http("PUT", put_url, endpoint, body)
            get_status, data = common.plain_http("GET", get_url, endpoint)
            rows.append(["boto3", put_status, get_status, data == body])
            expiring["boto3"] = soon_url

            key = "extras/presigned-minio.txt"
            body = b"written by a link from minio"
            put_url = minio.presigned_put_object(bucket_name=bucket, object_name=key)
            get_url = minio.presigned_get_object(bucket_name=bucket, object_name=key)
            soon_url = minio.presigned_get_object(bucket_name=bucket, object_name=key,
                                                  expires=timedelta(seconds=SOON))
            put_status, _ = common.plain_http("PUT", put_url, endpoint, body)
            get_status, data = common.plain_http("GET", get_url, endpoint)
            rows.append(["minio", put_status, get_status, data == body])
            expiring["minio"] = soon_url

            time.sleep(SOON + 1)
            for row in rows:
                expired_status, _ = common.plain_http("GET", expiring[row[0]], endpoint)
                row.append(expired_status)
            common.table(f"{endpoint.name}: HTTP-статусы по ссылкам",
                         ["Подписал", "PUT", "GET", "Те же байты", "GET через 2 с"], rows)
            common.check(all(row[1] == row[2] == 200 and row[3] for row in rows),
                         "по ссылкам пишут и читают без ключей",
                         "по ссылке не удалось записать или прочитать")
            with common.feature("просроченная ссылка"):
                common.lacks(any(row[4] != 403 for row in rows), "не проверяет срок")
                common.ok("просроченная ссылка получила 403")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
