"""Неисправный провайдер — одна понятная строка, в срок, и остальные эндпоинты работают.

Сроки меряются относительно базового прогона того же шага в том же тесте (машина может быть
нагружена): провайдер, который молчит, капает по байту или тянет, стоит не больше 15 с на шаг.
Ошибки различаются по типу, статусу и коду — 503 не «нет соединения», HTML не трассировка."""

import http.server
import socket
import subprocess
import sys
import threading
import time

import pytest
from ceph_cluster import free_port
from conftest import DATA, ROOT, SERVER_KINDS, base_env, lecture_env, run_step, unique_bucket
from faults import FaultProxy, HungServer, drip, every, no_range, ok_without_effect, only_user_agent, slow, status, when
from test_lecture import LECTURE

SCRIPTS = sorted(set(LECTURE)) + ["cleanup.py"]
PER_ENDPOINT = 15  # секунд на шаг у одного неисправного эндпоинта, сверх базового прогона


def assert_one_clean_line(result, endpoint: str, *fragments: str) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"✗ {endpoint}:")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def timed(script: str, env: dict, tmp_path, *args: str):
    started = time.monotonic()
    result = run_step(script, env, tmp_path, *args)
    return result, time.monotonic() - started


@pytest.fixture
def good_and(tmp_path, moto_servers):
    """Окружение «broken» (адрес задаёт тест) + исправный «good» с готовыми бакетами и данными лекции."""
    env = base_env(tmp_path)
    bucket = unique_bucket()
    moto_servers[0].client().create_bucket(Bucket=bucket)
    env.update(moto_servers[0].endpoint_env("good", bucket), S3_ENDPOINTS="good", TITANIC_CSV=str(DATA))
    for script in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py"):
        assert run_step(script, env, tmp_path).returncode == 0, script
    env.update(moto_servers[0].endpoint_env("twin", bucket))  # для базового прогона: второй исправный
    env.update(moto_servers[0].endpoint_env("broken", bucket), S3_ENDPOINTS="broken,good")
    return env


def extra_time(env: dict, tmp_path, script: str, broken_url: str):
    """Прогон с «broken» и «good» — и сколько он длился сверх того же шага на двух исправных эндпоинтах."""
    _, baseline = timed(script, dict(env, S3_ENDPOINTS="twin,good"), tmp_path)
    result, elapsed = timed(script, dict(env, BROKEN_ENDPOINT_URL=broken_url), tmp_path)
    return result, elapsed - baseline


def within_deadline(env: dict, tmp_path, script: str, broken_url: str, *fragments: str):
    """Шаг с неисправным «broken» и исправным «good»: одна строка ✗, «good» прошёл, лишнее время — в пределах срока."""
    result, extra = extra_time(env, tmp_path, script, broken_url)
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "broken", *fragments)
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert extra < PER_ENDPOINT, f"неисправный эндпоинт стоил {extra:.1f} с"
    return result


# list_bucket.py начинает с boto3, create_remove_bucket.py — с minio, остальные — с DuckDB и s3fs.
FIRST_CALLS = ["list_bucket.py", "create_remove_bucket.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py"]


@pytest.mark.slow
@pytest.mark.parametrize("script", FIRST_CALLS)
def test_hung_provider_gives_up_in_seconds(good_and, tmp_path, script):
    with HungServer() as hung:
        within_deadline(good_and, tmp_path, script, f"http://127.0.0.1:{hung.port}", "таймаут")


@pytest.mark.slow
@pytest.mark.parametrize("script", ["list_bucket.py", "pandas_dataframe_from_s3.py", "duckdb_read_from_s3.py",
                                    "upload_object.py"])
def test_dripping_provider_gives_up_like_a_hung_one(good_and, moto_servers, tmp_path, script):
    """Статус сразу, дальше по байту раз в 2 с: таймаут чтения не срабатывает никогда (раньше шаг шёл > 75 с).
    upload_object.py: boto3 грузит в рабочем потоке — его соединение тоже обрывается по сроку."""
    with FaultProxy.for_server(moto_servers[0], rule=every(drip(2))) as proxy:
        within_deadline(good_and, tmp_path, script, proxy.url, "таймаут")


@pytest.mark.slow
def test_slow_provider_gives_up_within_the_deadline(good_and, moto_servers, tmp_path):
    """Каждый ответ через 3 с — короче таймаута чтения, но шаг целиком не уложился бы в срок."""
    with FaultProxy.for_server(moto_servers[0], rule=every(slow(3))) as proxy:
        within_deadline(good_and, tmp_path, "list_objects.py", proxy.url, "таймаут")


FAST_FAILURE = 5  # секунд сверх базового прогона на недоступный эндпоинт
# Имя из зоны .invalid (RFC 6761) не существует нигде: резолвер машины отвечает «нет такого» сам, в сеть
# за ним не ходит ни один клиент. Сколько это стоит на этой машине, тест меряет сам (lookup_cost).
UNKNOWN_HOST = "nonexistent.invalid"
LOOKUPS = 10  # с запасом: каждый клиент и каждая попытка спрашивают имя заново


def lookup_cost() -> float:
    """Базовая цена неудачного поиска имени здесь и сейчас: худший из трёх getaddrinfo."""
    costs = []
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo(UNKNOWN_HOST, 9000)
        costs.append(time.monotonic() - started)
    return max(costs)


@pytest.mark.parametrize("script", FIRST_CALLS)
@pytest.mark.parametrize("url", ["http://127.0.0.1:9", f"http://{UNKNOWN_HOST}:9000"])
def test_refused_port_and_unknown_host_fail_fast(good_and, tmp_path, script, url):
    # Базовые прогоны того же запуска: шаг на двух исправных эндпоинтах (extra_time) и цена ответа резолвера.
    allowance = FAST_FAILURE + (LOOKUPS * lookup_cost() if UNKNOWN_HOST in url else 0)
    result, extra = extra_time(good_and, tmp_path, script, url)
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "broken", "нет соединения", "BROKEN_ENDPOINT_URL")
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert extra < allowance, f"недоступный эндпоинт стоил {extra:.1f} с (допустимо {allowance:.1f} с)"


# ── Ответ есть, но не тот: статус и код сервера, а не догадка ─────────────────────────────────────

@pytest.mark.parametrize(("script", "rule", "fragments"), [
    ("list_bucket.py", every(status(503, "ServiceUnavailable")), ["HTTP 503 ServiceUnavailable"]),
    ("list_bucket.py", every(status(503, body_kind="html")), ["HTTP 503"]),
    # minio начинает с HEAD: у ответа на HEAD нет тела, поэтому только статус.
    ("create_remove_bucket.py", only_user_agent("minio", status(503, "SlowDown")), ["HTTP 503"]),
    ("duckdb_read_from_s3.py", every(status(503, "ServiceUnavailable")), ["HTTP 503"]),
    ("pandas_dataframe_from_s3.py", every(status(503, "ServiceUnavailable")), ["HTTP 503"]),
    ("pandas_dataframe_from_s3.py", when(no_range(), method="GET"), ["нет Range"]),
    ("object_metadata.py", when(status(200, body_kind="html"), api="tagging", method="GET"), ["не S3"]),
    ("list_bucket.py", every(status(502, body_kind="html")), ["HTTP 502"]),
])
def test_server_answers_are_named_by_status_and_code(good_and, moto_servers, tmp_path, script, rule, fragments):
    """Раньше: 503 — «нет соединения, сервер не запущен»; HTML в ответ на ?tagging — ParseError с трассировкой."""
    with FaultProxy.for_server(moto_servers[0], rule=rule) as proxy:
        result = run_step(script, dict(good_and, BROKEN_ENDPOINT_URL=proxy.url), tmp_path)
    assert result.returncode == 1, result.stdout
    line = assert_one_clean_line(result, "broken", *fragments)
    assert "нет соединения" not in line
    assert "1 из 2 эндпоинтов: ОК" in result.stdout


@pytest.mark.parametrize(("rule", "says"), [
    (when(ok_without_effect(), api="versioning"), "сервер принял PutBucketVersioning, но версий не ведёт"),
    (when(status(501, "NotImplemented"), api="versioning"), "сервер не поддерживает (NotImplemented)"),
    (when(status(405, "MethodNotAllowed"), api="versioning"), "сервер не поддерживает (MethodNotAllowed)"),
])
def test_a_missing_feature_is_a_warning_not_a_failure(good_and, moto_servers, tmp_path, rule, says):
    """Сервер без версий — знание о сервере: строка «!», код 0. Раньше «200 без версий» давал KeyError."""
    with FaultProxy.for_server(moto_servers[0], rule=rule) as proxy:
        result = run_step("versioning.py", dict(good_and, BROKEN_ENDPOINT_URL=proxy.url), tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"! версионирование: {says}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "2 из 2 эндпоинтов: ОК" in result.stdout


def test_a_bug_in_the_lecture_is_one_line_with_a_report_and_exit_4(tmp_path, moto_servers):
    """Ошибка программиста — не «ожидаемый сбой»: не строка ✗ провайдера, а «ошибка лекции» с отчётом, код 4
    (раньше — трассировка на экране и код 1)."""
    script = tmp_path / "buggy_step.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nimport common\n"
                      "for endpoint in common.endpoints():\n"
                        "    with common.endpoint_block(endpoint):\n"
                        "        common.boto3_client(endpoint).list_buckets()\n"
                        "        {}['VersionId']\n"
                      "raise SystemExit(common.summary())\n")
    env = base_env(tmp_path)
    env.update(moto_servers[0].endpoint_env("first", unique_bucket()), S3_ENDPOINTS="first")
    result = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 4
    assert "Traceback" not in result.stdout + result.stderr
    assert "✗ first: ошибка лекции — KeyError (buggy_step): 'VersionId'" in result.stdout
    report = next((tmp_path / ".local" / "state" / "s3-lecture" / "reports").glob("*.txt"))
    assert "KeyError: 'VersionId'" in report.read_text()


# ── Ключи и права ─────────────────────────────────────────────────────────────────────────────────

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


# Ошибку ключа возвращает первый же запрос клиента: на moto — все шаги, на Ceph и SeaweedFS — по шагу на клиент.
# TLS ответов сервера не меняет: Ceph по TLS проверяет сквозной тест лекции.
KEY_KINDS = [kind for kind in SERVER_KINDS if kind != "ceph-tls"]
WRONG_KEY_CASES = [(kind, script) for kind in KEY_KINDS for script in (SCRIPTS if kind == "moto" else FIRST_CALLS)]
# Неверный секрет — во всех шагах на moto; неверный ключ доступа — в первом запросе каждого клиента.
WRONG_ACCESS_CASES = [(kind, script) for kind, script in WRONG_KEY_CASES if script in FIRST_CALLS]


@pytest.mark.parametrize(("kind", "script", "variable", "value", "code", "hint"), [
    (kind, script, "FIRST_SECRET_KEY", "wrong-secret-0123456789abcdef", "SignatureDoesNotMatch", "FIRST_SECRET_KEY")
    for kind, script in WRONG_KEY_CASES] + [
    (kind, script, "FIRST_ACCESS_KEY", "WRONG-ACCESS-KEY-0000", "InvalidAccessKeyId", "FIRST_ACCESS_KEY")
    for kind, script in WRONG_ACCESS_CASES])
def test_wrong_keys_give_one_line_in_every_step(finished_lecture, kind, script, variable, value, code, hint):
    env, tmp_path = finished_lecture(kind)
    result = run_step(script, dict(env, **{variable: value}), tmp_path)
    assert result.returncode == 1, result.stdout
    line = assert_one_clean_line(result, "first", hint)
    # Первый запрос этих шагов — HEAD (minio.bucket_exists, s3fs info): у ответа нет тела, только 403.
    head_first = {"create_bucket.py", "create_remove_bucket.py", "pandas_dataframe_from_s3.py"}
    assert code in line or (script in head_first and ("AccessDenied" in line or "HTTP 403" in line)), line
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert value not in result.stdout + result.stderr
    assert env["SECOND_SECRET_KEY"] not in result.stdout + result.stderr


def test_access_denied_names_what_to_check(moto_servers, tmp_path):
    import json

    import boto3

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
    assert result.returncode == 3  # единственный эндпоинт без прав: работать не с чем
    assert_one_clean_line(result, "reader", "READER_ACCESS_KEY")


class Leaky(http.server.BaseHTTPRequestHandler):
    """Сервер, который вставляет в текст ошибки ключ и секрет клиента."""

    access_key, secret_key = "LEAKY-ACCESS-KEY-0001", "leaky/secret+value0123456789abcdefghijkl"

    def do_GET(self):  # noqa: N802
        body = (f"<Error><Code>WeirdError</Code><Message>key {self.access_key} secret {self.secret_key} "
                "rejected</Message></Error>").encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_secret_inside_a_server_message_is_masked(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = dict(base_env(tmp_path), S3_ENDPOINTS="leak", LEAK_ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}",
                   LEAK_ACCESS_KEY=Leaky.access_key, LEAK_SECRET_KEY=Leaky.secret_key, LEAK_BUCKET="lecture-leak")
        result = run_step("list_bucket.py", env, tmp_path)
    finally:
        server.shutdown()
    assert_one_clean_line(result, "leak", "WeirdError", "key LEAK…001 secret leak…jkl rejected")
    output = result.stdout + result.stderr
    assert Leaky.access_key not in output and Leaky.secret_key not in output


def test_a_short_access_key_does_not_mangle_hints_and_names(tmp_path):
    """Ключ «lecture» (так во встроенном сервере) совпадает с именем бакета и началом имени переменной:
    раньше маска портила подсказки («…_ENDPOINT_URL», «бакет …-tmp»). Встроенный сервер ключи не проверяет."""
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "local_s3.py"), "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = dict(base_env(tmp_path), S3_ENDPOINTS="lecture", LECTURE_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                   LECTURE_ACCESS_KEY="lecture", LECTURE_SECRET_KEY="lecture-secret", LECTURE_BUCKET="lecture")
        deadline = time.monotonic() + 30
        while run_step("list_bucket.py", env, tmp_path).returncode != 0:
            assert time.monotonic() < deadline, "встроенный сервер не запустился"
            time.sleep(0.2)
        assert run_step("create_bucket.py", env, tmp_path).returncode == 0
        run_step("create_remove_bucket.py", env, tmp_path)  # пусть -tmp останется от «прерванного» запуска:
        import boto3
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="a",
                     aws_secret_access_key="b").create_bucket(Bucket="lecture-tmp")
        taken = run_step("create_remove_bucket.py", env, tmp_path)
        assert_one_clean_line(taken, "lecture", "бакет lecture-tmp уже есть")
        refused = run_step("list_bucket.py", dict(env, LECTURE_ENDPOINT_URL="http://127.0.0.1:9"), tmp_path)
        assert_one_clean_line(refused, "lecture", "LECTURE_ENDPOINT_URL")
    finally:
        server.terminate()
        server.wait(timeout=10)


# ── Данные и бакеты ───────────────────────────────────────────────────────────────────────────────

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


def test_hint_for_a_wrong_data_file_never_suggests_overwriting_it(tmp_path):
    """TITANIC_CSV=/etc/passwd: раньше подсказка была «curl -o /etc/passwd»."""
    env = dict(base_env(tmp_path), S3_ENDPOINTS="x", X_ENDPOINT_URL="http://127.0.0.1:9", X_ACCESS_KEY="a",
               X_SECRET_KEY="b", X_BUCKET="lecture", TITANIC_CSV="/etc/passwd")
    result = run_step("upload_object.py", env, tmp_path)
    assert result.returncode == 2
    assert "-o /etc/passwd" not in result.stdout
    assert f"-o {ROOT / 'titanic.csv'}" in result.stdout.replace("\n", "") and "TITANIC_CSV" in result.stdout


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


MISSING_BUCKET = [("upload_object.py", "create_bucket.py"), ("duckdb_copy_to_s3.py", "create_bucket.py"),
                  ("pandas_dataframe_to_s3.py", "create_bucket.py"), ("duckdb_read_from_s3.py", "шаг"),
                  ("pandas_dataframe_from_s3.py", "шаг")]
# SeaweedFS сам создаёт бакет при первом PUT: у пишущих boto3 и s3fs там сообщать не о чем.
AUTO_CREATED = {("seaweedfs", "upload_object.py"), ("seaweedfs", "pandas_dataframe_to_s3.py")}


@pytest.mark.parametrize(("kind", "script", "hint"), [
    (kind, script, hint) for kind in KEY_KINDS for script, hint in MISSING_BUCKET
    if (kind, script) not in AUTO_CREATED])
def test_missing_bucket_names_the_step_that_creates_it(servers_of, tmp_path, kind, script, hint):
    servers = servers_of(kind)
    env = base_env(tmp_path)
    env.update(servers[0].endpoint_env("first", unique_bucket()), S3_ENDPOINTS="first")  # бакетов нет
    result = run_step(script, env, tmp_path)
    assert result.returncode == 1, result.stdout
    assert_one_clean_line(result, "first", hint)
