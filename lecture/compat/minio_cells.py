"""Клетки minio: те же вызовы, что в шагах лекции, — с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from functools import partial

from minio.commonconfig import REPLACE, CopySource, Tags
from minio.versioningconfig import ENABLED, VersioningConfig

from lecture.compat import pieces, runner
from lecture.compat.runner import Run
from lecture.failures import lacks
from lecture.screen import user_metadata

CELLS: list = []
cell = partial(runner.cell, CELLS)


@cell("bucket", "minio", "list_buckets")
def minio_list_buckets(run: Run) -> None:
    buckets = run.minio.list_buckets()
    lacks(run.bucket not in [b.name for b in buckets], "не тот список")


@cell("objects", "minio", "put_object")
def minio_put(run: Run) -> None:
    run.wrote("minio", "minio/object.txt", "minio/sub/object.txt")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/object.txt",
                         data=io.BytesIO(pieces.BODY), length=len(pieces.BODY), content_type=pieces.TEXT,
                         metadata={"client": "minio"})
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/sub/object.txt",
                         data=io.BytesIO(pieces.BODY), length=len(pieces.BODY))


@cell("objects", "minio", "head_object", needs=("put_object",))
def minio_head(run: Run) -> None:
    stat = run.minio.stat_object(bucket_name=run.bucket, object_name="minio/object.txt")
    lacks(stat.size != len(pieces.BODY), "не те байты")
    lacks(user_metadata(stat.metadata) != {"client": "minio"}, "без метаданных")


@cell("objects", "minio", "list_objects", needs=("put_object",))
def minio_list(run: Run) -> None:
    items = list(run.minio.list_objects(bucket_name=run.bucket, prefix="minio/"))  # с «/»
    lacks("minio/sub/" not in [i.object_name for i in items if i.is_dir], "без папок")
    lacks("minio/object.txt" not in [i.object_name for i in items], "не тот список")


@cell("objects", "minio", "get_range", needs=("put_object",))
def minio_range(run: Run) -> None:
    reply = run.minio.get_object(bucket_name=run.bucket, object_name="minio/object.txt",
                                 offset=2, length=4)
    part = reply.read()
    reply.close()
    lacks(part == pieces.BODY, "нет Range")
    lacks(part != pieces.BODY[2:6], "не те байты")


@cell("objects", "minio", "copy_object", needs=("put_object",))
def minio_copy(run: Run) -> None:
    key = "minio/object.txt"
    run.minio.copy_object(bucket_name=run.bucket, object_name=key,
                          source=CopySource(bucket_name=run.bucket, object_name=key),
                          metadata={"Content-Type": pieces.TEXT, "client": "minio", "copied": "yes"},
                          metadata_directive=REPLACE)
    stat = run.minio.stat_object(bucket_name=run.bucket, object_name=key)
    copied = user_metadata(stat.metadata)
    lacks(copied != {"client": "minio", "copied": "yes"}, "не заменил")


@cell("objects", "minio", "tagging")
def minio_tagging(run: Run) -> None:
    tags = Tags.new_object_tags()
    tags.update(pieces.TAGS)
    run.wrote("minio", "minio/tagged.txt")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/tagged.txt",
                         data=io.BytesIO(pieces.BODY), length=len(pieces.BODY), tags=tags)
    kept = run.minio.get_object_tags(bucket_name=run.bucket, object_name="minio/tagged.txt")
    lacks(dict(kept or {}) != pieces.TAGS, "без тегов")


@cell("objects", "minio", "presigned")
def minio_presigned(run: Run) -> None:
    place = {"bucket_name": run.bucket, "object_name": "minio/link.txt"}
    put_url = run.minio.presigned_put_object(**place)
    get_url = run.minio.presigned_get_object(**place)
    soon_url = run.minio.presigned_get_object(**place, expires=timedelta(seconds=pieces.SOON))
    run.soon["minio"] = (soon_url, time.monotonic())
    run.wrote("minio", "minio/link.txt")
    pieces.through_links(run, put_url, get_url)


@cell("objects", "minio", "multipart", slack=len(pieces.BIG) / pieces.SLOWEST)
def minio_multipart(run: Run) -> None:
    run.wrote("minio", "minio/multipart.bin")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/multipart.bin",
                         data=io.BytesIO(pieces.BIG), length=len(pieces.BIG), part_size=pieces.PART)
    reply = run.minio.get_object(bucket_name=run.bucket, object_name="minio/multipart.bin")
    body = reply.read()
    reply.close()
    lacks(body != pieces.BIG, "не те байты")


@cell("policy", "minio", "policy")
def minio_policy(run: Run) -> None:
    pieces.anonymous_read(run, "minio",
                   lambda: run.minio.set_bucket_policy(bucket_name=run.bucket,
                                                       policy=pieces.public_read(run.bucket)),
                   lambda: run.minio.delete_bucket_policy(bucket_name=run.bucket))


@cell("expiry", "minio", "expiry", needs=("presigned",))
def minio_expiry(run: Run) -> None:
    pieces.expired_link(run, "minio")


@cell("delete", "minio", "delete_object", needs=("put_object",))
def minio_delete(run: Run) -> None:
    for key in [key for key, client in run.objects.items() if client == "minio"]:
        run.minio.remove_object(bucket_name=run.bucket, object_name=key)
        del run.objects[key]
    gone = run.missing(lambda: run.minio.stat_object(bucket_name=run.bucket,
                                                     object_name="minio/object.txt"))
    lacks(not gone, "не удалён")


@cell("versions", "minio", "versioning")
def minio_versioning(run: Run) -> None:
    key = "minio/versioned.txt"
    run.minio.set_bucket_versioning(bucket_name=run.bucket, config=VersioningConfig(ENABLED))
    first = run.minio.put_object(bucket_name=run.bucket, object_name=key,
                                 data=io.BytesIO(b"version 1"), length=9)
    run.wrote_version(key, first.version_id)
    second = run.minio.put_object(bucket_name=run.bucket, object_name=key,
                                  data=io.BytesIO(b"version 2"), length=9)
    run.wrote_version(key, second.version_id)
    ids = pieces.kept_versions(run, "minio", first.version_id, second.version_id)
    reply = run.minio.get_object(bucket_name=run.bucket, object_name=key, version_id=ids[0])
    old = reply.read()
    reply.close()
    lacks(old != b"version 1", "не та версия")


@cell("versions", "minio", "list_versions", needs=("versioning",))
def minio_list_versions(run: Run) -> None:
    items = run.minio.list_objects(bucket_name=run.bucket, prefix="minio/versioned.txt",
                                   include_version=True)
    listed = {item.version_id for item in items}
    lacks(not set(run.version_ids["minio"]) <= listed, "не все версии")


# ── minio создаёт и удаляет тот же бакет — в конце: если облако не даст сразу создать бакет
# с именем, которое только что удалили (OperationAborted), это будет видно лишь в этих клетках ──

@cell("minio_bucket", "minio", "create_bucket", bucket=False)
def minio_create_bucket(run: Run) -> None:
    run.minio.make_bucket(bucket_name=run.bucket, location=run.endpoint.region)
    run.created = True


@cell("minio_bucket", "minio", "delete_bucket", needs=("create_bucket",))
def minio_delete_bucket(run: Run) -> None:
    run.minio.remove_bucket(bucket_name=run.bucket)
    run.created = False
