"""Шаг 13. Объект — это данные, метаданные и ключ.

boto3 кладёт объект с Content-Type, своими метаданными x-amz-meta-* и тегами; minio читает
их HEAD-запросом. Метаданные нельзя поменять на месте: их заменяет копирование объекта в самого
себя на стороне сервера (CopyObject с REPLACE) — теперь копирует minio, а читает boto3.
Данные при этом не пересылаются, ETag (MD5 содержимого) не меняется.

Запуск: poetry run python object_metadata.py
"""

from minio.commonconfig import REPLACE, CopySource

import common

KEY = "extras/metadata.txt"


def main() -> int:
    common.header("Метаданные и теги объекта: boto3 пишет — minio читает, и наоборот")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)

            s3.put_object(Bucket=endpoint.bucket, Key=KEY, Body="Объект = данные + метаданные + ключ\n".encode(),
                          ContentType="text/plain; charset=utf-8", Metadata={"course": "s3", "version": "1"},
                          Tagging="lecture=s3&kind=demo")
            before = minio.stat_object(bucket_name=endpoint.bucket, object_name=KEY)
            tags = minio.get_object_tags(bucket_name=endpoint.bucket, object_name=KEY)

            minio.copy_object(bucket_name=endpoint.bucket, object_name=KEY,
                              source=CopySource(bucket_name=endpoint.bucket, object_name=KEY),
                              # REPLACE заменяет всё, и Content-Type тоже: без него станет binary/octet-stream
                              metadata={"Content-Type": "text/plain; charset=utf-8", "course": "s3", "version": "2"},
                              metadata_directive=REPLACE)
            after = s3.head_object(Bucket=endpoint.bucket, Key=KEY)
            # AWS переносит теги при копировании, Ceph RGW 16 — нет: сравните столбцы
            tags_after = s3.get_object_tagging(Bucket=endpoint.bucket, Key=KEY)["TagSet"]

            common.table(f"{endpoint.name} / {endpoint.bucket}/{KEY}", ["Поле", "minio: HEAD после PUT boto3",
                                                                         "boto3: HEAD после COPY minio"], [
                ["ETag", f'"{before.etag}"', after["ETag"]],
                ["Content-Type", before.content_type, after["ContentType"]],
                ["Размер", common.human_size(before.size), common.human_size(after["ContentLength"])],
                ["Изменён (UTC)", f"{before.last_modified:%H:%M:%S}", f"{after['LastModified']:%H:%M:%S}"],
                ["x-amz-meta-*", common.user_metadata(before.metadata), after["Metadata"]],
                ["Теги", dict(tags or {}), {tag["Key"]: tag["Value"] for tag in tags_after}],
            ])
            common.check(after["Metadata"] == {"course": "s3", "version": "2"} and after["ETag"] == f'"{before.etag}"'
                         and after["ContentType"] == before.content_type,
                         "метаданные заменены копированием, данные те же (ETag не изменился)",
                         "копирование не заменило метаданные или изменило данные")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
