"""--trace: каждый HTTP-запрос каждого клиента — одной строкой, и ни одного секрета в выводе."""

import re

from conftest import base_env, lecture_env, run_step

# Строка трассировки: клиент, метод, путь, стрелка, статус.
LINE = re.compile(r"^ {2}(boto3|minio|s3fs|duckdb|urllib) +(GET|PUT|HEAD|POST|DELETE) +/\S* +→ \d{3}", re.M)


def traced(script: str, env: dict, tmp_path, *args: str) -> tuple[str, set[tuple[str, str]]]:
    result = run_step(script, env, tmp_path, *args, "--trace")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, {(client, method) for client, method in LINE.findall(result.stdout)}


def test_every_client_shows_its_requests_and_no_secret(moto_servers, tmp_path):
    env, buckets = lecture_env(tmp_path, moto_servers)
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    outputs = []
    for script, clients in [("upload_object.py", {("boto3", "PUT"), ("minio", "PUT"), ("boto3", "HEAD")}),
                            ("duckdb_copy_to_s3.py", {("duckdb", "PUT"), ("duckdb", "GET")}),
                            ("pandas_dataframe_to_s3.py", {("s3fs", "PUT")}),
                            ("pandas_dataframe_from_s3.py", {("s3fs", "GET")})]:
        output, seen = traced(script, env, tmp_path)
        assert clients <= seen, f"{script}: {sorted(seen)}"
        outputs.append(output)
    assert f"  boto3  PUT    /{buckets[0]}/boto3/titanic.csv → 200" in outputs[0]
    everything = "\n".join(outputs)
    for server in moto_servers:
        assert server.access_key not in everything and server.secret_key not in everything
    assert "Authorization" not in everything and "Signature" not in everything


def test_signed_links_are_traced_without_their_signature(tmp_path):
    """Подписанная ссылка (urllib): путь виден, X-Amz-Signature и X-Amz-Credential (в нём ключ) — нет."""
    # Без S3_ENDPOINTS run_demo.py поднимает встроенный S3: он ссылки проверяет не строже moto без подписей.
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--only", "14", "--trace")
    assert result.returncode == 0, result.stdout
    assert re.search(r"^ {2}urllib PUT +/lecture/extras/presigned-boto3\.txt +→ 200", result.stdout, re.M)
    assert "X-Amz-Signature" not in result.stdout and "X-Amz-Credential" not in result.stdout

