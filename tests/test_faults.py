"""Лекцию не переснять: зависший провайдер, неверный ключ, нет файла или бакета, оборванная загрузка —
каждый случай даёт одну понятную строку, остальные эндпоинты работают, ничего чужого не теряется."""

import csv
import http.server
import json
import signal
import subprocess
import sys
import threading
import time

import boto3
import pytest
from conftest import DATA, ROOT, SERVER_KINDS, base_env, lecture_env, run_step, start_moto, unique_bucket
from faults import HungServer, Proxy
from test_lecture import LECTURE

SCRIPTS = sorted(set(LECTURE)) + ["cleanup.py"]


def assert_one_clean_line(result, endpoint: str, *fragments: str):
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"✗ {endpoint}:")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def good_and(tmp_path, moto_servers):
    """Окружение «broken» (адрес задаёт тест) + исправный «good» с уже созданными бакетами лекции."""
    env = base_env(tmp_path)
    bucket = unique_bucket()
    moto_servers[0].client().create_bucket(Bucket=bucket)
    env.update(moto_servers[0].endpoint_env("good", bucket), S3_ENDPOINTS="good", TITANIC_CSV=str(DATA))
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    env.update(moto_servers[0].endpoint_env("broken", bucket), S3_ENDPOINTS="broken,good")
    return env


# create_remove_bucket.py начинает с minio, list_bucket.py — с boto3, остальные — с DuckDB и s3fs.
FIRST_CALLS = ["list_bucket.py", "create_remove_bucket.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py"]


@pytest.mark.parametrize("script", FIRST_CALLS)
def test_hung_provider_fails_within_15_seconds(good_and, tmp_path, script):
    hung = HungServer()
    try:
        started = time.monotonic()
        result = run_step(script, dict(good_and, BROKEN_ENDPOINT_URL=f"http://127.0.0.1:{hung.port}"), tmp_path)
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "broken", "таймаут")
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert elapsed < 15, f"{elapsed:.1f} с"


@pytest.mark.parametrize("script", FIRST_CALLS)
@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://nonexistent.invalid:9000"])
def test_refused_port_and_unknown_host_fail_within_5_seconds(good_and, tmp_path, script, url):
    started = time.monotonic()
    result = run_step(script, dict(good_and, BROKEN_ENDPOINT_URL=url), tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "broken", "нет соединения", "BROKEN_ENDPOINT_URL")
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert elapsed < 5, f"{elapsed:.1f} с"


@pytest.fixture(scope="session")
def finished_lecture(servers_of, tmp_path_factory):
    """Лекция целиком прошла на двух эндпоинтах вида kind — дальше любой шаг можно запускать с испорченными ключами."""
    done = {}

    def get(kind: str):
        if kind not in done:
            tmp_path = tmp_path_factory.mktemp(f"lecture-{kind}")
            env, _ = lecture_env(tmp_path, servers_of(kind))
            for script in LECTURE:
                assert run_step(script, env, tmp_path).returncode == 0, script
            done[kind] = env, tmp_path
        return done[kind]
    return get


# Ошибку ключа возвращает первый же запрос клиента: на Ceph проверяем по шагу на каждый клиент, на moto — все шаги.
WRONG_KEY_CASES = [(kind, script) for kind in SERVER_KINDS for script in (SCRIPTS if kind == "moto" else FIRST_CALLS)]


@pytest.mark.parametrize(("kind", "script"), WRONG_KEY_CASES)
@pytest.mark.parametrize(("variable", "value", "code", "hint"), [
    ("FIRST_SECRET_KEY", "wrong-secret-0123456789abcdef", "SignatureDoesNotMatch", "FIRST_SECRET_KEY"),
    ("FIRST_ACCESS_KEY", "WRONG-ACCESS-KEY-0000", "InvalidAccessKeyId", "FIRST_ACCESS_KEY"),
])
def test_wrong_keys_give_one_line_in_every_step(finished_lecture, kind, script, variable, value, code, hint):
    env, tmp_path = finished_lecture(kind)
    result = run_step(script, dict(env, **{variable: value}), tmp_path)
    assert result.returncode == 1, result.stdout
    line = assert_one_clean_line(result, "first", hint)
    # Первый запрос этих шагов — HEAD (minio.bucket_exists, s3fs info): у ответа нет тела, только 403.
    head_first = {"create_bucket.py", "create_remove_bucket.py", "pandas_dataframe_from_s3.py"}
    assert code in line or (script in head_first and ("AccessDenied" in line or "403" in line)), line
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert value not in result.stdout + result.stderr
    assert env["SECOND_SECRET_KEY"] not in result.stdout + result.stderr


def test_access_denied_names_what_to_check(moto_servers, tmp_path):
    admin = moto_servers[0]
    iam = boto3.client("iam", endpoint_url=admin.url, region_name="us-east-1", aws_access_key_id=admin.access_key,
                       aws_secret_access_key=admin.secret_key)
    user = f"reader-{unique_bucket()}"
    iam.create_user(UserName=user)
    statement = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    iam.put_user_policy(UserName=user, PolicyName="list-only",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    env = base_env(tmp_path)
    env.update(admin.endpoint_env("reader", unique_bucket()), S3_ENDPOINTS="reader",
               READER_ACCESS_KEY=key["AccessKeyId"], READER_SECRET_KEY=key["SecretAccessKey"])
    result = run_step("create_bucket.py", env, tmp_path)
    assert result.returncode == 1
    assert_one_clean_line(result, "reader", "AccessDenied", "READER_ACCESS_KEY")


def test_secret_inside_a_server_message_is_masked(tmp_path):
    """Сервер вернул ошибку, в тексте которой ключ и секрет: на экране они замаскированы."""
    access_key, secret_key = "LEAKY-ACCESS-KEY-0001", "leaky/secret+value0123456789abcdefghijkl"

    class Leaky(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = (f"<Error><Code>WeirdError</Code><Message>key {access_key} secret {secret_key} rejected"
                    "</Message></Error>").encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = dict(base_env(tmp_path), S3_ENDPOINTS="leak", LEAK_ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}",
                   LEAK_ACCESS_KEY=access_key, LEAK_SECRET_KEY=secret_key, LEAK_BUCKET="lecture-leak")
        result = run_step("list_bucket.py", env, tmp_path)
    finally:
        server.shutdown()
    assert_one_clean_line(result, "leak", "WeirdError", "key LEAK…001 secret leak…jkl rejected")
    assert access_key not in result.stdout + result.stderr and secret_key not in result.stdout + result.stderr


def test_missing_data_file_offline_gives_the_command(moto_servers, tmp_path):
    env = base_env(tmp_path)
    target = tmp_path / "titanic.csv"
    env.update(moto_servers[0].endpoint_env("first", unique_bucket()), S3_ENDPOINTS="first",
               TITANIC_CSV=str(target), https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    result = run_step("upload_object.py", env, tmp_path)
    assert result.returncode == 2
    assert f"curl -fsSL -o {target} https://raw.githubusercontent.com/datasciencedojo/datasets/master/titanic.csv" \
        in result.stdout
    assert not target.exists() and not (tmp_path / "titanic.csv.part").exists()
    assert "Traceback" not in result.stdout + result.stderr


def test_not_a_titanic_csv_is_refused_before_upload(servers, tmp_path):
    bogus = tmp_path / "titanic.csv"
    bogus.write_text("<html>404: Not Found</html>\n")
    env = base_env(tmp_path)
    bucket = unique_bucket()
    servers[0].client().create_bucket(Bucket=bucket)
    env.update(servers[0].endpoint_env("first", bucket), S3_ENDPOINTS="first", TITANIC_CSV=str(bogus))
    result = run_step("upload_object.py", env, tmp_path)
    assert result.returncode == 2
    assert "не CSV «Титаника»" in result.stdout
    assert servers[0].client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize(("script", "hint"), [
    ("upload_object.py", "create_bucket.py"),
    ("duckdb_copy_to_s3.py", "create_bucket.py"),
    ("pandas_dataframe_to_s3.py", "create_bucket.py"),
    ("duckdb_read_from_s3.py", "шаг"),
    ("pandas_dataframe_from_s3.py", "шаг"),
])
def test_missing_bucket_names_the_step_that_creates_it(servers, tmp_path, script, hint):
    env = base_env(tmp_path)
    env.update(servers[0].endpoint_env("first", unique_bucket()), S3_ENDPOINTS="first")  # бакетов нет
    result = run_step(script, env, tmp_path)
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "first", hint)


def test_reruns_of_every_step(finished_lecture):
    """Каждый шаг дважды подряд (на Ceph повторные прогоны покрывает сквозной тест: вся лекция дважды)."""
    env, tmp_path = finished_lecture("moto")
    for script in SCRIPTS[:-1]:
        for _ in range(2):
            result = run_step(script, env, tmp_path)
            assert result.returncode == 0, f"{script}\n{result.stdout}"


def test_create_remove_bucket_leaves_a_bucket_it_did_not_create(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    s3 = servers[0].client()
    s3.create_bucket(Bucket=f"{buckets[0]}-tmp")
    s3.put_object(Bucket=f"{buckets[0]}-tmp", Key="precious.txt", Body=b"keep me")
    result = run_step("create_remove_bucket.py", env, tmp_path)
    assert result.returncode == 1
    assert_one_clean_line(result, "first", "уже есть", "не трогаю")
    assert s3.get_object(Bucket=f"{buckets[0]}-tmp", Key="precious.txt")["Body"].read() == b"keep me"
    assert "1 из 2 эндпоинтов: ОК" in result.stdout


def test_steps_do_not_touch_foreign_keys_in_lecture_buckets(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    s3 = servers[0].client()
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    foreign = {(buckets[0], "boto3/other.csv"), (f"{buckets[0]}-duckdb", "titanic_by_class/notes.txt"),
               (f"{buckets[0]}-pandas", "mine.parquet")}
    for bucket, key in foreign:
        s3.put_object(Bucket=bucket, Key=key, Body=b"foreign")
    for script in LECTURE:
        assert run_step(script, env, tmp_path).returncode == 0
    for bucket, key in foreign:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"foreign"


def test_cleanup_dry_run_then_yes_removes_only_the_lectures(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    for script in LECTURE:
        assert run_step(script, env, tmp_path).returncode == 0
    s3 = servers[0].client()
    s3.put_object(Bucket=buckets[0], Key="notes/keep.txt", Body=b"user's")
    s3.put_object(Bucket=f"{buckets[0]}-pandas", Key="report.xlsx", Body=b"user's")
    names = lambda: {b["Name"] for b in s3.list_buckets()["Buckets"]}  # noqa: E731

    dry = run_step("cleanup.py", env, tmp_path)
    assert dry.returncode == 0, dry.stdout
    assert "boto3/titanic.csv" in dry.stdout and "titanic_by_class/Pclass=1/data_0.parquet" in dry.stdout
    assert "notes/keep.txt" not in dry.stdout and "report.xlsx" not in dry.stdout.split("!")[0]
    assert f"{buckets[0]}-duckdb" in names()  # пробный запуск ничего не удалил

    done = run_step("cleanup.py", env, tmp_path, "--yes")
    assert done.returncode == 0, done.stdout
    assert f"{buckets[0]}-pandas: в нём чужих объектов — 1, бакет оставлен" in done.stdout
    assert {buckets[0], f"{buckets[0]}-pandas"} <= names()
    assert f"{buckets[0]}-duckdb" not in names()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=buckets[0])["Contents"]] == ["notes/keep.txt"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=f"{buckets[0]}-pandas")["Contents"]] == ["report.xlsx"]
    # Второй эндпоинт убран целиком, а бакеты лекции после уборки создаются и заполняются заново.
    assert {b["Name"] for b in servers[1].client().list_buckets()["Buckets"]} & set(buckets) == {buckets[1]}
    for script in ("create_bucket.py", "duckdb_copy_to_s3.py"):
        assert run_step(script, env, tmp_path).returncode == 0, script


# ── Оборванная загрузка ──────────────────────────────────────────────────────────────────────────

@pytest.fixture
def big_csv(tmp_path):
    """CSV «Титаника» ~24 МБ: boto3 и minio грузят его составной загрузкой (multipart)."""
    rows = list(csv.reader(DATA.open()))
    path = tmp_path / "titanic_big.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(rows[0])
        for n in range(170_000):
            row = rows[1 + n % (len(rows) - 1)]
            writer.writerow([n + 1, *row[1:]])
    return path


def start_upload(env, tmp_path):
    return subprocess.Popen([sys.executable, str(ROOT / "upload_object.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def wait_for_multipart(s3, bucket, process, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
            return
        if process.poll() is not None:
            output = "".join(process.communicate())
            raise AssertionError(f"загрузка закончилась раньше, чем началась составная:\n{output}")
        time.sleep(0.05)
    raise AssertionError("составная загрузка так и не началась")


def nothing_partial(s3, bucket):
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "осталась незавершённая загрузка"
    assert not s3.list_objects_v2(Bucket=bucket, Prefix="boto3/").get("Contents"), "остался объект"


def one_endpoint_through(proxy, server, bucket, tmp_path, data):
    env = base_env(tmp_path)
    env.update(server.endpoint_env("first", bucket), S3_ENDPOINTS="first", TITANIC_CSV=str(data),
               FIRST_ENDPOINT_URL=f"{server.url.split(':')[0]}://127.0.0.1:{proxy.port}")
    return env


@pytest.fixture
def fresh_bucket(servers):
    """Первый сервер пары, его клиент и новый пустой бакет на нём."""
    server = servers[0]
    s3, bucket = server.client(), unique_bucket()
    s3.create_bucket(Bucket=bucket)
    return server, s3, bucket


def test_ctrl_c_mid_upload_leaves_nothing_partial(fresh_bucket, tmp_path, big_csv):
    server, s3, bucket = fresh_bucket
    proxy = Proxy(server.port, rate=4_000_000)
    try:
        process = start_upload(one_endpoint_through(proxy, server, bucket, tmp_path, big_csv), tmp_path)
        wait_for_multipart(s3, bucket, process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        proxy.close()
    assert process.returncode == 130, stdout + stderr
    assert "✗ first: прервано (Ctrl-C)" in stdout
    assert "Traceback" not in stdout + stderr
    nothing_partial(s3, bucket)

    env = dict(one_endpoint_through(proxy, server, bucket, tmp_path, big_csv), FIRST_ENDPOINT_URL=server.url)
    assert run_step("upload_object.py", env, tmp_path).returncode == 0


def test_connection_cut_mid_upload_leaves_nothing_partial(fresh_bucket, tmp_path, big_csv):
    server, s3, bucket = fresh_bucket
    proxy = Proxy(server.port, cut_after=3_000_000)
    try:
        result = run_step("upload_object.py", one_endpoint_through(proxy, server, bucket, tmp_path, big_csv), tmp_path)
    finally:
        proxy.close()
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "first")
    nothing_partial(s3, bucket)
    env = dict(one_endpoint_through(proxy, server, bucket, tmp_path, big_csv), FIRST_ENDPOINT_URL=server.url)
    assert run_step("upload_object.py", env, tmp_path).returncode == 0  # следующий запуск проходит


def test_server_killed_mid_upload_is_one_line(server_log_dir, tmp_path, big_csv):
    process, server = start_moto(server_log_dir)
    s3, bucket = server.client(), unique_bucket()
    s3.create_bucket(Bucket=bucket)
    proxy = Proxy(server.port, rate=4_000_000)
    try:
        upload = start_upload(one_endpoint_through(proxy, server, bucket, tmp_path, big_csv), tmp_path)
        wait_for_multipart(s3, bucket, upload)
        process.kill()
        started = time.monotonic()
        stdout, stderr = upload.communicate(timeout=60)
    finally:
        proxy.close()
        process.kill()
    assert upload.returncode == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert len([line for line in stdout.splitlines() if line.startswith("✗ first:")]) == 1, stdout
    assert time.monotonic() - started < 15
