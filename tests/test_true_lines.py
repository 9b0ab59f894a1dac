"""Странный ответ сервера или странные данные — одна правдивая строка, а не трассировка (issue 16, п. 4).

Каждый случай однажды видели на деле: 307 с Location на другой порт, ключи вида «[red]alert»,
пустое, оборванное и сжатое тело ответа 200, чужой файл в наборе Parquet, aiohttp на ответе не по HTTP,
HTML вместо XML тегов, часы не те, поле CSV длиной 200 000 символов. Ответы портит
FaultProxy (tests/faults.py); шаги запускаются подпроцессами, как у лектора.
"""

import csv
import time
from email.utils import formatdate

import pytest
from conftest import DATA, base_env, lecture_env, run_step, unique_bucket
from faults import (
    FaultProxy,
    every,
    garbage,
    gzipped,
    only_user_agent,
    reply,
    status,
    truncated,
    when,
)

PREPARE = ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py")


def true_line(result, endpoint: str, expected: str) -> str:
    """Ровно одна строка ✗ у эндпоинта, в ней expected, и нигде нет трассировки."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"✗ {endpoint}:")]
    assert len(lines) == 1, output
    assert expected in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def prepared_on(servers_of, tmp_path_factory):
    """Бакеты и данные лекции на сервере вида kind: «good» — напрямую, «broken» (адрес задаёт тест) —
    тот же сервер и бакет через FaultProxy."""
    done = {}

    def get(kind: str):
        if kind not in done:
            tmp_path = tmp_path_factory.mktemp(f"true-lines-{kind}")
            server = servers_of(kind)[0]
            env = base_env(tmp_path)
            bucket = unique_bucket()
            server.client().create_bucket(Bucket=bucket)
            env.update(server.endpoint_env("good", bucket), S3_ENDPOINTS="good", TITANIC_CSV=str(DATA))
            for script in PREPARE:
                assert run_step(script, env, tmp_path).returncode == 0, script
            env.update(server.endpoint_env("broken", bucket), S3_ENDPOINTS="broken,good")
            done[kind] = server, env, bucket
        return done[kind]
    return get


@pytest.fixture
def prepared(prepared_on):
    """Там, где вид сервера не важен (ответ целиком делает прокси), — moto."""
    return prepared_on("moto")


# Тело ответа — от сервера (прокси его только портит): Ceph отвечает своим XML и своими заголовками.
KINDS = ["moto", "ceph-http", "ceph-tls"]


def through(prepared, rule, script: str, tmp_path, **extra):
    """Шаг с «broken» через FaultProxy с правилом rule и исправным «good»."""
    server, env, _ = prepared
    with FaultProxy.for_server(server, rule=rule) as proxy:
        return run_step(script, dict(env, BROKEN_ENDPOINT_URL=proxy.url, **extra), tmp_path)


def assert_good_went_on(result) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 из 2 эндпоинтов: ОК" in result.stdout


# ── 1. Перенаправление ───────────────────────────────────────────────────────────────────────────

@pytest.mark.moto  # prepared — всегда moto
@pytest.mark.parametrize(("script", "body"), [
    ("list_bucket.py", "empty"), ("cleanup.py", "empty"), ("upload_object.py", "empty"),
    ("create_bucket.py", "xml"), ("list_bucket.py", "xml"), ("upload_object.py", "xml"),
])
def test_a_redirect_names_the_address_to_set(prepared, moto_servers, tmp_path, script, body):
    """Раньше: TypeError из перенаправления региона botocore, RecursionError у upload_object.py,
    «HTTP 500» у create_bucket.py. Location ведёт на настоящий второй сервер: minio за ним не идёт."""
    elsewhere = f"127.0.0.1:{moto_servers[1].port}"
    location = {"Location": f"http://{elsewhere}/"}
    if body == "xml":  # так отвечает AWS на запрос к свежему бакету не в том регионе
        rule = every(status(307, "TemporaryRedirect", message="Please re-send this request", headers=location))
    else:
        rule = every(status(307, body_kind="empty", headers=location))
    result = through(prepared, rule, script, tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", f"перенаправление на {elsewhere} — задайте этот адрес в BROKEN_ENDPOINT_URL")


# ── 2. Ключи и тексты сервера — простой текст, не разметка rich ──────────────────────────────────

ODD_KEYS = ["data[/]old.csv", "[red]alert", "notes [bold]draft", "[/]"]


def test_odd_keys_are_shown_as_they_are(servers, tmp_path):
    """Раньше: rich.errors.MarkupError в шагах 2, 4, 12, а «[red]alert» — красное «alert»."""
    env, buckets = lecture_env(tmp_path, servers)
    for key in ODD_KEYS:
        servers[0].client().put_object(Bucket=buckets[0], Key=key, Body=b"x")
    result = run_step("list_objects.py", env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for key in ODD_KEYS:
        assert any(line.split("│")[1].strip() == key for line in result.stdout.splitlines()
                   if line.count("│") > 2), (key, result.stdout)


@pytest.mark.moto  # prepared — всегда moto
def test_a_server_message_with_brackets_is_printed_as_is(prepared, tmp_path):
    message = "нет [/] закрытия [red]вот"
    result = through(prepared, every(status(400, "WeirdError", message=message)), "list_bucket.py", tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", f"WeirdError — {message}")


# ── 3. 200, а тело не разобрать ──────────────────────────────────────────────────────────────────

UNPARSED = "не S3 — ответ не разобрать"


@pytest.mark.moto  # prepared — всегда moto
@pytest.mark.parametrize("script", ["list_objects.py", "cleanup.py", "list_bucket.py"])
def test_empty_200_to_a_listing_is_not_s3(prepared, tmp_path, script):
    """Раньше: KeyError: 'Buckets'."""
    result = through(prepared, when(status(200, body_kind="empty"), method="GET"), script, tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", UNPARSED)


@pytest.mark.moto  # prepared — всегда moto
def test_a_well_formed_html_200_to_a_listing_is_not_s3(prepared, tmp_path):
    """HTML — тоже разбираемый XML: botocore видел в нём ответ без бакетов, дальше KeyError: 'Buckets'."""
    page = reply(200, b"<html><body>ok</body></html>", {"Content-Type": "application/xml"})
    result = through(prepared, when(page, method="GET"), "list_objects.py", tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", UNPARSED)


@pytest.mark.parametrize("fault", [truncated(60), gzipped()], ids=["truncated", "gzip"])
@pytest.mark.parametrize(("kind", "script"), [
    *(("moto", script) for script in ("list_bucket.py", "list_objects.py", "plain_http.py", "cleanup.py")),
    ("ceph-http", "list_objects.py"), ("ceph-tls", "list_objects.py")])
def test_broken_xml_in_200_is_not_a_500(prepared_on, tmp_path, kind, script, fault):
    """Раньше: «HTTP 500 — сервер не справился», хотя сервер ответил 200."""
    result = through(prepared_on(kind), when(fault, method="GET"), script, tmp_path)
    assert_good_went_on(result)
    line = true_line(result, "broken", UNPARSED)
    assert "HTTP 500" not in line


# ── 4–5. DuckDB и pandas: тело короче Range, чужой файл, не Parquet ─────────────────────────────

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", [truncated(0), truncated(10), gzipped()], ids=["empty", "truncated", "gzip"])
def test_duckdb_given_less_than_its_range(prepared_on, tmp_path, kind, fault):
    """Раньше: AttributeError: 'HTTPException' object has no attribute 'status_code' — из failures._answer."""
    rule = only_user_agent("duckdb", when(fault, method="GET"))
    result = through(prepared_on(kind), rule, "duckdb_read_from_s3.py", tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", UNPARSED)


def test_a_foreign_file_in_the_parquet_set_is_named(servers, tmp_path):
    """Раньше: InvalidInputException «too small to be a Parquet file» с трассировкой."""
    env, buckets = lecture_env(tmp_path, servers)
    for script in ("create_bucket.py", "duckdb_copy_to_s3.py"):
        assert run_step(script, env, tmp_path).returncode == 0, script
    before = run_step("duckdb_read_from_s3.py", env, tmp_path)
    assert before.returncode == 0 and before.stdout.count("строк из 3 файлов") == 2, before.stdout
    key = "titanic_by_class/Pclass=9/data_0.parquet"
    servers[0].client().put_object(Bucket=f"{buckets[0]}-duckdb", Key=key, Body=b"PA")
    result = run_step("duckdb_read_from_s3.py", env, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    true_line(result, "first", f"не Parquet — чужой объект в наборе? {buckets[0]}-duckdb/{key}")
    assert "1 из 2 эндпоинтов: ОК" in result.stdout and "строк из 3 файлов" in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_gzipped_parquet_through_pandas_is_not_parquet(prepared_on, tmp_path, kind):
    """Раньше: pyarrow.lib.ArrowInvalid: Parquet magic bytes not found — с трассировкой."""
    _, _, bucket = prepared_on(kind)
    rule = only_user_agent("aiobotocore", when(gzipped(), method="GET"))
    result = through(prepared_on(kind), rule, "pandas_dataframe_from_s3.py", tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", f"не Parquet — чужой объект в наборе? {bucket}-pandas/titanic.parquet")


# ── 6. aiohttp (s3fs) — те же исходы, что у botocore ────────────────────────────────────────────

@pytest.mark.moto  # prepared — всегда moto
@pytest.mark.parametrize(("script", "client"), [("list_bucket.py", "Boto3"),
                                               ("pandas_dataframe_from_s3.py", "aiobotocore")])
def test_not_http_at_all_is_the_same_line_through_botocore_and_aiohttp(prepared, tmp_path, script, client):
    """Порт, где не HTTP (здесь — приветствие SSH). Раньше s3fs: трассировка на 60 строк, в конце aiohttp
    ClientResponseError: 400 Bad status line (так же кончался и провайдер, капающий по байту)."""
    rule = only_user_agent(client, every(garbage(b"SSH-2.0-OpenSSH_9.6\r\n")))
    result = through(prepared, rule, script, tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", "соединение оборвано — сервер закрыл соединение посреди ответа")


# ── 7. HTML вместо XML тегов ─────────────────────────────────────────────────────────────────────

@pytest.mark.moto  # prepared — всегда moto
def test_html_200_to_tagging_is_not_s3(prepared, tmp_path):
    """Раньше: minio ValueError: XML element <TagSet> not found — с трассировкой."""
    page = reply(200, b"<html><body>ok</body></html>", {"Content-Type": "application/xml"})
    result = through(prepared, when(page, api="tagging", method="GET"), "object_metadata.py", tmp_path)
    assert_good_went_on(result)
    true_line(result, "broken", UNPARSED)


# ── 8. Часы — это часы, через любой клиент ───────────────────────────────────────────────────────

SKEWED = status(403, "RequestTimeTooSkewed", message="The difference between the request time and the current "
                "time is too large.")
CLOCK_CLIENTS = ["list_bucket.py", "create_remove_bucket.py", "duckdb_read_from_s3.py",
                 "pandas_dataframe_from_s3.py", "pandas_dataframe_to_s3.py"]


def an_hour_ahead():
    """Часы сервера на час впереди: так выглядит любой ответ, если отстают наши. У HEAD тела нет — только Date."""
    return every(status(403, "AccessDenied", headers={"Date": formatdate(time.time() + 3600, usegmt=True)}))


@pytest.mark.moto  # prepared — всегда moto
@pytest.mark.parametrize("script", CLOCK_CLIENTS)
@pytest.mark.parametrize(("make_rule", "says"), [
    (lambda: when(SKEWED, method=("GET", "PUT", "POST", "DELETE")),
     "RequestTimeTooSkewed — часы компьютера расходятся с часами сервера"),
    (an_hour_ahead, "часы — компьютер и сервер расходятся на 60 мин"),
], ids=["code", "date"])
def test_a_clock_error_is_the_clock_and_not_the_keys(prepared, tmp_path, script, make_rule, says):
    """Раньше s3fs (первый запрос — HEAD): «HTTP 403 — доступ запрещён: проверьте …_ACCESS_KEY» и код 3 —
    run_demo.py останавливал лекцию из-за ключей."""
    result = through(prepared, make_rule(), script, tmp_path, S3_ENDPOINTS="broken")
    assert result.returncode == 1, result.stdout + result.stderr  # не 3: ключи ни при чём
    line = true_line(result, "broken", says)
    assert "ACCESS_KEY" not in line


# ── 9. Файл данных ───────────────────────────────────────────────────────────────────────────────

@pytest.mark.moto  # prepared — всегда moto
def test_an_overlong_field_in_the_data_file_is_a_settings_error(prepared, tmp_path):
    """Раньше: _csv.Error: field larger than field limit — трассировка и код 1."""
    rows = list(csv.reader(DATA.open()))
    rows[3][3] = "x" * 200_000  # имя пассажира
    path = tmp_path / "titanic.csv"
    with path.open("w", newline="") as file:
        csv.writer(file).writerows(rows)
    _, env, _ = prepared
    result = run_step("upload_object.py", dict(env, TITANIC_CSV=str(path), S3_ENDPOINTS="good"), tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Ошибка настройки:" in result.stdout and "строка 4" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
