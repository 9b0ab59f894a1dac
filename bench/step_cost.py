"""Сколько стоит каждый шаг: время шага против «пола» — самой короткой программы с теми же запросами.

Пол шага — это запуск Python, импорт тех же библиотек и те же запросы к S3 без таблиц, проверок
и обработки ошибок (программы ниже, FLOOR). Всё идёт против встроенного S3-сервера (moto) на
127.0.0.1, каждое время — медиана нескольких запусков (шаг и пол запускаются по очереди, чтобы
фоновая нагрузка машины досталась обоим поровну). Заодно: лишние импорты шагов, скорость
составной загрузки (и aws/rclone, если установлены), доля байтов, которую DuckDB скачал.

Необязательное сравнение (aws, rclone), которое не удалось запустить, — одна строка, и бенчмарк
идёт дальше; код выхода 1 — только если не прошёл сам шаг или его пол. В конце — готовый
Markdown-блок для раздела README «Сколько стоит каждый шаг»: машина, число запусков, таблица.

Запуск: poetry run python bench/step_cost.py [--runs 5] [--only list_bucket.py ...]
Быстрая самопроверка: poetry run python bench/step_cost.py --runs 1 --only list_bucket.py
"""

import argparse
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rich.markup import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

import run_demo  # noqa: E402

MIB = 1024 * 1024
TOOL_TIMEOUT = 300  # секунд на одну загрузку 64 МиБ внешней программой
# Инструменты того же класса: части по 8 МиБ, как у шага 15. Имя → (как назвать в README, команда).
TOOLS = {
    "aws": ("`aws s3 cp`", ["aws", "s3", "cp", "{file}", "s3://lecture/extras/aws.bin", "--endpoint-url", "{url}",
                            "--only-show-errors"]),
    "rclone": ("`rclone copyto`", ["rclone", "copyto", "{file}", ":s3,provider=Other,endpoint={url},"
                                   "access_key_id=lecture,secret_access_key=lecture-secret:lecture/extras/rclone.bin",
                                   "--s3-chunk-size", "8M"]),
}
TOOL_ENV = {"AWS_ACCESS_KEY_ID": "lecture", "AWS_SECRET_ACCESS_KEY": "lecture-secret",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}
HEAVY = ("boto3", "minio", "duckdb", "pandas", "pyarrow", "s3fs")
# Пояснение к строке таблицы README: откуда у шага время, которого нет у соседей.
NOTES = {"presigned_url.py": "2 с — ожидание срока ссылки", "multipart_upload.py": "64 МиБ"}

BASE = """
import os
url, key, secret, bucket = os.environ["LOCAL_ENDPOINT_URL"], "lecture", "lecture-secret", "lecture"
data = os.environ["TITANIC_CSV"]
"""
BOTO3 = """
import boto3
from botocore.config import Config
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name="us-east-1", config=cfg)
"""
MINIO = """
from minio import Minio
mc = Minio(url.split("//")[1], access_key=key, secret_key=secret, secure=False, region="us-east-1")
"""
PRELUDE = BASE + BOTO3 + MINIO
# Запрос без S3-библиотеки, как common.plain_http: 403 и 404 — тоже ответ, а не исключение.
HTTP = """
import urllib.error, urllib.request
def http(method, address, body=None, headers={}):
    kind = {"Content-Type": "application/octet-stream"} if body is not None else {}
    try:
        return urllib.request.urlopen(urllib.request.Request(address, body, {**kind, **headers}, method=method)).read()
    except urllib.error.HTTPError as error:
        return error.read()
"""
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
# Самая короткая программа с теми же запросами, что у шага, в том же порядке: без вывода и проверок.
FLOOR = {
    "list_bucket.py": PRELUDE + "s3.list_buckets(); mc.list_buckets()",
    "list_objects.py": PRELUDE + """
names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
for b in [b for b in ("lecture", "lecture-duckdb", "lecture-pandas") if b in names]:
    list(s3.get_paginator("list_objects_v2").paginate(Bucket=b)); list(mc.list_objects(b, recursive=True))
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
mc.make_bucket("lecture-tmp"); mc.list_buckets(); mc.remove_bucket("lecture-tmp"); mc.list_buckets()
""",
    "create_bucket.py": PRELUDE + """
for b in ("lecture", "lecture-duckdb", "lecture-pandas"):
    if not mc.bucket_exists(b):
        s3.create_bucket(Bucket=b)
    s3.head_bucket(Bucket=b)
""",
    "duckdb_copy_to_s3.py": BASE + DUCKDB + """
con.execute("SELECT count(*) FROM glob('s3://lecture-duckdb/**')").fetchall()
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{data}')")
con.execute("COPY t TO 's3://lecture-duckdb/titanic.parquet' (FORMAT parquet)")
con.execute("COPY t TO 's3://lecture-duckdb/titanic_by_class' (FORMAT parquet, PARTITION_BY (Pclass), "
            "OVERWRITE_OR_IGNORE, RETURN_FILES)").fetchall()
con.execute("SELECT count(*) FROM 's3://lecture-duckdb/titanic.parquet'").fetchall()
""",
    "duckdb_read_from_s3.py": BASE + DUCKDB + """
con.execute("SELECT Pclass, Sex, count(*), avg(Survived) FROM 's3://lecture-duckdb/titanic.parquet' "
            "GROUP BY ALL ORDER BY ALL").fetchall()
con.execute("SELECT Pclass, count(*) FROM read_parquet('s3://lecture-duckdb/titanic_by_class/*/*.parquet', "
            "hive_partitioning = true) GROUP BY ALL ORDER BY ALL").fetchall()
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
k = "extras/metadata.txt"
s3.put_object(Bucket=bucket, Key=k, Body=b"x", ContentType="text/plain", Metadata={"v": "1"}, Tagging="a=b")
mc.stat_object(bucket, k)
mc.copy_object(bucket, k, CopySource(bucket, k), metadata={"Content-Type": "text/plain", "v": "2"},
               metadata_directive=REPLACE)
s3.head_object(Bucket=bucket, Key=k)
mc.get_object_tags(bucket, k); s3.get_object_tagging(Bucket=bucket, Key=k)
""",
    "presigned_url.py": PRELUDE + HTTP + """
import time
from datetime import timedelta
p = {"Bucket": bucket, "Key": "extras/presigned-boto3.txt"}
soon = [s3.generate_presigned_url("get_object", Params=p, ExpiresIn=1)]
http("PUT", s3.generate_presigned_url("put_object", Params=p), b"x")
http("GET", s3.generate_presigned_url("get_object", Params=p))
k = "extras/presigned-minio.txt"
soon.append(mc.presigned_get_object(bucket, k, expires=timedelta(seconds=1)))
http("PUT", mc.presigned_put_object(bucket, k), b"x")
http("GET", mc.presigned_get_object(bucket, k))
time.sleep(2)
for address in soon:
    http("GET", address)
""",
    "multipart_upload.py": PRELUDE + """
import tempfile
from boto3.s3.transfer import TransferConfig
with tempfile.NamedTemporaryFile() as f:
    f.write(os.urandom(64 << 20)); f.flush()
    s3.upload_file(f.name, bucket, "extras/multipart-boto3.bin", Config=TransferConfig(
        multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4))
    mc.fput_object(bucket, "extras/multipart-minio.bin", f.name, part_size=8 << 20, num_parallel_uploads=4)
mc.get_object(bucket, "extras/multipart-boto3.bin").read()
s3.get_object(Bucket=bucket, Key="extras/multipart-minio.bin")["Body"].read()
for k in ("boto3", "minio"):
    s3.head_object(Bucket=bucket, Key=f"extras/multipart-{k}.bin")
""",
    "versioning.py": PRELUDE + """
b, k = "lecture-ver", "extras/versioned.txt"
if not mc.bucket_exists(b):
    s3.create_bucket(Bucket=b)
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket=b, Key=k, Body=b"version 1")["VersionId"]; s3.put_object(Bucket=b, Key=k, Body=b"version 2")
mc.get_object(b, k, version_id=v1).read(); m = s3.delete_object(Bucket=b, Key=k)["VersionId"]
list(mc.list_objects(b, prefix=k)); s3.delete_object(Bucket=b, Key=k, VersionId=m)
s3.get_object(Bucket=b, Key=k)["Body"].read(); s3.list_object_versions(Bucket=b, Prefix=k)
""",
    "duckdb_pushdown.py": BASE + DUCKDB + BOTO3 + """
u = "s3://lecture-duckdb/pushdown/events-1000000.parquet"
if (u,) not in con.execute("SELECT file FROM glob('s3://lecture-duckdb/pushdown/*')").fetchall():
    con.execute(f"COPY (SELECT range AS id, random() * 1000 AS amount, md5(range::VARCHAR) AS note "
                f"FROM range(1000000)) TO '{u}' (FORMAT parquet, ROW_GROUP_SIZE 100000)")
s3.head_object(Bucket="lecture-duckdb", Key="pushdown/events-1000000.parquet")
con.execute("SET enable_external_file_cache = false")
q = f"SELECT count(*), avg(amount) FROM '{u}' WHERE id BETWEEN 500000 AND 509999"
con.execute(q).fetchall(); con.execute("EXPLAIN ANALYZE " + q).fetchall()
""",
    "bucket_policy.py": PRELUDE + HTTP + """
import json
b = "lecture-pub"
address = f"{url}/{b}/hello.txt"
mc.bucket_exists(b)
s3.create_bucket(Bucket=b)
s3.put_object(Bucket=b, Key="hello.txt", Body=b"hello, world")
http("GET", address)
mc.set_bucket_policy(b, json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{b}/*"]}]}))
http("GET", address)
s3.delete_bucket_policy(Bucket=b)
http("GET", address)
s3.delete_object(Bucket=b, Key="hello.txt"); s3.delete_bucket(Bucket=b)
""",
    "plain_http.py": PRELUDE + HTTP + """
from xml.etree import ElementTree
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
address = f"{url}/{bucket}?list-type=2"
request = AWSRequest(method="GET", url=address)
S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
ElementTree.fromstring(http("GET", address, headers=dict(request.headers)))
s3.list_objects_v2(Bucket=bucket); list(mc.list_objects(bucket, recursive=True))
""",
    "other_clients_read_s3.py": BASE + BOTO3 + """
import shutil, subprocess
import polars as pl
from pyarrow import dataset as ds, fs, parquet as pq
s3.get_object(Bucket=bucket, Key="boto3/titanic.csv")["Body"].read()
s3.head_object(Bucket="lecture-duckdb", Key="titanic.parquet")
a = fs.S3FileSystem(access_key=key, secret_key=secret, region="us-east-1", scheme="http", endpoint_override=url.split("//")[1])
a.open_input_stream(f"{bucket}/boto3/titanic.csv").read()
pq.read_table("lecture-duckdb/titanic.parquet", filesystem=a)
ds.dataset("lecture-duckdb/titanic_by_class", filesystem=a, format="parquet", partitioning="hive").to_table()
o = {"aws_endpoint_url": url, "aws_access_key_id": key, "aws_secret_access_key": secret, "aws_region": "us-east-1",
     "aws_allow_http": "true"}
pl.read_csv(f"s3://{bucket}/boto3/titanic.csv", storage_options=o)
pl.read_parquet("s3://lecture-duckdb/titanic.parquet", storage_options=o)
pl.scan_parquet("s3://lecture-duckdb/titanic_by_class/**/*.parquet", hive_partitioning=True, storage_options=o).collect()
if shutil.which("rclone"):
    subprocess.run(["rclone", "--version"], capture_output=True)
    subprocess.run(["rclone", "cat", f":s3,provider=Other,endpoint={url},access_key_id={key},"
                    f"secret_access_key={secret}:{bucket}/boto3/titanic.csv"], capture_output=True)
if shutil.which("aws"):
    subprocess.run(["aws", "--version"], capture_output=True)
    subprocess.run(["aws", "s3", "cp", f"s3://{bucket}/boto3/titanic.csv", "-", "--endpoint-url", url], capture_output=True,
                   env=dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1"))
""",
}

# Раздел README «Сколько стоит каждый шаг» — всё, что ниже заголовка; машину и числа подставляет замер.
README_TEXT = """\
```bash
poetry run python bench/step_cost.py {options}
```

Бенчмарк (не тест) запускает каждый шаг против встроенного S3 и сравнивает его время с «полом» —
самой короткой программой с теми же запросами: запуск Python, те же библиотеки, те же запросы, без
таблиц и проверок. Заодно ищет лишние импорты, меряет составную загрузку (и `aws s3 cp` / `rclone`,
если они есть) и долю байтов, которую скачал DuckDB. Этот текст и таблицу бенчмарк печатает сам,
в конце вывода.

{machine}

| Шаг | Время, мс | Пол, мс | × пола |
|---|---|---|---|
{rows}

{summary}
"""


def skipped(text: str) -> None:
    """Необязательное сравнение не удалось: одна строка «!» при любой ширине терминала."""
    common.console.print(f"[bold yellow]![/] {text}", soft_wrap=True)


class Broken(Exception):
    """Не прошёл шаг или его пол: замер без него бессмыслен, бенчмарк останавливается."""


def run_timed(command: list[str], env: dict, what: str) -> tuple[float, str]:
    """Секунды и вывод одного запуска; ненулевой код выхода — Broken с концом вывода."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise Broken(f"{what}: код выхода {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout


def heavy_imports(command: list[str], env: dict) -> set[str]:
    """Какие тяжёлые библиотеки программа действительно загрузила (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return {name for name in HEAVY if name in names}


def tool_speed(command: list[str], env: dict, runs: int) -> tuple[float | None, str, str]:
    """МиБ/с загрузки 64 МиБ внешней программой (медиана, вместе с её запуском) — или None,
    причина для README («код выхода 1») и подробность для экрана (последняя строка её ошибки)."""
    program = shutil.which(command[0])
    if program is None:
        return None, "программы нет в PATH", ""
    times = []
    with tempfile.NamedTemporaryFile() as file:
        file.write(os.urandom(64 * MIB))
        file.flush()
        argv = [program] + [part.format(file=file.name, url=env["LOCAL_ENDPOINT_URL"]) for part in command[1:]]
        for _ in range(runs):
            started = time.perf_counter()
            try:
                done = subprocess.run(argv, env=dict(env, **TOOL_ENV), cwd=ROOT, capture_output=True, text=True,
                                      timeout=TOOL_TIMEOUT)
            except subprocess.TimeoutExpired:
                return None, f"не уложилась в {TOOL_TIMEOUT} с", ""
            except OSError as error:
                return None, "не запускается", error.strerror or str(error)
            if done.returncode != 0:
                last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
                return None, f"код выхода {done.returncode}", last[0][:120] if last else ""
            times.append(time.perf_counter() - started)
    return 64 / statistics.median(times), "", ""


def multipart_speeds(outputs: list[str]) -> dict[str, float]:
    """МиБ/с boto3 и minio из таблицы шага 15 (медиана по запускам): строка «│ boto3 │ … │ 148 │ ✓ │»."""
    found: dict[str, list[float]] = {}
    for output in outputs:
        for client, speed in re.findall(r"│ (boto3|minio)\s.*│ (\d+)\s+│ ✓", output):
            found.setdefault(client, []).append(float(speed))
    return {client: statistics.median(speeds) for client, speeds in found.items()}


def pushdown_share(output: str) -> tuple[str, str] | None:
    """(доля в процентах, размер объекта) из таблицы шага 17: «5,4», «42,5 МиБ»."""
    row = re.search(r"│ ([\d,]+ (?:Б|КиБ|МиБ|ГиБ))\s+│ [\d,]+ (?:Б|КиБ|МиБ|ГиБ)\s+│ ([\d,]+) %", output)
    return (row.group(2), row.group(1)) if row else None


def machine(runs: int, data: Path, load: tuple[float, float]) -> str:
    """Строка «Замер: …» для README: процессор, память, ОС, Python, данные, число запусков."""
    cpus = os.cpu_count() or 1
    proc = {name: Path("/proc", name).read_text() if Path("/proc", name).is_file() else ""
            for name in ("cpuinfo", "meminfo")}  # Linux; на других системах — то, что знает platform
    named = re.search(r"^model name\s*:\s*(.+)$", proc["cpuinfo"], re.MULTILINE)
    model = f"{named.group(1).strip()}, {platform.machine()}" if named else platform.processor() or platform.machine()
    total = re.search(r"MemTotal:\s+(\d+) kB", proc["meminfo"])
    memory = f", {common.number(int(total.group(1)) / MIB)} ГиБ ОЗУ" if total else ""
    try:
        system = platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        system = platform.platform(terse=True)
    rows = max(sum(1 for _ in data.open(encoding="utf-8")) - 1, 0)
    return (f"Замер: {common.plural(cpus, 'ядро', 'ядра', 'ядер')} ({model}){memory}, {system}, "
            f"Python {platform.python_version()}, moto {importlib.metadata.version('moto')}, "
            f"`{data.name}` ({common.plural(rows, 'строка', 'строки', 'строк')}); каждое время — медиана "
            f"{common.plural(runs, 'запуска', 'запусков', 'запусков')}; средняя загрузка машины (load average "
            f"за минуту) {common.number(load[0], 2)} в начале замера и {common.number(load[1], 2)} в конце:")


def summary(extra: dict[str, set[str]], speeds: dict[str, float], tools: dict[str, tuple[float | None, str, str]],
            share: tuple[str, str] | None, measured: set[str]) -> str:
    """Абзац под таблицей: лишние импорты, скорость составной загрузки, доля байтов DuckDB."""
    heavy = [f"{script} — {', '.join(sorted(names))}" for script, names in extra.items() if names]
    lines = [f"Лишние импорты: {'; '.join(heavy)}." if heavy
             else "Лишних импортов нет: шаги с boto3 и minio не грузят pandas и DuckDB."]
    speed = [f"{client} {speeds[client]:.0f} МиБ/с" for client in ("boto3", "minio") if client in speeds]
    speed += [f"{TOOLS[tool][0]} {mib:.0f} МиБ/с (вместе с запуском CLI)" for tool, (mib, _, _) in tools.items() if mib]
    missing = [f"{TOOLS[tool][0]} не сравнивался ({why})" for tool, (mib, why, _) in tools.items() if not mib]
    if speed:
        lines.append(f"Составная загрузка 64 МиБ по loopback: {', '.join(speed)}.")
    if missing:
        lines.append(f"{'; '.join(missing)}.")
    if share:
        lines.append(f"DuckDB на выборочном запросе скачал {share[0]} % файла в {share[1]}.")
    elif "duckdb_pushdown.py" in measured:
        lines.append("Долю байтов DuckDB в выводе шага 17 найти не удалось.")
    return " ".join(lines)


def wrap(paragraph: str) -> str:
    """Абзац README — строками до 100 знаков, как остальной текст README."""
    return textwrap.fill(paragraph, width=100, break_long_words=False, break_on_hyphens=False)


def choose(only: list[str] | None, parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """Что мерить и что прогнать перед этим: шаги до последнего выбранного (им нужны бакеты и данные)."""
    order = [script for _, script, _ in run_demo.STEPS + run_demo.EXTRAS]
    scripts = list(dict.fromkeys(order))
    if not only:
        return scripts, order
    chosen = [name if name.endswith(".py") else name + ".py" for name in only]
    unknown = [name for name in chosen if name not in scripts]
    if unknown:
        parser.error(f"нет таких шагов: {', '.join(unknown)}; есть: {', '.join(scripts)}")
    last = max(order.index(name) for name in chosen)
    return [script for script in scripts if script in chosen], order[:last + 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="запусков каждого шага и пола (медиана)")
    parser.add_argument("--only", nargs="+", metavar="STEP", help="только эти шаги, например list_bucket.py")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: нужен хотя бы один запуск")
    measured, warmup = choose(args.only, parser)
    try:
        return bench(args, measured, warmup)
    except Broken as problem:
        common.fail(f"бенчмарк остановлен, не прошёл {problem}")
        return 1


def bench(args, measured: list[str], warmup: list[str]) -> int:
    load_before = os.getloadavg()[0]
    data = Path(os.environ.get("TITANIC_CSV") or ROOT / "titanic.csv")
    if not data.is_file():
        data = ROOT / "tests" / "data" / "titanic_small.csv"
    env = dict(os.environ, **run_demo.start_embedded_s3(), TITANIC_CSV=str(data), COLUMNS="160")
    for script in warmup:  # прогрев: бакеты, данные и кэши ОС
        run_timed([sys.executable, str(ROOT / script)], env, f"прогрев {script}")

    rows, ratios, extra, outputs = [], [], {}, {}
    for script in measured:
        step, floor = [sys.executable, str(ROOT / script)], [sys.executable, "-c", FLOOR[script]]
        walls, floors, outputs[script] = [], [], []
        for _ in range(args.runs):  # по очереди: шаг, пол, шаг, пол…
            seconds, output = run_timed(step, env, script)
            walls.append(seconds)
            outputs[script].append(output)
            floors.append(run_timed(floor, env, f"пол {script}")[0])
        wall, least = statistics.median(walls), statistics.median(floors)
        extra[script] = heavy_imports([str(ROOT / script)], env) - heavy_imports(["-c", FLOOR[script]], env)
        ratios.append(wall / least)
        rows.append([script, wall * 1000, least * 1000, wall / least])
        common.console.print(f"{script}: {wall * 1000:.0f} мс, пол {least * 1000:.0f} мс", style="dim")
    common.table(f"Стоимость шагов: медиана {common.plural(args.runs, 'запуска', 'запусков', 'запусков')}, "
                 f"встроенный S3, {data.name}",
                 ["Шаг", "Время, мс", "Пол, мс", "× пола", "Лишние импорты"],
                 [[script, f"{wall:.0f}", f"{least:.0f}", common.number(ratio, 2),
                   ", ".join(sorted(extra[script])) or "—"] for script, wall, least, ratio in rows])

    speeds = multipart_speeds(outputs.get("multipart_upload.py", []))
    if "multipart_upload.py" in measured and not speeds:
        skipped("скорость составной загрузки в выводе шага 15 не найдена — в README её не будет")
    tools = {}
    for tool, (_, command) in TOOLS.items():  # необязательные сравнения: сбой — одна строка, идём дальше
        tools[tool] = tool_speed(command, env, args.runs)
        mib, why, detail = tools[tool]
        if mib:
            common.console.print(f"{tool}: {mib:.0f} МиБ/с (с запуском процесса)")
        else:
            reason = f"{why}: {escape(detail)}" if detail else why
            skipped(f"{tool}: сравнение пропущено — {reason}; бенчмарк идёт дальше")
    share = pushdown_share(outputs.get("duckdb_pushdown.py", [""])[-1])
    if "duckdb_pushdown.py" in measured and not share:
        skipped("долю скачанных байтов в выводе шага 17 найти не удалось — в README её не будет")
    if ratios:
        common.console.print(f"Худшее отношение к полу: {common.number(max(ratios), 2)} (цель — не больше 1,3)")

    options = f"--runs {args.runs}" + (f" --only {' '.join(measured)}" if args.only else "")
    block = README_TEXT.format(
        options=options,
        machine=wrap(machine(args.runs, data, (load_before, os.getloadavg()[0]))),
        rows="\n".join(f"| {script}{f' ({NOTES[script]})' if script in NOTES else ''} | {wall:.0f} | {least:.0f} | "
                       f"{common.number(ratio, 2)} |" for script, wall, least, ratio in rows),
        summary=wrap(summary(extra, speeds, tools, share, set(measured))))
    common.console.rule("Для README: раздел «Сколько стоит каждый шаг», всё ниже заголовка")
    print(block, end="", flush=True)  # без rich: ни переносов строк, ни разметки в квадратных скобках
    common.console.rule()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
