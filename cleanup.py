"""Уборка после лекции: удалить то, что лекция записала сама, — и ничего больше.

Что записала лекция, знает её журнал (lecture/journal.py; лежит в каталоге состояния пользователя,
его путь печатается ниже): каждый объект с VersionId, ETag и временем записи, каждый созданный
бакет, каждая начатая составная загрузка. Поэтому:
- в бакете с версионированием удаляются только версии, записанные лекцией, — чужие остаются;
- объект без версий удаляется, только если на сервере он тот же, что записала лекция: тот же ETag
  и изменён не позже записи лекции. Сосед по практикуму, переписавший ключ теми же байтами
  позже, — уже не лекция: его объект остаётся;
- отменяются только загрузки с UploadId из журнала;
- бакет удаляется, только если его создала лекция и в нём не осталось чужих объектов.
Без флагов — пробный запуск: таблица ровно того, что удалит --yes.

Запуск: poetry run python cleanup.py [--yes]
"""

import argparse

from rich.text import Text

import common
from lecture import journal, uploads, wire


def plan(endpoint: common.Endpoint, s3, existing: set[str]) -> tuple[list[list[str]], list[str]]:
    """Что удалить: [что, бакет, ключ, версия или UploadId] — и строки о том, что оставлено и почему.
    existing — бакеты, которые есть сейчас: в удалённых кем-то бакетах удалять нечего."""
    versions, latest, buckets, unsure = set(), {}, [], {}
    for entry in journal.entries(endpoint):
        place = (entry["bucket"], entry["key"])
        if entry["op"] == "object" and entry["state"] == "intent":
            unsure[place] = True  # запрос ушёл, ответа не было: записан ли объект, неизвестно
        elif entry["op"] == "object" and entry["version"]:
            versions.add((*place, entry["version"]))
        elif entry["op"] == "object":
            latest[place] = (entry["etag"], entry["modified"])
            unsure.pop(place, None)
        elif entry["op"] == "deleted":
            versions.discard((*place, entry["version"]))
            if not entry["version"]:
                latest.pop(place, None)
        # Бакет-намерение без ответа тоже: шаги создают бакет, только когда его не было.
        elif entry["op"] == "bucket" and entry["bucket"] != endpoint.bucket:  # основной — не лекции
            buckets.append(entry["bucket"])
        elif entry["op"] == "bucket-deleted":
            buckets = [bucket for bucket in buckets if bucket != entry["bucket"]]
            versions = {v for v in versions if v[0] != entry["bucket"]}
            latest = {place: facts for place, facts in latest.items() if place[0] != entry["bucket"]}

    versions = {v for v in versions if v[0] in existing}
    latest = {place: facts for place, facts in latest.items() if place[0] in existing}
    buckets = [bucket for bucket in buckets if bucket in existing]
    steps, kept = [], []
    for upload in uploads.unfinished_uploads(endpoint):
        for upload_id in uploads.find_upload(s3, upload) if upload.bucket in existing else []:
            steps.append(["загрузка", upload.bucket, upload.key, upload_id])
    for (bucket, key), (etag, modified) in sorted(latest.items()):
        head = current(s3, bucket, key)
        if head is None:
            continue
        now, then = head["ETag"].strip('"'), (etag or "").strip('"')  # кавычки серверы ставят по-разному
        if now != then and recounted(then, now) and not wire.later(head["LastModified"], modified):
            common.note(f"· {bucket}/{key}: ETag составной загрузки ({common.short_etag(then)}) сервер "
                        f"потом называет MD5 целого объекта ({common.short_etag(now)}); время записи — "
                        "лекции, объект её")
            steps.append(["объект", bucket, key, ""])
        elif now != then:
            kept.append(f"{bucket}/{key}: после лекции в него записали другое содержимое, оставлен")
        elif wire.later(head["LastModified"], modified):
            kept.append(f"{bucket}/{key}: те же байты, но записаны позже лекции "
                        f"({common.moment(head['LastModified'])}) — кем-то другим, оставлен")
        else:
            steps.append(["объект", bucket, key, ""])
    for bucket, key in sorted(set(unsure) - set(latest)):
        if bucket in existing and current(s3, bucket, key) is not None:
            kept.append(f"{bucket}/{key}: лекция не получила ответа на его запись — чей он, неизвестно, оставлен")
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


def recounted(recorded: str, current_etag: str) -> bool:
    """ETag составной загрузки — «MD5-частей-N»; сервер, который потом отдаёт обычный MD5 (gofakes3),
    пересчитал его по целому объекту: содержимое то же, по ETag его уже не узнать."""
    return "-" in recorded and "-" not in current_etag


def shown(what: str, extra: str) -> str:
    """«версия 0591d057…»: версии одного ключа различаются по VersionId."""
    return f"{what} {common.short_etag(extra)}" if what == "версия" else what


def current(s3, bucket: str, key: str) -> dict | None:
    """HEAD объекта сейчас (ETag, LastModified) или None, если объекта (или бакета) уже нет."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise


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
    common.note(f"Журнал лекции: {journal.path()}")
    planned = 0
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            answer = s3.list_buckets()  # и проверка ключей: журнал ведётся по аккаунту
            existing = {bucket["Name"] for bucket in answer["Buckets"]}
            steps, kept = plan(endpoint, s3, existing)
            if not steps:
                common.note("лекция здесь ничего не оставила: удалять нечего")
            for other in journal.other_addresses(endpoint) if not steps else []:
                common.note(f"  в журнале есть записи этого ключа для {other}: если это тот же "
                            f"сервер, запустите уборку с {endpoint.prefix}_ENDPOINT_URL={other}")
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
    raise SystemExit(common.run(main))
