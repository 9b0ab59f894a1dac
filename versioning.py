"""Шаг 16. Версионирование: перезапись и удаление не теряют данные.

В бакете с включённым версионированием каждый PUT создаёт новую версию, а DELETE лишь
ставит «метку удаления». Старую версию читают по VersionId; удаление отменяют, убрав метку.
Лекция включает версии на своём бакете <бакет>-ver. Если сервер версий не ведёт
(или только делает вид), шаг скажет это строкой «!» и пойдёт дальше.

Запуск: poetry run python versioning.py [--trace]
"""

import common

KEY = "extras/versioned.txt"


def main() -> int:
    common.header("Версии объекта: перезаписать, прочитать старое, удалить, вернуть")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            bucket = endpoint.derived("versions")

            existed = minio.bucket_exists(bucket_name=bucket)
            if not existed:
                s3.create_bucket(Bucket=bucket, **common.location(endpoint))
            with common.feature("версионирование"):
                s3.put_bucket_versioning(Bucket=bucket,
                                         VersioningConfiguration={"Status": "Enabled"})
                first = s3.put_object(Bucket=bucket, Key=KEY, Body=b"version 1")
                common.lacks("VersionId" not in first,
                             "принял PutBucketVersioning, но версий не ведёт")
                second = s3.put_object(Bucket=bucket, Key=KEY, Body=b"version 2")

                # старая версия — по VersionId
                old = minio.get_object(bucket_name=bucket, object_name=KEY,
                                       version_id=first["VersionId"])
                old_body = old.read()
                old.close()
                # DELETE без версии ставит метку удаления: в обычном списке объекта нет
                deleted = s3.delete_object(Bucket=bucket, Key=KEY)
                listed = list(minio.list_objects(bucket_name=bucket, prefix=KEY))
                # снять метку (удалить её версию) — значит восстановить объект
                s3.delete_object(Bucket=bucket, Key=KEY, VersionId=deleted["VersionId"])
                restored = s3.get_object(Bucket=bucket, Key=KEY)
                restored_body = restored["Body"].read()
                versions = s3.list_object_versions(Bucket=bucket, Prefix=KEY)

                rows = []
                for version in versions.get("Versions", [])[:6]:
                    mine = version["VersionId"] in (first["VersionId"], second["VersionId"])
                    rows.append([common.short_etag(version["VersionId"]),
                                 common.human_size(version["Size"]),
                                 f"{version['LastModified']:%H:%M:%S}",
                                 "да" if version["IsLatest"] else "", "да" if mine else ""])
                common.table(f"{endpoint.name} / {bucket}/{KEY}: версии, новые сверху",
                             ["VersionId", "Размер", "Записана", "Текущая", "Этот запуск"], rows)
                kept = old_body == b"version 1" and restored_body == b"version 2"
                common.check(kept and not listed,
                             "старая версия прочитана, удаление отменено снятием метки",
                             "версии ведут себя не так, как обещает S3")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
