"""Настройки: ошибка конфигурации — код 2 и имя переменной, до единого запроса к S3."""

import pytest
from conftest import base_env, run_step


def endpoint_env(tmp_path, **overrides):
    env = base_env(tmp_path)
    env.update(S3_ENDPOINTS="local", LOCAL_ENDPOINT_URL="http://127.0.0.1:9", LOCAL_ACCESS_KEY="AKIAEXAMPLE0000",
               LOCAL_SECRET_KEY="secret-example-0000", LOCAL_BUCKET="lecture")
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize("missing", ["LOCAL_ENDPOINT_URL", "LOCAL_ACCESS_KEY", "LOCAL_SECRET_KEY", "LOCAL_BUCKET"])
def test_missing_variable_is_named(tmp_path, missing):
    result = run_step("list_bucket.py", endpoint_env(tmp_path, **{missing: None}), tmp_path)
    assert result.returncode == 2
    assert missing in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(("variable", "value"), [
    ("LOCAL_ENDPOINT_URL", "127.0.0.1:9000"),             # без схемы
    ("LOCAL_ENDPOINT_URL", "http://127.0.0.1:9000/lecture"),  # с путём
    ("LOCAL_URL_STYLE", "virtual"),
    ("LOCAL_BUCKET", "Lecture_Bucket"),
    ("LOCAL_BUCKET", "ab"),
    ("LOCAL_BUCKET", "x" * 60),                          # с суффиксом -duckdb длиннее 63
    ("LOCAL_CA_BUNDLE", "/nonexistent/ca.pem"),
])
def test_invalid_value_is_shown(tmp_path, variable, value):
    result = run_step("list_bucket.py", endpoint_env(tmp_path, **{variable: value}), tmp_path)
    assert result.returncode == 2, result.stdout
    assert variable in result.stdout and value in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_no_configuration_says_how_to_start(tmp_path):
    env = base_env(tmp_path)
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 2
    assert ".env.example" in result.stdout and "local_s3.py" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_dotenv_is_read_and_environment_wins(tmp_path, moto_servers):
    server = moto_servers[0]
    (tmp_path / ".env").write_text(
        f"S3_ENDPOINTS=fromfile\nFROMFILE_ENDPOINT_URL={server.url}\nFROMFILE_ACCESS_KEY={server.access_key}\n"
        f"FROMFILE_SECRET_KEY=wrong-secret-in-file\nFROMFILE_BUCKET=lecture-dotenv\n")
    env = base_env(tmp_path)
    assert run_step("list_bucket.py", env, tmp_path).returncode == 1  # ключ из .env неверный
    env["FROMFILE_SECRET_KEY"] = server.secret_key
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 0, result.stdout
    assert "fromfile" in result.stdout


def test_a_bad_endpoint_stops_before_any_request(tmp_path, moto_servers):
    """Ошибка во втором эндпоинте — и первый, исправный, тоже не опрашивается."""
    env = endpoint_env(tmp_path, S3_ENDPOINTS="good,bad")
    env.update(moto_servers[0].endpoint_env("good", "lecture"))
    env.update(moto_servers[1].endpoint_env("bad", "lecture"), BAD_ENDPOINT_URL="ftp://example")
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 2
    assert "BAD_ENDPOINT_URL" in result.stdout
    assert moto_servers[0].url not in result.stdout
