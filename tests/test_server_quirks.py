"""Чему учит настоящий сервер (Ceph RGW): каждая особенность обработана в common.py, и тест падает без неё."""

import io
import socket
import ssl

import boto3
import pytest
import s3fs
from botocore.exceptions import ClientError
from ceph_cluster import CephCluster, _alive
from conftest import base_env, lecture_env, run_step, unique_bucket


@pytest.fixture
def tls_server(ceph):
    return ceph.server(tls=True, user="quirks")


def test_boto3_default_checksums_are_refused_over_tls(tls_server, tmp_path):
    """boto3 ≥ 1.36 по умолчанию шлёт aws-chunked с CRC; RGW по TLS отвечает MissingContentLength.
    Шаг 3 с настройками common.py (when_required) на том же сервере проходит."""
    bucket = unique_bucket()
    tls_server.client().create_bucket(Bucket=bucket)
    defaults = boto3.client("s3", endpoint_url=tls_server.url, region_name="us-east-1",
                            aws_access_key_id=tls_server.access_key, aws_secret_access_key=tls_server.secret_key,
                            verify=tls_server.ca_bundle)
    with pytest.raises(ClientError) as refused:
        defaults.put_object(Bucket=bucket, Key="default.txt", Body=b"x" * 100)
    assert refused.value.response["Error"]["Code"] == "MissingContentLength"
    fs = s3fs.S3FileSystem(key=tls_server.access_key, secret=tls_server.secret_key, endpoint_url=tls_server.url,
                           client_kwargs={"verify": tls_server.ca_bundle}, skip_instance_cache=True)
    with pytest.raises(OSError), fs.open(f"{bucket}/default.txt", "wb") as file:
        file.write(b"x" * 100)

    env = base_env(tmp_path)
    env.update(tls_server.endpoint_env("ceph", bucket), S3_ENDPOINTS="ceph")
    result = run_step("upload_object.py", env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_location_constraint_outside_the_zone_is_reported(ceph, tmp_path):
    """RGW принимает LocationConstraint только своей зоны: код сервера и подсказка про регион, не трассировка."""
    server = ceph.server(tls=False, user="quirks")
    env = base_env(tmp_path)
    env.update(server.endpoint_env("ceph", unique_bucket()), S3_ENDPOINTS="ceph", CEPH_REGION="eu-west-1")
    result = run_step("create_bucket.py", env, tmp_path)
    assert result.returncode == 1
    assert "ceph: InvalidLocationConstraint" in result.stdout
    assert "CEPH_REGION" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_errors_show_a_code_and_an_explanation_never_none(ceph, tmp_path):
    """Сообщения RGW часто пусты (Message: None): показываем код и своё объяснение."""
    server = ceph.server(tls=False, user="quirks")
    env = base_env(tmp_path)
    env.update(server.endpoint_env("ceph", unique_bucket()), S3_ENDPOINTS="ceph", CEPH_SECRET_KEY="wrong" * 8)
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 3  # неверный секрет у единственного эндпоинта: работать не с чем
    assert "ceph: SignatureDoesNotMatch — подпись не сошлась: проверьте CEPH_SECRET_KEY" in result.stdout
    assert "None" not in result.stdout


@pytest.mark.parametrize("script", ["list_bucket.py", "duckdb_read_from_s3.py", "pandas_dataframe_from_s3.py"])
def test_private_ca_is_required_and_enough(ceph, tmp_path, script):
    """Сертификат от своего CA: без <ИМЯ>_CA_BUNDLE — одна строка про TLS, с ним — работает."""
    server = ceph.server(tls=True, user="quirks")
    with pytest.raises(ssl.SSLError):
        ssl.create_default_context().wrap_socket(
            socket.create_connection(("127.0.0.1", server.port)),
            server_hostname="127.0.0.1")
    env, _ = lecture_env(tmp_path, [server, server])
    trusted = run_step("list_bucket.py", env, tmp_path)
    assert trusted.returncode == 0, trusted.stdout

    for name in ("FIRST", "SECOND"):
        del env[f"{name}_CA_BUNDLE"]
    untrusted = run_step(script, env, tmp_path)
    assert untrusted.returncode == 3  # TLS не проверен ни у одного эндпоинта
    assert "first: TLS — сертификат сервера не проверен: для своего CA задайте FIRST_CA_BUNDLE" in untrusted.stdout
    assert "Traceback" not in untrusted.stdout + untrusted.stderr


def test_bucket_that_exists_is_already_there(ceph, tmp_path):
    """RGW отвечает 200 на создание своего же бакета (другие — BucketAlreadyOwnedByYou): оба значат «уже есть»."""
    server = ceph.server(tls=False, user="quirks")
    env, buckets = lecture_env(tmp_path, [server, ceph.server(tls=False, user="quirks2")])
    first = run_step("create_bucket.py", env, tmp_path)
    second = run_step("create_bucket.py", env, tmp_path)
    assert first.returncode == second.returncode == 0
    assert first.stdout.count("создан") >= 4 and "уже был" in first.stdout
    assert "создан" not in second.stdout


def test_no_ceph_process_outlives_its_cluster(ceph_installed, tmp_path):
    cluster = CephCluster(tmp_path / "ceph")
    cluster.start()
    pids = cluster.pids()
    assert len(pids) == 3 and all(_alive(pid) for pid in pids)
    server = cluster.server(tls=False, user="solo")
    server.client().create_bucket(Bucket="solo-bucket")
    server.client().upload_fileobj(io.BytesIO(b"data"), "solo-bucket", "key")
    cluster.stop()
    assert not any(_alive(pid) for pid in pids)
