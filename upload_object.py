"""Шаг 3. Загрузка объекта.

PUT кладёт в бакет объект целиком: данные, ключ и метаданные (Content-Type и свои
x-amz-meta-*). Дописать кусок в объект нельзя, только заменить. Каждый клиент загружает
titanic.csv под своим ключом, затем HEAD показывает, что запомнило хранилище.

Запуск: poetry run python upload_object.py [--trace]
"""

import common

LEAVES_DATA = True  # записанное остаётся в S3: run_demo.py --from N повторит шаг на пустом сервере
METADATA = {"dataset": "titanic", "client": "boto3"}  # заголовки x-amz-meta-dataset и -client


def main() -> int:
    path = common.data_file(download=True)
    size = path.stat().st_size
    common.header(f"Загрузка {path.name} ({common.human_size(size)}) в основной бакет")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket = endpoint.bucket

            s3.upload_file(str(path), bucket, "boto3/titanic.csv", ExtraArgs={
                "ContentType": "text/csv", "Metadata": METADATA})
            head = s3.head_object(Bucket=bucket, Key="boto3/titanic.csv")

            minio.fput_object(bucket_name=bucket, object_name="minio/titanic.csv",
                              file_path=str(path), content_type="text/csv",
                              metadata={"dataset": "titanic", "client": "minio"})
            stat = minio.stat_object(bucket_name=bucket, object_name="minio/titanic.csv")

            etags = [head["ETag"].strip('"'), stat.etag]
            common.table(f"{endpoint.name} / {bucket}: что запомнило хранилище (HEAD)",
                         ["", "boto3/titanic.csv", "minio/titanic.csv"], [
                             ["Размер", common.human_size(head["ContentLength"]),
                              common.human_size(stat.size)],
                             ["ETag", *(common.short_etag(etag) for etag in etags)],
                             ["Content-Type", head["ContentType"], stat.content_type],
                             ["x-amz-meta-*", head["Metadata"],
                              common.user_metadata(stat.metadata)],
                         ])
            # ETag простого PUT — MD5 содержимого; у составной загрузки он зависит от частей.
            common.check(head["ContentLength"] == stat.size == size
                         and common.same_metadata(head["Metadata"], METADATA),
                         "оба объекта байт в байт размером с файл, метаданные на месте",
                         "размер объекта не совпал с файлом или метаданные потеряны")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
