"""Дополнительные шаги 13–17 на каждом виде сервера: метаданные, ссылки, составная загрузка, версии, pushdown."""

import hashlib
import re

import pytest
from conftest import lecture_env, proxied, run_step
from faults import Proxy


def prepare(servers, tmp_path):
    """Два эндпоинта с бакетами лекции (шаг 6 уже прошёл)."""
    env, buckets = lecture_env(tmp_path, servers)
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    return env, buckets, [server.client() for server in servers], tmp_path


@pytest.fixture
def ready(servers, tmp_path):
    return prepare(servers, tmp_path)


def run_ok(script, env, tmp_path, *args):
    result = run_step(script, env, tmp_path, *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 из 2 эндпоинтов: ОК" in result.stdout and "Traceback" not in output
    return result.stdout


def test_object_metadata(ready):
    env, buckets, clients, tmp_path = ready
    output = run_ok("object_metadata.py", env, tmp_path)
    for s3, bucket in zip(clients, buckets, strict=True):
        head = s3.head_object(Bucket=bucket, Key="extras/metadata.txt")
        assert head["Metadata"] == {"course": "s3", "version": "2"}
        assert head["ContentType"] == "text/plain; charset=utf-8"
    # Теги, прочитанные minio после PUT boto3: у каждого эндпоинта строка «теги после PUT: …».
    tag_lines = [line for line in output.splitlines() if line.startswith("теги после PUT:")]
    assert len(tag_lines) == 2 and all(line.startswith("теги после PUT: kind=demo, lecture=s3;") for line in tag_lines)


# moto с проверкой подписей отвечает 500 на presigned URL (KeyError HTTP_AUTHORIZATION в moto 5.2), а без
# проверки не следит за сроком: шаг на встроенном moto проверяет test_run_demo, здесь — настоящий сервер.
@pytest.mark.parametrize("kind", ["ceph-http", "ceph-tls"])
def test_presigned_urls_work_without_keys_and_expire(servers_of, kind, tmp_path):
    env, buckets, clients, tmp_path = prepare(servers_of(kind), tmp_path)
    output = run_ok("presigned_url.py", env, tmp_path)
    rows = [line for line in output.splitlines() if re.match(r"│ (boto3|minio) ", line)]
    assert len(rows) == 4 and all(re.search(r"│ 200 +│ 200 +│ ✓ +│ 403 ", row) for row in rows), rows
    assert output.count("✓ просроченная ссылка получила 403") == 2
    for s3, bucket in zip(clients, buckets, strict=True):
        for client in ("boto3", "minio"):
            body = s3.get_object(Bucket=bucket, Key=f"extras/presigned-{client}.txt")["Body"].read()
            assert body == f"written by a link from {client}".encode()


def test_multipart_upload_is_identical_to_the_source(ready):
    env, buckets, clients, tmp_path = ready
    run_ok("multipart_upload.py", env, tmp_path, "20")
    for s3, bucket in zip(clients, buckets, strict=True):
        digests = set()
        for client in ("boto3", "minio"):
            head = s3.head_object(Bucket=bucket, Key=f"extras/multipart-{client}.bin")
            assert head["ContentLength"] == 20 * 1024 * 1024
            assert head["ETag"].endswith('-3"'), head["ETag"]  # 8 + 8 + 4 МиБ
            body = s3.get_object(Bucket=bucket, Key=f"extras/multipart-{client}.bin")["Body"].read()
            digests.add(hashlib.sha256(body).hexdigest())
            assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
        assert len(digests) == 1  # оба клиента загрузили один и тот же файл


def test_versions_are_listed_and_restored(ready):
    env, buckets, clients, tmp_path = ready
    for _ in range(2):
        run_ok("versioning.py", env, tmp_path)
    for s3, bucket in zip(clients, buckets, strict=True):
        versions = s3.list_object_versions(Bucket=f"{bucket}-ver", Prefix="extras/versioned.txt")
        assert len(versions["Versions"]) == 4  # по две версии за запуск
        assert not versions.get("DeleteMarkers")  # метки удаления сняты — объект восстановлен
        assert s3.get_object(Bucket=f"{bucket}-ver", Key="extras/versioned.txt")["Body"].read() == b"version 2"


def test_pushdown_reads_fewer_bytes_than_the_object(ready, servers):
    env, buckets, clients, tmp_path = ready
    run_ok("duckdb_pushdown.py", env, tmp_path, "300000")  # создаёт Parquet
    key = "pushdown/events-300000.parquet"
    size = clients[0].head_object(Bucket=f"{buckets[0]}-duckdb", Key=key)["ContentLength"]
    assert size > 10 * 1024 * 1024
    with Proxy(servers[0].port) as proxy:  # независимый счётчик: байты от сервера к DuckDB
        single = dict(env, S3_ENDPOINTS="first", FIRST_ENDPOINT_URL=proxied(servers[0], proxy))
        result = run_step("duckdb_pushdown.py", single, tmp_path, "300000")
    assert result.returncode == 0, result.stdout
    share = float(re.search(r"прочитано ([\d,]+) % объекта", result.stdout).group(1).replace(",", "."))
    assert 0 < share < 25
    # Запрос выполняется дважды (ответ и EXPLAIN ANALYZE): по проводу прошло меньше половины объекта.
    assert 0 < proxy.downstream < size / 2, (proxy.downstream, size)


def test_bucket_policy_opens_and_closes_anonymous_reads(servers_of, tmp_path):
    """Ceph RGW проверяет политику по-настоящему: 403 → 200 → 403; бакет шага после него удалён."""
    env, buckets, clients, tmp_path = prepare(servers_of("ceph-http"), tmp_path)
    output = run_ok("bucket_policy.py", env, tmp_path)
    assert output.count("✓ политика открыла чтение всем, без неё бакет снова закрыт") == 2
    for s3, bucket in zip(clients, buckets, strict=True):
        assert f"{bucket}-pub" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_plain_http_listing_matches_both_sdks(ready):
    env, buckets, clients, tmp_path = ready
    clients[0].put_object(Bucket=buckets[0], Key="notes/plain.txt", Body=b"x")
    output = run_ok("plain_http.py", env, tmp_path)
    assert "notes/plain.txt" in output and "Signature=…" in output
    assert output.count("✓ запрос руками, boto3 и minio видят одни и те же ключи") == 2
