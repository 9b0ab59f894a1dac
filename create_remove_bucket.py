"""Шаг 5. Создание и удаление бакета.

CreateBucket и DeleteBucket — те же запросы у любого провайдера. Каждый клиент создаёт
временный бакет <бакет>-tmp, находит его в списке, удаляет и убеждается, что его больше нет.
Удаляется только бакет, созданный здесь же: если такой уже был, его не трогаем.

Запуск: poetry run python create_remove_bucket.py
"""

import common


def main() -> int:
    common.header("Временный бакет: создать, увидеть, удалить")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
            name = endpoint.temp_bucket
            common.check(not minio.bucket_exists(bucket_name=name), f"бакета {name} пока нет",
                         f"бакет {name} уже есть — его создали не сейчас, не трогаю (удалите его сами или cleanup.py)")
            rows, passed = [], []

            s3.create_bucket(Bucket=name, **common.location(endpoint))
            created = name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
            s3.delete_bucket(Bucket=name)
            gone = name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
            rows.append(["boto3", name, common.agree(created), common.agree(gone)])
            passed += [created, gone]

            minio.make_bucket(bucket_name=name, location=endpoint.region)
            created = name in [b.name for b in minio.list_buckets()]
            minio.remove_bucket(bucket_name=name)
            gone = name not in [b.name for b in minio.list_buckets()]
            rows.append(["minio", name, common.agree(created), common.agree(gone)])
            passed += [created, gone]

            common.table(f"{endpoint.name}: создание и удаление", ["Клиент", "Бакет", "Появился", "Исчез"], rows)
            common.check(all(passed), "оба клиента создали и удалили бакет",
                         "бакет не появился в списке или не исчез из него")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
