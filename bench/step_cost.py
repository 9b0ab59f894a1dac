"""Сколько стоит каждый шаг: время шага против «пола» — самой короткой программы с тем же результатом.

Пол шага — это запуск Python, импорт тех же библиотек и те же запросы к S3 без таблиц, проверок
и обработки ошибок (программы ниже, FLOOR). Всё идёт против встроенного S3-сервера (moto) на
127.0.0.1, каждое время — медиана нескольких запусков. Заодно: лишние импорты шагов, скорость
составной загрузки (и aws/rclone, если установлены), доля байтов, которую DuckDB скачал.

Запуск: poetry run python bench/step_cost.py [--runs 5]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402
import run_demo  # noqa: E402

MIB = 1024 * 1024
# Инструменты того же класса: части по 8 МиБ, как у шага 15.
TOOLS = {
    "aws": ["aws", "s3", "cp", "{file}", "s3://lecture/extras/aws.bin", "--endpoint-url", "{url}", "--only-show-errors"],
    "rclone": ["rclone", "copyto", "{file}", ":s3,provider=Other,endpoint={url},access_key_id=lecture,"
               "secret_access_key=lecture-secret:lecture/extras/rclone.bin", "--s3-chunk-size", "8M"],
}
TOOL_ENV = {"AWS_ACCESS_KEY_ID": "lecture", "AWS_SECRET_ACCESS_KEY": "lecture-secret", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}
HEAVY = ("boto3", "minio", "duckdb", "pandas", "pyarrow", "s3fs")

BASE = """
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]
"""
BOTO3 = """
import boto3
from botocore.config import Config
cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name="us-east-1", config=cfg)
"""
MINIO = """
from minio import Minio
mc = Minio(url.split("//")[1], access_key=key, secret_key=secret, secure=False, region="us-east-1")
"""
PRELUDE = BASE + BOTO3 + MINIO
DUCKDB = """
import duckdb, duckdb_extension_httpfs, pathlib
con = duckdb.connect()
con.load_extension(str(next(pathlib.Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))))
con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
            f"ENDPOINT '{url.split('//')[1]}', USE_SSL false, URL_STYLE 'path')")
"""
PANDAS = """
import pandas as pd
opts = {"key": key, "secret": secret, "endpoint_url": url, "config_kwargs": {
        "request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}}
"""
# Самая короткая программа с тем же результатом, что у шага (те же запросы, без вывода).
FLOOR = {
    "list_bucket.py": PRELUDE + "s3.list_buckets(); list(mc.list_buckets())",
    "list_objects.py": PRELUDE + """
for b in s3.list_buckets()["Buckets"]:
    list(s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"])); list(mc.list_objects(b["Name"], recursive=True))
""",
    "upload_object.py": PRELUDE + """
s3.upload_file(data, bucket, "boto3/titanic.csv", ExtraArgs={"ContentType": "text/csv", "Metadata": {"a": "b"}})
s3.head_object(Bucket=bucket, Key="boto3/titanic.csv")
mc.fput_object(bucket, "minio/titanic.csv", data, content_type="text/csv", metadata={"a": "b"})
mc.stat_object(bucket, "minio/titanic.csv")
""",
    "create_remove_bucket.py": PRELUDE + """
mc.bucket_exists("lecture-tmp")
s3.create_bucket(Bucket="lecture-tmp"); s3.list_buckets(); s3.delete_bucket(Bucket="lecture-tmp"); s3.list_buckets()
mc.make_bucket("lecture-tmp"); list(mc.list_buckets()); mc.remove_bucket("lecture-tmp"); list(mc.list_buckets())
""",
    "create_bucket.py": PRELUDE + """
for b in ("lecture", "lecture-duckdb", "lecture-pandas"):
    mc.bucket_exists(b); s3.head_bucket(Bucket=b); mc.bucket_exists(b)
""",
    "duckdb_copy_to_s3.py": BASE + DUCKDB + """
con.execute("SELECT count(*) FROM glob('s3://lecture-duckdb/**')").fetchall()
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{data}')")
con.execute("COPY t TO 's3://lecture-duckdb/titanic.parquet' (FORMAT parquet)")
con.execute("COPY t TO 's3://lecture-duckdb/titanic_by_class' (FORMAT parquet, PARTITION_BY (Pclass), OVERWRITE_OR_IGNORE)")
con.execute("SELECT file FROM glob('s3://lecture-duckdb/**/*.parquet')").fetchall()
con.execute("SELECT count(*) FROM 's3://lecture-duckdb/titanic.parquet'").fetchall()
""",
    "duckdb_read_from_s3.py": BASE + DUCKDB + """
con.execute("SELECT count(*) FROM 's3://lecture-duckdb/titanic.parquet'").fetchall()
con.execute("SELECT Pclass, Sex, count(*), avg(Survived) FROM 's3://lecture-duckdb/titanic.parquet' GROUP BY ALL").fetchall()
con.execute("SELECT Pclass, count(*) FROM read_parquet('s3://lecture-duckdb/titanic_by_class/*/*.parquet', "
            "hive_partitioning = true) GROUP BY ALL").fetchall()
""",
    "pandas_dataframe_to_s3.py": BASE + PANDAS + """
df = pd.read_csv(data)
df.to_parquet("s3://lecture-pandas/titanic.parquet", index=False, storage_options=opts)
df.to_csv("s3://lecture-pandas/titanic.csv", index=False, storage_options=opts)
""",
    "pandas_dataframe_from_s3.py": BASE + PANDAS + """
pd.read_parquet("s3://lecture-pandas/titanic.parquet", storage_options=opts)
pd.read_csv("s3://lecture-pandas/titanic.csv", storage_options=opts)
pd.read_parquet("s3://lecture-duckdb/titanic.parquet", storage_options=opts)
""",
    "object_metadata.py": PRELUDE + """
from minio.commonconfig import REPLACE, CopySource
s3.put_object(Bucket=bucket, Key="extras/metadata.txt", Body=b"x", Metadata={"v": "1"}, Tagging="a=b")
mc.stat_object(bucket, "extras/metadata.txt"); mc.get_object_tags(bucket, "extras/metadata.txt")
mc.copy_object(bucket, "extras/metadata.txt", CopySource(bucket, "extras/metadata.txt"), metadata={"v": "2"},
               metadata_directive=REPLACE)
s3.head_object(Bucket=bucket, Key="extras/metadata.txt"); s3.get_object_tagging(Bucket=bucket, Key="extras/metadata.txt")
""",
    "presigned_url.py": PRELUDE + """
import time, urllib.request
for k in ("boto3", "minio"):
    p = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": k})
    urllib.request.urlopen(urllib.request.Request(p, data=b"x", method="PUT")).read()
    urllib.request.urlopen(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": k})).read()
time.sleep(2)
for k in ("boto3", "minio"):
    urllib.request.urlopen(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": k})).read()
""",
    "multipart_upload.py": PRELUDE + """
import tempfile, hashlib
from boto3.s3.transfer import TransferConfig
with tempfile.NamedTemporaryFile() as f:
    f.write(os.urandom(64 << 20)); f.flush()
    s3.upload_file(f.name, bucket, "extras/multipart-boto3.bin", Config=TransferConfig(
        multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4))
    mc.fput_object(bucket, "extras/multipart-minio.bin", f.name, part_size=8 << 20, num_parallel_uploads=4)
for k in ("boto3", "minio"):
    hashlib.sha256(s3.get_object(Bucket=bucket, Key=f"extras/multipart-{k}.bin")["Body"].read())
""",
    "versioning.py": PRELUDE + """
b, k = "lecture-ver", "extras/versioned.txt"
mc.bucket_exists(b); s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket=b, Key=k, Body=b"version 1")["VersionId"]; s3.put_object(Bucket=b, Key=k, Body=b"version 2")
s3.get_object(Bucket=b, Key=k, VersionId=v1)["Body"].read(); m = s3.delete_object(Bucket=b, Key=k)["VersionId"]
list(mc.list_objects(b, prefix=k)); s3.delete_object(Bucket=b, Key=k, VersionId=m)
s3.get_object(Bucket=b, Key=k)["Body"].read(); s3.list_object_versions(Bucket=b, Prefix=k)
""",
    "duckdb_pushdown.py": BASE + BOTO3 + DUCKDB + """
u = "s3://lecture-duckdb/pushdown/events-1000000.parquet"
con.execute("SELECT file FROM glob('s3://lecture-duckdb/pushdown/*')").fetchall()
s3.head_object(Bucket="lecture-duckdb", Key="pushdown/events-1000000.parquet")
con.execute("SET enable_external_file_cache = false")
q = f"SELECT count(*), avg(amount) FROM '{u}' WHERE id BETWEEN 500000 AND 509999"
con.execute(q).fetchall(); con.execute("EXPLAIN ANALYZE " + q).fetchall()
""",
}


def median_seconds(command: list[str], env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[-2:])} упал:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return statistics.median(times)


def heavy_imports(command: list[str], env: dict) -> set[str]:
    """Какие тяжёлые библиотеки программа действительно загрузила (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return {name for name in HEAVY if name in names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = os.environ.get("TITANIC_CSV") or str(ROOT / "titanic.csv")
    if not Path(data).is_file():
        data = str(ROOT / "tests" / "data" / "titanic_small.csv")
    env = dict(os.environ, **run_demo.start_embedded_s3(), TITANIC_CSV=data, COLUMNS="160")
    steps = run_demo.STEPS + run_demo.EXTRAS
    for _, script, _ in steps:  # прогрев: бакеты, данные и кэши ОС
        subprocess.run([sys.executable, str(ROOT / script)], env=env, cwd=ROOT, capture_output=True)

    rows, ratios = [], []
    for script in dict.fromkeys(script for _, script, _ in steps):
        wall = median_seconds([sys.executable, str(ROOT / script)], env, args.runs)
        floor = median_seconds([sys.executable, "-c", FLOOR[script]], env, args.runs)
        extra = heavy_imports([str(ROOT / script)], env) - heavy_imports(["-c", FLOOR[script]], env)
        ratios.append(wall / floor)
        rows.append([script, f"{wall * 1000:.0f}", f"{floor * 1000:.0f}", f"{wall / floor:.2f}",
                     ", ".join(sorted(extra)) or "—"])
    common.table(f"Стоимость шагов: медиана {args.runs} запусков, встроенный S3, {Path(data).name}",
                 ["Шаг", "Время, мс", "Пол, мс", "× пола", "Лишние импорты"], rows)

    multipart = subprocess.run([sys.executable, str(ROOT / "multipart_upload.py")], env=env, cwd=ROOT,
                               capture_output=True, text=True).stdout
    speeds = re.findall(r"│ (boto3|minio) .*│ (\d+)\s+│ ✓", multipart)
    common.console.print(f"Составная загрузка 64 МиБ, шаг 15: {', '.join(f'{c} {v} МиБ/с' for c, v in speeds)}")
    for tool, command in TOOLS.items():
        if not shutil.which(tool):
            common.console.print(f"{tool} не установлен — сравнение с ним пропущено")
            continue
        with tempfile.NamedTemporaryFile() as file:
            file.write(os.urandom(64 * MIB))
            file.flush()
            seconds = median_seconds([part.format(file=file.name, url=env["LOCAL_ENDPOINT_URL"]) for part in command],
                                     dict(env, **TOOL_ENV), args.runs)
        common.console.print(f"{tool}: {64 / seconds:.0f} МиБ/с (с запуском процесса)")
    pushdown = subprocess.run([sys.executable, str(ROOT / "duckdb_pushdown.py")], env=env, cwd=ROOT,
                              capture_output=True, text=True).stdout
    share = re.search(r"прочитано ([\d.]+) % объекта", pushdown)
    common.console.print(f"DuckDB pushdown: скачано {share.group(1) if share else '?'} % объекта")
    worst = max(ratios)
    common.console.print(f"Худшее отношение к полу: {worst:.2f} (цель — не больше 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
