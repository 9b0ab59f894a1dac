"""Двенадцать шагов лекции подряд, дважды, на двух эндпоинтах каждого вида сервера."""

import io

import pyarrow.csv
import pyarrow.parquet
from conftest import DATA, lecture_env, run_step

TITANIC_COLUMNS = DATA.read_text().splitlines()[0].split(",")
DATA_ROWS = len(DATA.read_text().splitlines()) - 1

LECTURE = [
    "list_bucket.py", "list_objects.py", "upload_object.py", "list_objects.py", "create_remove_bucket.py",
    "create_bucket.py", "list_bucket.py", "duckdb_copy_to_s3.py", "duckdb_read_from_s3.py",
    "pandas_dataframe_to_s3.py", "pandas_dataframe_from_s3.py", "list_objects.py",
]


def bucket_names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def read(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_twelve_steps_twice(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    clients = [server.client() for server in servers]
    # Чужое: объекты рядом с ключами лекции — в основном бакете и в бакетах лекции (пользователь создал их
    # заранее) — и чужой бакет. Лекция не должна их тронуть.
    foreign = {"": ["notes/keep.txt", "boto3/other.csv"], "-duckdb": ["titanic_by_class/notes.txt"],
               "-pandas": ["mine.parquet"], "-foreign": ["data.bin"]}
    for s3, bucket in zip(clients, buckets, strict=True):
        for suffix, keys in foreign.items():
            if suffix:
                s3.create_bucket(Bucket=bucket + suffix)
            for key in keys:
                s3.put_object(Bucket=bucket + suffix, Key=key, Body=b"not the lecture's")

    for _ in range(2):
        for number, script in enumerate(LECTURE, start=1):
            before = [bucket_names(s3) for s3 in clients]
            result = run_step(script, env, tmp_path)
            output = result.stdout + result.stderr
            assert result.returncode == 0, f"шаг {number} {script}:\n{output}"
            assert "2 из 2 эндпоинтов: ОК" in result.stdout, output
            assert "Traceback" not in output
            for server in servers:
                assert server.secret_key not in output and server.access_key not in output
            if script == "create_remove_bucket.py":
                assert [bucket_names(s3) for s3 in clients] == before, "шаг 5 изменил список бакетов"

        for s3, bucket in zip(clients, buckets, strict=True):
            for client in ("boto3", "minio"):
                assert read(s3, bucket, f"{client}/titanic.csv") == DATA.read_bytes()
                head = s3.head_object(Bucket=bucket, Key=f"{client}/titanic.csv")
                assert head["ContentType"] == "text/csv"
                assert head["Metadata"] == {"dataset": "titanic", "client": client}

            duckdb_parquet = pyarrow.parquet.read_table(io.BytesIO(read(s3, f"{bucket}-duckdb", "titanic.parquet")))
            assert duckdb_parquet.num_rows == DATA_ROWS
            assert duckdb_parquet.column_names == TITANIC_COLUMNS
            partitions = sorted(o["Key"] for o in s3.list_objects_v2(
                Bucket=f"{bucket}-duckdb", Prefix="titanic_by_class/Pclass=")["Contents"])
            assert [key.split("/")[1] for key in partitions] == ["Pclass=1", "Pclass=2", "Pclass=3"]

            pandas_parquet = pyarrow.parquet.read_table(io.BytesIO(read(s3, f"{bucket}-pandas", "titanic.parquet")))
            pandas_csv = pyarrow.csv.read_csv(io.BytesIO(read(s3, f"{bucket}-pandas", "titanic.csv")))
            for table in (pandas_parquet, pandas_csv):
                assert (table.num_rows, table.column_names) == (DATA_ROWS, TITANIC_COLUMNS)

            for suffix, keys in foreign.items():
                for key in keys:
                    assert read(s3, bucket + suffix, key) == b"not the lecture's", (suffix, key)
            assert f"{bucket}-tmp" not in bucket_names(s3)
