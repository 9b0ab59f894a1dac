"""Шаги 2, 4 и 12. Объекты в бакетах.

Объект — это ключ, данные и метаданные. Папок в S3 нет: «boto3/titanic.csv» — просто ключ
со слэшем, а «папки» консоли — общие префиксы ключей. ListObjectsV2 отдаёт ключи постранично
(по 1000), поэтому boto3 листает страницы пагинатором, а minio — генератором.

Запуск: poetry run python list_objects.py
"""

import common

SHOWN_PER_BUCKET = 20  # длинный бакет в облаке не должен заливать экран


def main() -> int:
    common.header("Объекты во всех бакетах: boto3 и minio")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
            for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
                by_boto3 = {obj["Key"]: obj for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                            for obj in page.get("Contents", [])}
                by_minio = {obj.object_name: obj for obj in minio.list_objects(bucket_name=bucket, recursive=True)}

                rows = [[key, common.human_size(obj["Size"]), f"{obj['LastModified']:%Y-%m-%d %H:%M:%S}",
                         common.agree(key in by_minio)] for key, obj in sorted(by_boto3.items())]
                hidden = len(rows) - SHOWN_PER_BUCKET
                rows = rows[:SHOWN_PER_BUCKET] + ([[f"… и ещё {hidden}", "", "", ""]] if hidden > 0 else [])
                common.table(f"{endpoint.name} / {bucket}: объектов — {len(by_boto3)}",
                             ["Ключ", "Размер", "Изменён (UTC)", "minio"], rows or [["(пусто)", "", "", ""]])
                common.check(by_boto3.keys() == by_minio.keys(), f"{bucket}: boto3 и minio видят одни и те же ключи",
                             f"{bucket}: boto3 и minio видят разные ключи")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
