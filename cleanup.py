"""Уборка после лекции: удалить то, что лекция создала, — и ничего больше.

Без флагов — пробный запуск: для каждого эндпоинта список того, что будет удалено.
С --yes — удаляет: ключи лекции (все их версии), её незавершённые загрузки и её бакеты
(<бакет>-duckdb, -pandas, -ver, -tmp). Основной бакет и чужие объекты остаются;
бакет лекции, в котором есть чужие объекты, остаётся на месте — об этом будет строка.

Запуск: poetry run python cleanup.py [--yes]
"""

import argparse
import re

import common


def main() -> int:
    parser = argparse.ArgumentParser(description="Удалить то, что создала лекция")
    parser.add_argument("--yes", action="store_true", help="удалить (без флага — только показать)")
    args = parser.parse_args()
    common.header("Уборка: " + ("удаляю созданное лекцией" if args.yes else "пробный запуск, ничего не удаляю"))

    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
            plan = [("загрузка", u["Bucket"], u["Key"], u["UploadId"]) for u in common.lecture_uploads(s3, endpoint)]
            kept = []
            for attribute, pattern in common.LECTURE_KEYS.items():
                bucket = getattr(endpoint, attribute)
                if bucket not in existing:
                    continue
                foreign = 0
                # Все версии и метки удаления: в бакете с версионированием простой DELETE ничего не стирает.
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                    for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        if re.fullmatch(pattern, version["Key"]):
                            plan.append(("объект", bucket, version["Key"], version["VersionId"]))
                        else:
                            foreign += 1
                if attribute == "bucket":
                    continue  # основной бакет создавала не лекция — он остаётся
                if foreign:
                    kept.append(f"{bucket}: в нём чужих объектов — {foreign}, бакет оставлен")
                else:
                    plan.append(("бакет", bucket, "", ""))

            common.table(f"{endpoint.name}: " + ("удалено" if args.yes else "будет удалено"), ["Что", "Бакет", "Ключ"],
                         [[kind, bucket, key] for kind, bucket, key, _ in plan] or [["нечего удалять", "", ""]])
            for kind, bucket, key, version in plan if args.yes else []:
                if kind == "загрузка":
                    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=version)
                elif kind == "объект":
                    s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
                else:
                    s3.delete_bucket(Bucket=bucket)  # S3 удаляет только пустой бакет
            for line in kept:
                common.console.print(f"[bold yellow]![/] {line}")
    if not args.yes:
        common.console.print("\nПробный запуск: ничего не удалено. Удалить: [bold]python cleanup.py --yes[/]")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
