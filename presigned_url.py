"""Шаг 14. Временная ссылка: S3 — это просто HTTP.

Клиент с ключами подписывает ссылку (presigned URL, SigV4): в ней срок жизни и подпись.
Любая программа без ключей и без S3-библиотеки — здесь urllib — читает (GET) и пишет (PUT)
по такой ссылке. Когда срок истёк, хранилище отвечает 403.

Запуск: poetry run python presigned_url.py
"""

import ssl
import time
import urllib.error
import urllib.request
from datetime import timedelta

import common

EXPIRES_SOON = 1  # секунда: ссылка, на которой видно, что срок проверяется


def http(method: str, url: str, endpoint: common.Endpoint, body: bytes | None = None) -> tuple[int, bytes]:
    """Обычный HTTP-запрос: никаких ключей, только ссылка (и свой CA, если он задан)."""
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/octet-stream"} if body else {})
    context = ssl.create_default_context(cafile=endpoint.ca_bundle)
    try:
        with urllib.request.urlopen(request, timeout=common.READ_TIMEOUT, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # 403 у просроченной ссылки — ожидаемый ответ
        return error.code, error.read()


def main() -> int:
    common.header("Временные ссылки: подписывают boto3 и minio, ходит urllib")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
            bucket, soon = endpoint.bucket, timedelta(seconds=EXPIRES_SOON)
            boto3_key, minio_key = "extras/presigned-boto3.txt", "extras/presigned-minio.txt"
            links = {  # PUT, GET и GET со сроком в секунду; подпись считается локально, запросов к S3 нет
                "boto3": [s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": boto3_key}),
                          s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": boto3_key}),
                          s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": boto3_key},
                                                    ExpiresIn=EXPIRES_SOON)],
                "minio": [minio.presigned_put_object(bucket_name=bucket, object_name=minio_key),
                          minio.presigned_get_object(bucket_name=bucket, object_name=minio_key),
                          minio.presigned_get_object(bucket_name=bucket, object_name=minio_key, expires=soon)],
            }
            rows, passed = {}, []
            for client, (put_url, get_url, _) in links.items():
                body = f"записано по ссылке от {client}".encode()
                put_status, _ = http("PUT", put_url, endpoint, body)
                get_status, data = http("GET", get_url, endpoint)
                same = "те же байты" if data == body else "другие байты"
                rows[client] = [client, put_status, f"{get_status}, {same}"]
                passed.append(put_status == get_status == 200 and data == body)
            time.sleep(EXPIRES_SOON + 1)
            for client, (_, _, soon_url) in links.items():
                expired_status, _ = http("GET", soon_url, endpoint)
                rows[client].append(expired_status)
                if expired_status != 403:
                    common.console.print(f"[bold yellow]![/] {client}: сервер не проверил срок ссылки "
                                         "(так ведёт себя встроенный moto; MinIO, Ceph и облака отвечают 403)")
            common.table(f"{endpoint.name}: HTTP-статусы по ссылкам", ["Подписал", "PUT", "GET", "GET просроченной"],
                         list(rows.values()))
            common.check(all(passed), "по ссылкам пишут и читают без ключей",
                         "по ссылке не удалось записать или прочитать")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
