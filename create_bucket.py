"""Шаг 6. Бакеты лекции.

Имена бакетов глобальны у облачного провайдера, поэтому бакеты лекции называются от основного:
<бакет>-duckdb и <бакет>-pandas. Создание повторяемо: HEAD /<бакет> отвечает, есть ли бакет,
и второй запуск просто говорит «уже есть». Создаёт boto3, проверяет minio.

Запуск: poetry run python create_bucket.py [--trace]
"""

import common

LEAVES_DATA = True  # записанное остаётся в S3: run_demo.py --from N повторит шаг на пустом сервере


def main() -> int:
    common.header("Бакеты лекции: основной, для DuckDB и для pandas")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            s3 = common.boto3_client(endpoint)
            minio = common.minio_client(endpoint)
            rows = []

            for name in (endpoint.bucket, endpoint.derived("duckdb"), endpoint.derived("pandas")):
                existed = minio.bucket_exists(bucket_name=name)  # HEAD /<бакет>
                if not existed:
                    s3.create_bucket(Bucket=name, **common.location(endpoint))  # PUT /<бакет>
                s3.head_bucket(Bucket=name)  # 200: бакет есть и доступен этим ключам
                rows.append([name, "уже был" if existed else common.styled("создан", "bold green")])

            common.table(f"{endpoint.name}: бакеты лекции", ["Бакет", "Что сделано"], rows)
            common.ok("все бакеты лекции на месте: HEAD отвечает 200")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
