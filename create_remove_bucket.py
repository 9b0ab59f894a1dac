"""Шаг 5. Создание и удаление бакета.

CreateBucket (PUT /<бакет>) и DeleteBucket (DELETE /<бакет>) — те же запросы у любого
провайдера. Каждый клиент создаёт временный бакет <бакет>-tmp, находит его в списке, удаляет
и убеждается, что его больше нет. Удаляется только бакет, созданный здесь же: даже если
запрос после создания не прошёл, бакет удаляется; а если такой бакет уже был, его не трогаем.

Запуск: poetry run python create_remove_bucket.py [--trace]
"""

import common


def main() -> int:
    common.header("Временный бакет: создать, увидеть в списке, удалить")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            name = endpoint.derived("temp")
            rows = []

            existed = minio.bucket_exists(bucket_name=name)  # HEAD /<бакет>: 200 — есть, 404 — нет
            common.check(not existed, f"бакета {name} пока нет",
                         f"бакет {name} уже есть: его создали не сейчас, не трогаю "
                         "(удалите его сами или python cleanup.py --yes)")

            s3.create_bucket(Bucket=name, **common.location(endpoint))
            try:
                listed = s3.list_buckets()
            finally:  # удаляем созданный здесь бакет, даже если список не пришёл
                s3.delete_bucket(Bucket=name)
            after = s3.list_buckets()
            rows.append(["boto3", name in names(listed), name not in names(after)])

            minio.make_bucket(bucket_name=name, location=endpoint.region)
            try:
                seen = minio.list_buckets()
            finally:
                minio.remove_bucket(bucket_name=name)
            left = minio.list_buckets()
            rows.append(["minio", name in names(seen), name not in names(left)])

            common.table(f"{endpoint.name}: {name}", ["Клиент", "Появился в списке", "Исчез"], rows)
            common.check(all(rows[0][1:] + rows[1][1:]), "оба клиента создали и удалили бакет",
                         "бакет не появился в списке или не исчез из него")
    return common.summary()


def names(answer) -> list[str]:
    """Имена из ответа ListBuckets: словарь boto3 или список объектов minio."""
    if isinstance(answer, dict):
        return [bucket["Name"] for bucket in answer["Buckets"]]
    return [bucket.name for bucket in answer]


if __name__ == "__main__":
    raise SystemExit(common.run(main))
