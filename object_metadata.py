"""Шаг 13. Объект — это данные, метаданные и ключ.

boto3 кладёт объект с Content-Type, своими метаданными x-amz-meta-* и тегами; minio читает
их HEAD-запросом. Метаданные нельзя поменять на месте: их заменяет копирование объекта в самого
себя на стороне сервера (CopyObject с REPLACE) — теперь копирует minio, а читает boto3.
Данные при этом не пересылаются, ETag (MD5 содержимого) не меняется.

Запуск: poetry run python object_metadata.py [--trace]
"""

from minio.commonconfig import REPLACE, CopySource

import common

KEY = "extras/metadata.txt"
TEXT = "Объект = данные + метаданные + ключ\n".encode()
CONTENT_TYPE = "text/plain; charset=utf-8"
# REPLACE заменяет всё, и Content-Type тоже: без него объект станет binary/octet-stream.
REPLACED = {"Content-Type": CONTENT_TYPE, "course": "s3", "version": "2"}


def main() -> int:
    common.header("Метаданные и теги: boto3 пишет, minio читает, и наоборот")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket = endpoint.bucket

            s3.put_object(Bucket=bucket, Key=KEY, Body=TEXT, ContentType=CONTENT_TYPE,
                          Metadata={"course": "s3", "version": "1"}, Tagging="lecture=s3&kind=demo")
            before = minio.stat_object(bucket_name=bucket, object_name=KEY)
            tags = {}
            with common.feature("теги объекта"):
                tags = minio.get_object_tags(bucket_name=bucket, object_name=KEY)  # GET ?tagging
                common.lacks(not tags, "принял теги в PUT, но не сохранил их")

            minio.copy_object(bucket_name=bucket, object_name=KEY,
                              source=CopySource(bucket_name=bucket, object_name=KEY),
                              metadata=REPLACED, metadata_directive=REPLACE)
            after = s3.head_object(Bucket=bucket, Key=KEY)

            common.table(f"{endpoint.name} / {bucket}/{KEY}",
                         ["Поле", "minio: после PUT", "boto3: после COPY"], [
                             ["ETag", common.short_etag(before.etag),
                              common.short_etag(after["ETag"])],
                             ["Content-Type", before.content_type, after["ContentType"]],
                             ["Размер", common.human_size(before.size),
                              common.human_size(after["ContentLength"])],
                             ["x-amz-meta-*", common.user_metadata(before.metadata),
                              after["Metadata"]],
                         ])
            # Имена x-amz-meta-* — заголовки HTTP: регистр в них не важен (Go пишет Course).
            metadata = {name.lower(): value for name, value in after["Metadata"].items()}
            common.check(metadata == {"course": "s3", "version": "2"}
                         and after["ETag"].strip('"') == before.etag
                         and after["ContentType"] == CONTENT_TYPE,
                         "метаданные заменены копированием, данные те же (ETag не изменился)",
                         "копирование не заменило метаданные или изменило данные")
            # Переносит ли копия теги, решает сервер: AWS переносит, Ceph RGW 16 — нет.
            with common.feature("теги после копирования"):
                tagging = s3.get_object_tagging(Bucket=bucket, Key=KEY)
                copied = {tag["Key"]: tag["Value"] for tag in tagging["TagSet"]}
                common.note(f"теги после PUT: {common.pairs(dict(tags or {}))}; "
                            f"после COPY: {common.pairs(copied)}")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
