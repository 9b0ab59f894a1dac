"""Шаг 21: Spark (S3A на AWS SDK для Java) читает hive-разбиение DuckDB и пишет итог в <бакет>-spark —
на moto, Ceph по TLS со своим CA и SeaweedFS; два эндпоинта в одной сессии Spark. Записанное Spark тест
читает сам (boto3 + pyarrow) и сверяет с pandas по CSV; Ctrl-C посреди чтения — код 130 и ни одной JVM;
cleanup.py убирает <бакет>-spark. Без pyspark или Java тесты пропускаются, но не в CI."""

import io
import os
import signal
import threading
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import DATA, ROOT, base_env, lecture_env, require_server, run_step
from faults import FaultProxy, hang
from test_interrupts import start

pytestmark = pytest.mark.spark
STEP = "spark_read_from_s3.py"
WRITERS = ("create_bucket.py", "duckdb_copy_to_s3.py")
# jar S3A (690 МБ) — из кэша машины, как у лектора: HOME у шагов в тестах свой, временный.
CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")


@pytest.fixture(scope="module", autouse=True)
def spark_installed():
    import sys

    sys.path.insert(0, str(ROOT))
    from lecture import spark

    require_server(spark.missing(), "Spark")


def expected() -> list[tuple]:
    """Выживаемость по классу и полу — pandas по CSV теста, без S3 и без кода лекции."""
    frame = pd.read_csv(DATA)
    grouped = frame.groupby(["Pclass", "Sex"])["Survived"].agg(["size", "mean"]).reset_index()
    return [(int(c), s, int(n), float(m)) for c, s, n, m in grouped.itertuples(index=False, name=None)]


def read_back(server, bucket: str) -> list[tuple]:
    """Parquet, записанный Spark, — своим клиентом теста: ListObjectsV2 и GetObject boto3, разбор pyarrow."""
    s3 = server.client()
    listing = s3.list_objects_v2(Bucket=f"{bucket}-spark", Prefix="survival_by_class/")
    keys = [item["Key"] for item in listing.get("Contents", []) if item["Key"].endswith(".parquet")]
    assert keys, listing
    rows = []
    for key in keys:
        body = s3.get_object(Bucket=f"{bucket}-spark", Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        rows += [(int(r["Pclass"]), r["Sex"], int(r["passengers"]), float(r["survived"])) for r in table.to_pylist()]
    return sorted(rows)


def prepared(servers, tmp_path) -> tuple[dict, list[str]]:
    env, buckets = lecture_env(tmp_path, servers)
    env.update(COLUMNS="80", XDG_CACHE_HOME=CACHE)
    for writer in WRITERS:
        result = run_step(writer, env, tmp_path)
        assert result.returncode == 0, f"{writer}\n{result.stdout}{result.stderr}"
    return env, buckets


@pytest.mark.parametrize("kind", ["moto", "ceph-tls", "seaweedfs"])
def test_spark_reads_duckdb_lake_and_three_engines_agree(kind, servers_of, tmp_path):
    """Два эндпоинта — одна сессия Spark (S3A по бакету); на Ceph — TLS с частным CA через хранилище доверия Java.
    Потом cleanup.py --yes убирает ровно записанное, и <бакет>-spark исчезает."""
    servers = servers_of(kind)
    env, buckets = prepared(servers, tmp_path)
    started = time.monotonic()
    result = run_step(STEP, env, tmp_path, timeout=300)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "2 из 2 эндпоинтов: ОК" in result.stdout, output
    assert result.stdout.count("✓ DuckDB и pandas читают записанное Spark — три движка сходятся") == 2, output
    print(f"{kind}: шаг 21 на двух эндпоинтах — {seconds:.1f} с")
    for server, bucket in zip(servers, buckets, strict=True):
        assert read_back(server, bucket) == expected()
        assert server.client().head_bucket(Bucket=f"{bucket}-spark")

    if kind == "moto":  # повтор: Spark перезаписывает то, что записал сам
        again = run_step(STEP, env, tmp_path, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
    cleaned = run_step("cleanup.py", env, tmp_path, "--yes")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    for server, bucket in zip(servers, buckets, strict=True):
        names = {item["Name"] for item in server.client().list_buckets()["Buckets"]}
        assert f"{bucket}-spark" not in names and f"{bucket}-duckdb" not in names, cleaned.stdout


def jvms_of(group: int) -> list[int]:
    """Процессы группы group (шаг запущен в своей сессии: JVM — в той же группе)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == group:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_ctrl_c_during_sparks_read_stops_the_jvm(moto_servers, tmp_path):
    """GET Parquet от DuckDB висит на прокси (запрос Spark уже ушёл); Ctrl-C всей группе — код 130,
    одна строка, и ни одного процесса шага — JVM тоже — не осталось."""
    server = moto_servers[0]
    env, buckets = prepared(moto_servers, tmp_path)
    reading = threading.Event()

    def rule(request):
        if request.method == "GET" and request.bucket == f"{buckets[0]}-duckdb" and request.key:
            reading.set()
            return hang()
        return None

    with FaultProxy.for_server(server, rule=rule) as proxy:
        env["FIRST_ENDPOINT_URL"] = proxy.url
        process, log = start(STEP, env, tmp_path)
        assert reading.wait(120), log.read_text()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 130, log.read_text()
        output = log.read_text()
        assert "Traceback" not in output and "✗ first: прервано (Ctrl-C)" in output, output
        assert "second" not in output.split("прервано")[-1]
        deadline = time.monotonic() + 5
        while jvms_of(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not jvms_of(process.pid), "после шага остались процессы его группы (JVM Spark)"


def test_without_java_the_step_is_one_line(tmp_path, moto_servers):
    env, _ = lecture_env(tmp_path, moto_servers)
    env["XDG_CACHE_HOME"] = CACHE
    env["JAVA_HOME"] = str(tmp_path / "no-java")
    result = run_step(STEP, env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("·")]
    assert lines == ["· шаг пропущен: нет Java (нужна 17+): apt-get install openjdk-17-jre-headless или "
                     "JAVA_HOME"], result.stdout
    assert "first" not in result.stdout


def test_a_jar_with_a_wrong_checksum_never_enters_the_cache(tmp_path):
    """Зеркало Maven отдаёт не тот файл: одна строка об ошибке настройки (код 2), в кэше ни jar, ни .part."""
    import http.server

    class Wrong(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"not the jar you pinned"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    mirror = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Wrong)
    threading.Thread(target=mirror.serve_forever, daemon=True).start()
    try:
        env = base_env(tmp_path)
        env.update(S3_ENDPOINTS="first", FIRST_ENDPOINT_URL="http://127.0.0.1:9", FIRST_ACCESS_KEY="k",
                   FIRST_SECRET_KEY="s", FIRST_BUCKET="lecture", XDG_CACHE_HOME=str(tmp_path / "cache"),
                   S3_LECTURE_MAVEN_REPOSITORY=f"http://127.0.0.1:{mirror.server_port}/maven2")
        result = run_step(STEP, env, tmp_path)
    finally:
        mirror.shutdown()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "hadoop-aws-3.5.0.jar" in result.stdout and "SHA-256 не тот" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not list((tmp_path / "cache" / "s3-lecture" / "spark-jars").glob("*.jar*")), "в кэше остался файл"
