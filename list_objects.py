"""Шаги 2, 4 и 12. Объекты в бакетах лекции.

Объект — это ключ, данные и метаданные. Папок в S3 нет: «boto3/titanic.csv» — просто ключ
со слэшем, а «папки» консоли — общие префиксы ключей. ListObjectsV2 отдаёт ключи страницами
по 1000: boto3 листает их пагинатором, minio — генератором.

Запуск: poetry run python list_objects.py [--trace]
"""

import common

OBJECTS = ("объект", "объекта", "объектов")


def main() -> int:
    common.header("Объекты в бакетах лекции: boto3 и minio")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)

            answer = s3.list_buckets()
            existing = {bucket["Name"] for bucket in answer["Buckets"]}
            lecture = [endpoint.bucket, endpoint.derived("duckdb"), endpoint.derived("pandas")]
            for bucket in [name for name in lecture if name in existing]:
                by_boto3 = {}
                pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for page in pages:  # GET /<бакет>?list-type=2 — по странице за запрос
                    for item in page.get("Contents", []):
                        by_boto3[item["Key"]] = item["Size"]
                by_minio = {}
                for item in minio.list_objects(bucket_name=bucket, recursive=True):
                    by_minio[item.object_name] = item.size
                common.compare(f"{endpoint.name} / {bucket}", ["Ключ", "Размер"],
                               by_boto3, by_minio, OBJECTS)
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
