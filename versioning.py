"""Шаг 16. Версионирование: перезапись и удаление не теряют данные.

В бакете с включённым версионированием каждый PUT создаёт новую версию, а DELETE лишь
ставит «метку удаления». Старую версию читают по VersionId; удаление отменяют, убрав метку.
Лекция включает версии на своём бакете <бакет>-ver. MinIO на одном диске версий не хранит —
тогда шаг так и скажет.

Запуск: poetry run python versioning.py
"""

from botocore.exceptions import ClientError

import common

KEY = "extras/versioned.txt"


def main() -> int:
    common.header("Версии объекта: перезаписать, прочитать старое, удалить, вернуть")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
            bucket = endpoint.versions_bucket
            if not minio.bucket_exists(bucket_name=bucket):
                s3.create_bucket(Bucket=bucket, **common.location(endpoint))
            try:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            except ClientError as error:  # хранилище без версий — это знание, а не сбой лекции
                common.console.print(f"[bold yellow]![/] {endpoint.name}: версионирование не поддерживается "
                                     f"({error.response['Error']['Code']}) — пропускаю")
                continue

            first = s3.put_object(Bucket=bucket, Key=KEY, Body=b"version 1")["VersionId"]
            s3.put_object(Bucket=bucket, Key=KEY, Body=b"version 2")
            with minio.get_object(bucket_name=bucket, object_name=KEY, version_id=first) as old:
                old_body = old.read()  # старая версия — по VersionId
            marker = s3.delete_object(Bucket=bucket, Key=KEY)["VersionId"]  # DELETE без версии — лишь метка
            hidden = not list(minio.list_objects(bucket_name=bucket, prefix=KEY))  # в обычном списке объекта нет
            s3.delete_object(Bucket=bucket, Key=KEY, VersionId=marker)  # снять метку — «восстановить»
            restored = s3.get_object(Bucket=bucket, Key=KEY)["Body"].read()

            listing = s3.list_object_versions(Bucket=bucket, Prefix=KEY)
            rows = [[v["VersionId"][:12], common.human_size(v["Size"]), f"{v['LastModified']:%H:%M:%S}",
                     "✓" if v["IsLatest"] else ""] for v in listing.get("Versions", [])][:6]
            common.table(f"{endpoint.name} / {bucket}/{KEY}: версии (новые сверху)",
                         ["VersionId", "Размер", "Записана", "Текущая"], rows)
            common.check(old_body == b"version 1" and hidden and restored == b"version 2",
                         "старая версия прочитана по VersionId, удаление отменено снятием метки",
                         "версии ведут себя не так, как обещает S3")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
