"""Шаг 6. Бакеты для DuckDB и pandas.

Имена бакетов глобальны у облачного провайдера, поэтому бакеты лекции называются от основного:
<бакет>-duckdb и <бакет>-pandas. Создание повторяемо: HEAD bucket отвечает, есть ли бакет,
и второй запуск просто говорит «уже есть». boto3 создаёт, minio подтверждает.

Запуск: poetry run python create_bucket.py
"""

import common


def main() -> int:
    common.header("Бакеты для шагов 8–11")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
            rows, visible = [], []
            for name in (endpoint.bucket, endpoint.duckdb_bucket, endpoint.pandas_bucket):
                if minio.bucket_exists(bucket_name=name):
                    status = "уже есть"
                else:
                    s3.create_bucket(Bucket=name, **common.location(endpoint))
                    status = "[bold green]создан[/]"
                s3.head_bucket(Bucket=name)  # HEAD: 200 — бакет есть и доступен, 404 — нет
                visible.append(minio.bucket_exists(bucket_name=name))
                rows.append([name, status, common.agree(visible[-1])])
            common.table(f"{endpoint.name}: бакеты лекции", ["Бакет", "boto3 (HEAD → Create)", "minio видит"], rows)
            common.check(all(visible), "все бакеты лекции на месте", "minio не видит бакет")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
