"""Шаг 1 (и 7). Список бакетов.

Бакет — корневой контейнер S3: у каждого эндпоинта свой набор бакетов. Один и тот же запрос
ListBuckets задают два разных клиента, boto3 и minio, — и получают одинаковый ответ:
это и есть стандарт.

Запуск: poetry run python list_bucket.py
"""

import common


def main() -> int:
    common.header("Бакеты каждого эндпоинта: boto3 и minio")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            by_boto3 = {b["Name"]: b["CreationDate"] for b in common.boto3_client(endpoint).list_buckets()["Buckets"]}
            by_minio = {b.name: b.creation_date for b in common.minio_client(endpoint).list_buckets()}

            rows = [[name, common.agree(name in by_boto3), common.agree(name in by_minio),
                     f"{(by_boto3.get(name) or by_minio.get(name)):%Y-%m-%d %H:%M}"]
                    for name in sorted(by_boto3.keys() | by_minio.keys())]
            common.table(f"{endpoint.name}: бакетов — {len(rows)}", ["Бакет", "boto3", "minio", "Создан"], rows)
            common.check(by_boto3.keys() == by_minio.keys(),
                         f"boto3 и minio видят одни и те же бакеты: {len(rows)}", "boto3 и minio видят разные бакеты")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
