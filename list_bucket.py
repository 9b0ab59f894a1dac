"""Шаги 1 и 7. Список бакетов.

Бакет — корневой контейнер S3: у каждого эндпоинта свой набор бакетов. Один и тот же запрос
ListBuckets (GET /) задают два разных клиента, boto3 и minio, и получают одинаковый ответ:
это и есть стандарт.

Запуск: poetry run python list_bucket.py [--trace]
"""

import common

BUCKETS = ("бакет", "бакета", "бакетов")


def main() -> int:
    common.header("Бакеты каждого эндпоинта: спрашивают boto3 и minio")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)

            answer = s3.list_buckets()  # GET / → имена бакетов и даты создания
            buckets = minio.list_buckets()

            by_boto3 = {b["Name"]: b["CreationDate"] for b in answer["Buckets"]}
            by_minio = {b.name: b.creation_date for b in buckets}
            common.compare(f"{endpoint.name}: бакеты", ["Бакет", "Создан (UTC)"],
                           by_boto3, by_minio, BUCKETS)
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
