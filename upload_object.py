"""Шаг 3. Загрузка объекта.

PUT кладёт в бакет объект целиком: данные, ключ и метаданные (Content-Type и свои
x-amz-meta-*). Дописать кусок в объект нельзя — только заменить. Каждый клиент загружает
titanic.csv под своим ключом, затем HEAD показывает, что хранилище запомнило.

Запуск: poetry run python upload_object.py
"""

import common


def main() -> int:
    path = common.data_file(download=True)
    common.header(f"Загрузка {path.name} ({common.human_size(path.stat().st_size)}) в основной бакет")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)

            s3.upload_file(str(path), endpoint.bucket, "boto3/titanic.csv",
                           ExtraArgs={"ContentType": "text/csv", "Metadata": {"dataset": "titanic", "client": "boto3"}})
            head = s3.head_object(Bucket=endpoint.bucket, Key="boto3/titanic.csv")

            minio.fput_object(bucket_name=endpoint.bucket, object_name="minio/titanic.csv", file_path=str(path),
                              content_type="text/csv", metadata={"dataset": "titanic", "client": "minio"})
            stat = minio.stat_object(bucket_name=endpoint.bucket, object_name="minio/titanic.csv")

            common.table(f"{endpoint.name} / {endpoint.bucket}: HEAD загруженных объектов",
                         ["Ключ", "Размер", "ETag", "Content-Type", "Метаданные x-amz-meta-*"], [
                             ["boto3/titanic.csv", common.human_size(head["ContentLength"]), head["ETag"],
                              head["ContentType"], head["Metadata"]],
                             ["minio/titanic.csv", common.human_size(stat.size), f'"{stat.etag}"',
                              stat.content_type, common.user_metadata(stat.metadata)],
                         ])
            common.check(head["ContentLength"] == stat.size == path.stat().st_size,
                         "оба объекта — байт в байт размера файла", "размер объекта не совпал с файлом")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
