"""Настройки: ошибка конфигурации — код 2 и имя переменной, до единого запроса к S3."""

import pytest
from conftest import DATA, base_env, run_step


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
    ("LOCAL_REGION", "ru central 1"),                    # пробелы в регионе
    ("LOCAL_ENDPOINT_URL", "http://127.0.0.1:99999"),    # раньше: код 1 и «Invalid region»
    ("LOCAL_ENDPOINT_URL", "http://127.0.0.1:abc"),
    ("LOCAL_BUCKET", "192.168.1.1"),                     # правила имён S3: не IP-адрес,
    ("LOCAL_BUCKET", "xn--lecture"),                     # не начинается с xn--,
    ("LOCAL_BUCKET", "lecture-s3alias"),                 # не кончается на -s3alias
    ("LOCAL_BUCKET", "a.-b"),                            # и рядом с точкой — буква или цифра
    ("LOCAL_BUCKET", "sthree-lecture"),
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
    assert run_step("list_bucket.py", env, tmp_path).returncode == 3  # ключ из .env неверный: работать не с чем
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


def test_password_in_the_url_is_refused_and_never_printed(tmp_path):
    result = run_step("list_bucket.py", endpoint_env(tmp_path, LOCAL_ENDPOINT_URL="http://user:s3cr3tpass@host:9000"),
                      tmp_path)
    assert result.returncode == 2
    assert "LOCAL_ENDPOINT_URL" in result.stdout
    assert "s3cr3tpass" not in result.stdout + result.stderr


def test_vhost_with_an_ip_address_is_refused(tmp_path):
    result = run_step("list_bucket.py", endpoint_env(tmp_path, LOCAL_URL_STYLE="vhost"), tmp_path)
    assert result.returncode == 2
    assert "LOCAL_ENDPOINT_URL" in result.stdout and "vhost" in result.stdout


@pytest.mark.parametrize("names", ["local,local", "local, local", "my-s3,my_s3"])
def test_an_endpoint_named_twice_is_refused(tmp_path, names):
    """Раньше дубликат в S3_ENDPOINTS прогонялся дважды; my-s3 и my_s3 читают одни и те же переменные MY_S3_…"""
    env = endpoint_env(tmp_path, S3_ENDPOINTS=names, MY_S3_ENDPOINT_URL="http://127.0.0.1:9", MY_S3_ACCESS_KEY="a",
                       MY_S3_SECRET_KEY="b", MY_S3_BUCKET="lecture")
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 2
    assert "S3_ENDPOINTS" in result.stdout and "дважды" in result.stdout


@pytest.mark.parametrize("script", ["list_bucket.py", "run_demo.py"])
def test_dotenv_in_another_encoding_is_named(tmp_path, script):
    """И шаг, и лектор (run_demo.py читал .env сам и падал с UnicodeDecodeError)."""
    (tmp_path / ".env").write_bytes("# Настройки лекции\nS3_ENDPOINTS=local\n".encode("cp1251"))
    result = run_step(script, base_env(tmp_path), tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert ".env" in result.stdout and "UTF-8" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_csv_with_the_right_header_but_broken_rows_is_refused(tmp_path):
    bad = tmp_path / "titanic.csv"
    bad.write_text(DATA.read_text().replace("\n2,", "\n2,yes,", 1))
    result = run_step("upload_object.py", endpoint_env(tmp_path, TITANIC_CSV=str(bad)), tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "строка 3" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_a_csv_with_a_bom_and_a_quote_in_its_path_is_accepted(tmp_path, moto_servers):
    """titanic.csv из Excel начинается с BOM, а путь с апострофом ломал SQL DuckDB: оба работают."""
    folder = tmp_path / "lecturer's data"
    folder.mkdir()
    data = folder / "titanic.csv"
    data.write_bytes(b"\xef\xbb\xbf" + DATA.read_bytes())
    env = base_env(tmp_path)
    env.update(moto_servers[0].endpoint_env("first", "lecture-bom-quote"), S3_ENDPOINTS="first", TITANIC_CSV=str(data))
    for script in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py",
                   "pandas_dataframe_from_s3.py"):
        result = run_step(script, env, tmp_path)
        assert result.returncode == 0, f"{script}\n{result.stdout}{result.stderr}"
