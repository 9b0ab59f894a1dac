"""SeaweedFS и s3rver — настоящие S3 для подписанного клиента boto3 (запуск — tests/extra_servers.py).

Выбрать только их: pytest -m seaweedfs, pytest -m s3rver, pytest tests/test_extra_servers.py
"""

import dataclasses

import pytest
from botocore.exceptions import ClientError
from conftest import unique_bucket

KINDS = [pytest.param("seaweedfs", marks=pytest.mark.seaweedfs), pytest.param("s3rver", marks=pytest.mark.s3rver)]


def error_code(call) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return error.value.response["Error"]["Code"]


@pytest.mark.parametrize("kind", KINDS)
def test_server_works_as_s3_for_both_endpoints(servers_of, kind):
    for server in servers_of(kind):
        client = server.client()
        bucket = unique_bucket(kind)
        body = "Привет, S3".encode()
        client.create_bucket(Bucket=bucket)
        try:
            client.put_object(Bucket=bucket, Key="folder/hello.txt", Body=body, ContentType="text/plain; charset=utf-8")
            client.put_object(Bucket=bucket, Key="top.txt", Body=b"top")
            got = client.get_object(Bucket=bucket, Key="folder/hello.txt")
            assert got["Body"].read() == body
            assert got["ContentType"] == "text/plain; charset=utf-8"
            everything = client.list_objects_v2(Bucket=bucket)
            assert [o["Key"] for o in everything["Contents"]] == ["folder/hello.txt", "top.txt"]
            folder = client.list_objects_v2(Bucket=bucket, Prefix="folder/")
            assert [(o["Key"], o["Size"]) for o in folder["Contents"]] == [("folder/hello.txt", len(body))]
            assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]
        finally:
            for key in ("folder/hello.txt", "top.txt"):
                client.delete_object(Bucket=bucket, Key=key)
            client.delete_bucket(Bucket=bucket)
        assert bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]


@pytest.mark.seaweedfs
def test_seaweedfs_endpoints_are_two_users_of_one_server(servers_of):
    first, second = servers_of("seaweedfs")
    assert first.url == second.url and first.access_key != second.access_key
    bucket = unique_bucket("shared")
    first.client().create_bucket(Bucket=bucket)
    try:
        first.client().put_object(Bucket=bucket, Key="k", Body=b"from first")
        assert second.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"from first"
    finally:
        first.client().delete_object(Bucket=bucket, Key="k")
        first.client().delete_bucket(Bucket=bucket)


@pytest.mark.seaweedfs
def test_seaweedfs_refuses_wrong_secret_and_unknown_key(servers_of):
    server = servers_of("seaweedfs")[0]
    bucket = unique_bucket("signed")
    server.client().create_bucket(Bucket=bucket)
    try:
        wrong_secret = dataclasses.replace(server, secret_key=server.secret_key + "x").client()
        assert error_code(wrong_secret.list_buckets) == "SignatureDoesNotMatch"
        assert error_code(lambda: wrong_secret.put_object(Bucket=bucket, Key="k", Body=b"x")) == "SignatureDoesNotMatch"
        unknown_key = dataclasses.replace(server, access_key="NOSUCHKEY000000000000").client()
        assert error_code(unknown_key.list_buckets) == "InvalidAccessKeyId"
        assert server.client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # ничего не записалось
    finally:
        server.client().delete_bucket(Bucket=bucket)


@pytest.mark.s3rver
def test_s3rver_endpoints_are_independent_processes(servers_of):
    first, second = servers_of("s3rver")
    assert first.url != second.url
    bucket = unique_bucket("alone")
    first.client().create_bucket(Bucket=bucket)
    try:
        assert bucket not in [b["Name"] for b in second.client().list_buckets()["Buckets"]]
    finally:
        first.client().delete_bucket(Bucket=bucket)


@pytest.mark.s3rver
def test_s3rver_checks_only_the_access_key_not_the_signature(servers_of):
    """Известная слабость s3rver: подпись SigV4 не проверяется. Тесты подписей на нём ничего не докажут."""
    server = servers_of("s3rver")[0]
    wrong_secret = dataclasses.replace(server, secret_key="not-the-secret").client()
    assert isinstance(wrong_secret.list_buckets()["Buckets"], list)
    unknown_key = dataclasses.replace(server, access_key="NOSUCHKEY").client()
    assert error_code(unknown_key.list_buckets) == "InvalidAccessKeyId"
