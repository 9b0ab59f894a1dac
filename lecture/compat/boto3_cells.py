"""Клетки boto3: те же вызовы, что в шагах лекции, — с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

import io
import time
from functools import partial

from lecture.compat import pieces, runner
from lecture.compat.runner import Run
from lecture.failures import lacks
from lecture.screen import lowered

CELLS: list = []
cell = partial(runner.cell, CELLS)


@cell("bucket", "boto3", "create_bucket", bucket=False)
def boto3_create_bucket(run: Run) -> None:
    run.s3.create_bucket(Bucket=run.bucket, **run.kit.location(run.endpoint))
    run.created = True


@cell("bucket", "boto3", "list_buckets")
def boto3_list_buckets(run: Run) -> None:
    answer = run.s3.list_buckets()
    lacks(run.bucket not in [b["Name"] for b in answer.get("Buckets", [])], "не тот список")


@cell("objects", "boto3", "put_object")
def boto3_put(run: Run) -> None:
    run.wrote("boto3", "boto3/object.txt", "boto3/sub/object.txt")
    run.s3.put_object(Bucket=run.bucket, Key="boto3/object.txt", Body=pieces.BODY, ContentType=pieces.TEXT,
                      Metadata={"client": "boto3"})
    run.s3.put_object(Bucket=run.bucket, Key="boto3/sub/object.txt", Body=pieces.BODY)


@cell("objects", "boto3", "head_object", needs=("put_object",))
def boto3_head(run: Run) -> None:
    head = run.s3.head_object(Bucket=run.bucket, Key="boto3/object.txt")
    lacks(head["ContentLength"] != len(pieces.BODY), "не те байты")
    lacks(lowered(head["Metadata"]) != {"client": "boto3"}, "без метаданных")


@cell("objects", "boto3", "list_objects", needs=("put_object",))
def boto3_list(run: Run) -> None:
    answer = run.s3.list_objects_v2(Bucket=run.bucket, Prefix="boto3/", Delimiter="/")
    prefixes = [item["Prefix"] for item in answer.get("CommonPrefixes", [])]
    keys = [item["Key"] for item in answer.get("Contents", [])]
    lacks("boto3/sub/" not in prefixes, "без папок")
    lacks("boto3/object.txt" not in keys, "не тот список")


@cell("objects", "boto3", "get_range", needs=("put_object",))
def boto3_range(run: Run) -> None:
    answer = run.s3.get_object(Bucket=run.bucket, Key="boto3/object.txt", Range="bytes=2-5")
    part = answer["Body"].read()
    lacks(part == pieces.BODY, "нет Range")
    lacks(part != pieces.BODY[2:6], "не те байты")


@cell("objects", "boto3", "copy_object", needs=("put_object",))
def boto3_copy(run: Run) -> None:
    key = "boto3/object.txt"
    run.s3.copy_object(Bucket=run.bucket, Key=key, CopySource={"Bucket": run.bucket, "Key": key},
                       MetadataDirective="REPLACE", ContentType=pieces.TEXT,
                       Metadata={"client": "boto3", "copied": "yes"})
    head = run.s3.head_object(Bucket=run.bucket, Key=key)
    lacks(lowered(head["Metadata"]) != {"client": "boto3", "copied": "yes"}, "не заменил")


@cell("objects", "boto3", "tagging")
def boto3_tagging(run: Run) -> None:
    run.wrote("boto3", "boto3/tagged.txt")
    run.s3.put_object(Bucket=run.bucket, Key="boto3/tagged.txt", Body=pieces.BODY,
                      Tagging="lecture=s3&kind=compat")
    answer = run.s3.get_object_tagging(Bucket=run.bucket, Key="boto3/tagged.txt")
    kept = {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", [])}
    lacks(kept != pieces.TAGS, "без тегов")


@cell("objects", "boto3", "presigned")
def boto3_presigned(run: Run) -> None:
    place = {"Bucket": run.bucket, "Key": "boto3/link.txt"}
    put_url = run.s3.generate_presigned_url("put_object", Params=place)
    get_url = run.s3.generate_presigned_url("get_object", Params=place)
    soon_url = run.s3.generate_presigned_url("get_object", Params=place, ExpiresIn=pieces.SOON)
    run.soon["boto3"] = (soon_url, time.monotonic())
    run.wrote("boto3", "boto3/link.txt")
    pieces.through_links(run, put_url, get_url)


@cell("objects", "boto3", "multipart", slack=len(pieces.BIG) / pieces.SLOWEST)
def boto3_multipart(run: Run) -> None:
    from boto3.s3.transfer import TransferConfig

    run.wrote("boto3", "boto3/multipart.bin")
    run.s3.upload_fileobj(io.BytesIO(pieces.BIG), run.bucket, "boto3/multipart.bin",
                          Config=TransferConfig(multipart_threshold=pieces.PART, multipart_chunksize=pieces.PART))
    answer = run.s3.get_object(Bucket=run.bucket, Key="boto3/multipart.bin")
    lacks(answer["Body"].read() != pieces.BIG, "не те байты")


# ── политика бакета: анонимный GET без неё, с ней и после неё ──

@cell("policy", "boto3", "policy")
def boto3_policy(run: Run) -> None:
    pieces.anonymous_read(run, "boto3",
                   lambda: run.s3.put_bucket_policy(Bucket=run.bucket, Policy=pieces.public_read(run.bucket)),
                   lambda: run.s3.delete_bucket_policy(Bucket=run.bucket))


# ── срок ссылок: выданы в фазе 1 на секунду, проверяются здесь ──

@cell("expiry", "boto3", "expiry", needs=("presigned",))
def boto3_expiry(run: Run) -> None:
    pieces.expired_link(run, "boto3")


# ── DeleteObject: каждый клиент удаляет своё ──

@cell("delete", "boto3", "delete_object", needs=("put_object",))
def boto3_delete(run: Run) -> None:
    for key in [key for key, client in run.objects.items() if client == "boto3"]:
        run.s3.delete_object(Bucket=run.bucket, Key=key)
        del run.objects[key]
    gone = run.missing(lambda: run.s3.head_object(Bucket=run.bucket, Key="boto3/object.txt"))
    lacks(not gone, "не удалён")


# ── версии: на пустом бакете, после уборки объектов ──

@cell("versions", "boto3", "versioning")
def boto3_versioning(run: Run) -> None:
    key = "boto3/versioned.txt"
    run.s3.put_bucket_versioning(Bucket=run.bucket, VersioningConfiguration={"Status": "Enabled"})
    first = run.s3.put_object(Bucket=run.bucket, Key=key, Body=b"version 1")
    run.wrote_version(key, first.get("VersionId"))
    second = run.s3.put_object(Bucket=run.bucket, Key=key, Body=b"version 2")
    run.wrote_version(key, second.get("VersionId"))
    ids = pieces.kept_versions(run, "boto3", first.get("VersionId"), second.get("VersionId"))
    old = run.s3.get_object(Bucket=run.bucket, Key=key, VersionId=ids[0])
    lacks(old["Body"].read() != b"version 1", "не та версия")


@cell("versions", "boto3", "list_versions", needs=("versioning",))
def boto3_list_versions(run: Run) -> None:
    answer = run.s3.list_object_versions(Bucket=run.bucket, Prefix="boto3/versioned.txt")
    listed = {version["VersionId"] for version in answer.get("Versions", [])}
    lacks(not set(run.version_ids["boto3"]) <= listed, "не все версии")


@cell("delete_bucket", "boto3", "delete_bucket")
def boto3_delete_bucket(run: Run) -> None:
    run.s3.delete_bucket(Bucket=run.bucket)  # S3 удаляет только пустой бакет
    run.created = False
