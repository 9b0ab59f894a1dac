"""Уборка после лекции: удалить то, что лекция записала сама, — и ничего больше.

Что записала лекция, знает журнал .s3-lecture/journal.jsonl (его ведёт wire.py): каждый объект
с VersionId и ETag, каждый созданный бакет, каждая начатая составная загрузка. Поэтому:
- в бакете с версионированием удаляются только версии, записанные лекцией, — чужие остаются;
- объект без версий удаляется, только если его ETag тот же, что записала лекция: если объект
  с тем же ключом потом записал кто-то другой, он остаётся;
- отменяются только загрузки с UploadId из журнала;
- бакет удаляется, только если его создала лекция и в нём не осталось чужих объектов.
Без флагов — пробный запуск: таблица ровно того, что удалит --yes.

Журнал лежит в каталоге, откуда запускали лекцию: уборка — оттуда же.

Запуск: poetry run python cleanup.py [--yes]
"""

import common

import argparse

from rich.text import Text

import wire


def plan(endpoint: common.Endpoint, s3, existing: set[str]) -> tuple[list[list[str]], list[str]]:
    """Что удалить: [что, бакет, ключ, версия или UploadId] — и строки о том, что оставлено и почему.
    existing — бакеты, которые есть сейчас: в удалённых кем-то бакетах удалять нечего."""
    versions, latest, buckets = set(), {}, []
    for entry in wire.journal(endpoint):
        place = (entry["bucket"], entry["key"])
        if entry["op"] == "object" and entry["version"]:
            versions.add((*place, entry["version"]))
        elif entry["op"] == "object":
            latest[place] = entry["etag"]
        elif entry["op"] == "deleted":
            versions.discard((*place, entry["version"]))
            if not entry["version"]:
                latest.pop(place, None)
        elif entry["op"] == "bucket" and entry["bucket"] != endpoint.bucket:  # основной — не лекции
            buckets.append(entry["bucket"])
        elif entry["op"] == "bucket-deleted":
            buckets = [bucket for bucket in buckets if bucket != entry["bucket"]]
            versions = {v for v in versions if v[0] != entry["bucket"]}
            latest = {place: etag for place, etag in latest.items() if place[0] != entry["bucket"]}

    versions = {v for v in versions if v[0] in existing}
    latest = {place: etag for place, etag in latest.items() if place[0] in existing}
    buckets = [bucket for bucket in buckets if bucket in existing]
    steps, kept = [], []
    for bucket, key, upload in wire.unfinished_uploads(endpoint):
        steps.append(["загрузка", bucket, key, upload])
    for (bucket, key), etag in sorted(latest.items()):
        current = head_etag(s3, bucket, key)
        if current and current.strip('"') == (etag or "").strip('"'):  # кавычки ETag серверы ставят по-разному
            steps.append(["объект", bucket, key, ""])
        elif current:
            kept.append(f"{bucket}/{key}: после лекции его переписал кто-то другой, оставлен")
    for bucket, key, version in sorted(versions):
        steps.append(["версия", bucket, key, version])
    for bucket in dict.fromkeys(buckets):
        mine = {(step[2], step[3] or None) for step in steps if step[1] == bucket}
        foreign = [item for item in contents(s3, bucket) if item not in mine and (item[0], None) not in mine]
        if foreign:
            kept.append(f"бакет {bucket}: в нём чужих объектов — {len(foreign)}, бакет оставлен")
        else:
            steps.append(["бакет", bucket, "", ""])
    return steps, kept


def shown(what: str, extra: str) -> str:
    """«версия 0591d057…»: версии одного ключа различаются по VersionId."""
    return f"{what} {common.short_etag(extra)}" if what == "версия" else what


def head_etag(s3, bucket: str, key: str) -> str | None:
    """ETag объекта сейчас или None, если объекта (или бакета) уже нет."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise
    return head["ETag"]


def contents(s3, bucket: str) -> list[tuple[str, str | None]]:
    """Всё, что лежит в бакете: (ключ, VersionId) всех версий и меток удаления. Сервер без
    ListObjectVersions (501, 405) — тогда (ключ, None) из ListObjectsV2. Нет бакета — пусто."""
    from botocore.exceptions import ClientError

    found = []
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append((item["Key"], None if item["VersionId"] == "null" else item["VersionId"]))
        return found
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        if status == 404:
            return []
        if status not in (405, 501):
            raise
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found += [(item["Key"], None) for item in page.get("Contents", [])]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description="Удалить то, что записала лекция")
    parser.add_argument("--yes", action="store_true", help="удалить (без флага — только показать)")
    args = parser.parse_args()
    common.header("Уборка: " + ("удаляю записанное лекцией" if args.yes else "пробный запуск, ничего не удаляю"))
    planned = 0
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            answer = s3.list_buckets()  # и проверка ключей: журнал ведётся по аккаунту
            existing = {bucket["Name"] for bucket in answer["Buckets"]}
            steps, kept = plan(endpoint, s3, existing)
            if not steps:
                common.note("лекция здесь ничего не оставила: удалять нечего")
            else:
                common.table(f"{endpoint.name}: " + ("удалено" if args.yes else "будет удалено"),
                             ["Ключ", "Что", "Бакет"],
                             [[key or "—", shown(what, extra), bucket] for what, bucket, key, extra in steps])
            planned += len(steps)
            for what, bucket, key, extra in steps if args.yes else []:
                if what == "загрузка":
                    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=extra)
                elif what == "версия":
                    s3.delete_object(Bucket=bucket, Key=key, VersionId=extra)
                elif what == "объект":
                    s3.delete_object(Bucket=bucket, Key=key)
                else:
                    s3.delete_bucket(Bucket=bucket)  # S3 удаляет только пустой бакет
            for line in kept:
                common.warn(line)
    if not args.yes and planned:
        common.note(Text.assemble("\nПробный запуск: ничего не удалено. Удалить: ",
                                  ("python cleanup.py --yes", "bold")))
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
