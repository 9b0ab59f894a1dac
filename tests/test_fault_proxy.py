"""FaultProxy: прозрачно пересылает запросы к настоящему S3 (moto с проверкой подписей, Ceph по TLS),
а каждая неисправность делает ровно то, что обещает."""

import gzip
import hashlib
import http.client
import http.server
import io
import os
import socket
import threading
import time
import urllib.request
from dataclasses import replace

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from conftest import unique_bucket
from faults import (
    Exchange,
    FaultProxy,
    any_of,
    cut,
    drip,
    every,
    first,
    garbage,
    gzipped,
    hang,
    no_range,
    ok_without_effect,
    only_user_agent,
    reply,
    rewrite,
    slow,
    status,
    truncated,
    when,
)
from minio import Minio
from minio.error import S3Error

# Исключение в потоке прокси — провал теста, а не строчка в выводе.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
MiB = 1024 * 1024


@pytest.fixture
def moto(moto_servers):
    return moto_servers[0]


@pytest.fixture
def proxy(moto):
    with FaultProxy.for_server(moto) as proxy:
        yield proxy


@pytest.fixture
def bucket(moto):
    name = unique_bucket("faults")
    moto.client().create_bucket(Bucket=name)
    return name


def error_of(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"]


def proxy_threads(proxy: FaultProxy) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(f"FaultProxy-{proxy.port}-") and t.is_alive()]


def signed(proxy: FaultProxy, method: str, target: str, body: bytes = b"") -> dict[str, str]:
    """Заголовки SigV4 для запроса к прокси, как их сделал бы клиент (moto без подписи отвечает 500)."""
    server = proxy.server
    request = AWSRequest(method=method, url=f"{server.url}{target}", data=body)
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def raw_request(proxy: FaultProxy, method: str, target: str) -> socket.socket:
    """Подписанный запрос через голый сокет — видно каждый байт ответа; Connection: close — ответ кончится EOF."""
    headers = {"Host": f"127.0.0.1:{proxy.port}", **signed(proxy, method, target), "Connection": "close"}
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    sock.sendall(f"{method} {target} HTTP/1.1\r\n".encode()
                 + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n")
    return sock


# ── пересылка ───────────────────────────────────────────────────────────────────────────────────────


def test_forwards_signed_requests_and_streams_20_mib(proxy, bucket):
    client = proxy.server.client()
    data = os.urandom(20 * MiB)
    client.put_object(Bucket=bucket, Key="big.bin", Body=io.BytesIO(data))  # файл как тело: Expect: 100-continue
    got = client.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    assert proxy.log == [("PUT", f"/{bucket}/big.bin", "", 200, None), ("GET", f"/{bucket}/big.bin", "", 200, None)]
    assert proxy.upstream > 20 * MiB and proxy.downstream > 20 * MiB
    assert proxy.connections == 1  # moto закрывает каждое соединение, а к клиенту оно одно
    # Подпись проверяет сервер: чужой секрет через прокси так же отвергнут.
    wrong = replace(proxy.server, secret_key="wrong-secret-0123456789").client()
    assert error_of(wrong.head_bucket, Bucket=bucket) == (403, "403")
    assert error_of(wrong.list_objects_v2, Bucket=bucket) == (403, "SignatureDoesNotMatch")


def test_forwards_chunked_request_body(proxy, bucket):
    parts = [os.urandom(100_000) for _ in range(7)]
    headers = signed(proxy, "PUT", f"/{bucket}/chunked.bin", b"".join(parts))
    framing = []

    def remember(request):
        framing.append((request.headers.get("transfer-encoding"), request.headers.get("content-length")))
    proxy.rule = remember
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("PUT", f"/{bucket}/chunked.bin", body=iter(parts), headers=headers)  # без длины — chunked
    response = conn.getresponse()
    assert response.status == 200, response.read()
    response.read()
    conn.close()
    got = proxy.server.client().get_object(Bucket=bucket, Key="chunked.bin")["Body"].read()
    assert got == b"".join(parts)
    assert framing[0] == ("chunked", None)


# ── ответы вместо сервера ───────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("fault", "code", "s3_code"), [
    (status(503), 503, "ServiceUnavailable"),
    (status(503, "SlowDown"), 503, "SlowDown"),
    (status(501), 501, "NotImplemented"),
    (status(405), 405, "MethodNotAllowed"),
    (status(502, body_kind="html"), 502, "502"),
    (status(500, body_kind="empty"), 500, "500"),
])
def test_status_answers_without_the_server(moto, bucket, fault, code, s3_code):
    with FaultProxy.for_server(moto, rule=every(fault)) as proxy:
        assert error_of(proxy.server.client().list_objects_v2, Bucket=bucket) == (code, s3_code)
    assert proxy.log == [("GET", f"/{bucket}", "list-type=2&encoding-type=url", code, fault)]
    assert proxy.upstream_connections == 0 and proxy.upstream == 0


def test_html_200_where_xml_is_expected(proxy, bucket):
    proxy.rule = when(status(200, body_kind="html"), api="list-type")
    client = proxy.server.client()
    # botocore считает 200 с неразборным XML оборванным ответом: это 500, который он повторил бы.
    assert error_of(client.list_objects_v2, Bucket=bucket) == (500, "500")
    client.head_bucket(Bucket=bucket)  # остальное идёт к серверу
    with urllib.request.urlopen(f"{proxy.url}/{bucket}?list-type=2", timeout=5) as page:
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        assert page.read().startswith(b"<html>")


def test_reply_sends_exactly_the_status_headers_and_bytes(proxy, bucket):
    proxy.rule = when(reply(307, b"moved", {"Location": "http://127.0.0.1:9/x", "Content-Type": "text/plain"}),
                      method="GET")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", f"/{bucket}")
    response = conn.getresponse()
    assert (response.status, response.getheader("Location"), response.getheader("Content-Type")) == (
        307, "http://127.0.0.1:9/x", "text/plain")
    assert response.read() == b"moved"
    conn.close()
    proxy.server.client().head_bucket(Bucket=bucket)  # HEAD — к серверу
    assert [e.status for e in proxy.log] == [307, 200] and proxy.upstream_connections == 1


# ── ответ сервера с другим телом ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("size", [0, 100])
def test_truncated_keeps_the_status_and_cuts_the_body_honestly(proxy, bucket, size):
    """Content-Length — по оставшимся байтам: клиент получает целый ответ 200, только тело короче."""
    proxy.server.client().put_object(Bucket=bucket, Key="listed.txt", Body=b"x")
    proxy.rule = when(truncated(size), api="list-type")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", f"/{bucket}?list-type=2", headers=signed(proxy, "GET", f"/{bucket}?list-type=2"))
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200 and len(body) == size == int(response.getheader("Content-Length"))
    whole = proxy.server.client().list_objects_v2  # без неисправности — тот же ответ целиком
    proxy.rule = None
    assert whole(Bucket=bucket)["KeyCount"] == 1
    conn.request("GET", f"/{bucket}?list-type=2", headers=signed(proxy, "GET", f"/{bucket}?list-type=2"))
    full = conn.getresponse().read()  # то же соединение: keep-alive пережил замену тела
    conn.close()
    assert full.startswith(body) and len(full) > size


def test_gzipped_compresses_the_body_and_says_so(proxy, bucket):
    data = os.urandom(1000)
    proxy.server.client().put_object(Bucket=bucket, Key="z.bin", Body=data)
    proxy.rule = when(gzipped(), method="GET")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", f"/{bucket}/z.bin", headers=signed(proxy, "GET", f"/{bucket}/z.bin"))
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(response.read()) == data
    conn.close()


def test_rewrite_reads_a_chunked_body_whole():
    """Ответ chunked (так отвечает HTTP-сервер без длины) — Rewrite получает тело без разметки кусков."""
    class Chunked(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with FaultProxy(f"http://127.0.0.1:{server.server_port}", rule=rewrite(bytes.upper)) as proxy:
            with urllib.request.urlopen(f"{proxy.url}/any", timeout=5) as page:
                assert page.read() == b"ABCDEFG" and page.headers["Content-Length"] == "7"
    finally:
        server.shutdown()


def test_ok_without_effect_accepts_versioning_but_does_nothing(proxy, bucket):
    proxy.rule = when(ok_without_effect(), api="versioning", method="PUT")
    client = proxy.server.client()
    answer = client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in client.get_bucket_versioning(Bucket=bucket)
    assert [(e.method, e.query, e.status, e.fault) for e in proxy.log] == [
        ("PUT", "versioning", 200, ok_without_effect()), ("GET", "versioning", 200, None)]
    assert proxy.upstream_connections == 1


def test_503_storm_then_recovery(proxy, bucket):
    proxy.rule = first(3, status(503, "SlowDown"))
    client = proxy.server.client()
    codes = []
    for _ in range(5):
        try:
            codes.append(client.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"])
        except ClientError as error:
            codes.append(error.response["ResponseMetadata"]["HTTPStatusCode"])
    assert codes == [503, 503, 503, 200, 200]
    assert [e.status for e in proxy.log] == codes


def test_when_picks_requests_by_api_and_method(proxy, bucket):
    proxy.rule = any_of(when(status(501), api="tagging"), when(status(405), api="versions"),
                        when(api="uploads", method="POST", fault=status(503)))
    client = proxy.server.client()
    assert error_of(client.put_bucket_tagging, Bucket=bucket,
                    Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}) == (501, "NotImplemented")
    assert error_of(client.list_object_versions, Bucket=bucket) == (405, "MethodNotAllowed")
    assert error_of(client.create_multipart_upload, Bucket=bucket, Key="m.bin") == (503, "ServiceUnavailable")
    client.put_object(Bucket=bucket, Key="plain.txt", Body=b"ok")
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["plain.txt"]


def test_only_user_agent_faults_one_client(proxy, bucket, moto):
    proxy.rule = only_user_agent("minio", status(501))
    minio = Minio(f"127.0.0.1:{proxy.port}", access_key=moto.access_key, secret_key=moto.secret_key, secure=False,
                  region="us-east-1")
    with pytest.raises(S3Error) as caught:
        list(minio.list_objects(bucket))
    assert caught.value.code == "NotImplemented"
    proxy.server.client().list_objects_v2(Bucket=bucket)
    proxy.rule = only_user_agent("Boto3", status(501))
    assert error_of(proxy.server.client().list_objects_v2, Bucket=bucket) == (501, "NotImplemented")
    assert list(minio.list_objects(bucket)) == []
    assert [e.status for e in proxy.log] == [501, 200, 501, 200]


def test_unreachable_server_is_502(moto):
    with FaultProxy("http://127.0.0.1:9") as proxy:
        proxy.server = replace(moto, url=proxy.url)
        assert error_of(proxy.server.client().list_buckets) == (502, "BadGateway")
    assert [(e.status, e.fault.s3_code) for e in proxy.log] == [(502, "BadGateway")]  # ответил сам прокси


def test_rule_errors_are_reported_not_swallowed(proxy, bucket):
    proxy.rule = lambda request: 1 / 0
    assert error_of(proxy.server.client().list_objects_v2, Bucket=bucket) == (502, "FaultProxyError")
    assert [type(e) for e in proxy.errors] == [ZeroDivisionError]


# ── медленно, никогда, оборвано ─────────────────────────────────────────────────────────────────────


def test_drip_sends_status_line_then_one_byte_per_interval(proxy, bucket):
    proxy.server.client().put_object(Bucket=bucket, Key="small.txt", Body=b"hello")
    started = time.monotonic()  # базовый прогон: тот же ответ целиком, без неисправности
    healthy = raw_request(proxy, "GET", f"/{bucket}/small.txt")
    while healthy.recv(4096):
        pass
    healthy.close()
    baseline = time.monotonic() - started
    interval = 0.005
    proxy.rule = every(drip(interval))
    started = time.monotonic()
    sock, received = raw_request(proxy, "GET", f"/{bucket}/small.txt"), b""
    while b"\r\n" not in received:
        received += sock.recv(4096)
    status_after = time.monotonic() - started
    reads = 0
    while data := sock.recv(4096):  # по байту; нагруженный читатель может получить два сразу
        received += data
        reads += 1
    total = time.monotonic() - started
    sock.close()
    status_line, rest = received.split(b"\r\n", 1)
    assert status_line == b"HTTP/1.1 200 OK" and received.endswith(b"\r\n\r\nhello")
    # Строка статуса — так же быстро, как весь ответ без неисправности, и задолго до конца капели.
    assert status_after < baseline + (total - status_after) / 4, (status_after, baseline, total)
    assert total > (len(rest) - 1) * interval > 1  # заголовки и тело — сотни байт, по interval на каждый
    assert reads > len(rest) / 4  # не одним куском: байты шли порознь


def test_slow_answers_late_but_the_server_did_the_work(proxy, bucket):
    proxy.rule = when(slow(1.0), method="PUT")
    impatient = proxy.server.client(read_timeout=0.3)
    with pytest.raises(ReadTimeoutError):
        impatient.put_object(Bucket=bucket, Key="late.txt", Body=b"x")
    assert impatient.head_object(Bucket=bucket, Key="late.txt")["ContentLength"] == 1
    proxy.rule = every(slow(0.4))
    started = time.monotonic()
    proxy.server.client().head_bucket(Bucket=bucket)
    assert time.monotonic() - started >= 0.4


def test_hang_never_answers_and_close_stops_everything(moto, bucket):
    idle = FaultProxy.for_server(moto)  # базовый прогон: закрыть прокси, у которого никто не висит
    started = time.monotonic()
    idle.close()
    baseline = time.monotonic() - started
    proxy = FaultProxy.for_server(moto, rule=every(hang()))
    with pytest.raises(ReadTimeoutError):
        proxy.server.client(read_timeout=0.5).head_bucket(Bucket=bucket)
    interval = 5.0
    proxy.rule = any_of(when(drip(interval), method="GET"), every(hang()))
    dripping = raw_request(proxy, "GET", f"/{bucket}")
    assert dripping.recv(100) == b"HTTP/1.1 200 OK\r\n"  # строка статуса пришла, дальше — байт раз в 5 с
    hung = raw_request(proxy, "HEAD", f"/{bucket}")
    time.sleep(0.2)
    assert len(proxy_threads(proxy)) == 3
    started = time.monotonic()
    proxy.close()
    # Не ждёт ни зависшего, ни капающего: дождаться хоть одного байта капели стоило бы interval.
    assert time.monotonic() - started < baseline + interval / 2, baseline
    assert proxy_threads(proxy) == []
    assert dripping.recv(100) == b"" and hung.recv(100) == b""  # клиенты видят закрытие
    dripping.close()
    hung.close()
    assert [(e.method, e.status, e.fault) for e in proxy.log] == [
        ("HEAD", None, hang()), ("GET", 200, drip(5.0)), ("HEAD", None, hang())]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1)


def test_cut_closes_without_answer(proxy, bucket):
    proxy.rule = when(cut(), method="PUT")
    client = proxy.server.client()
    with pytest.raises(ConnectionClosedError):
        client.put_object(Bucket=bucket, Key="never.txt", Body=b"data")
    assert error_of(client.head_object, Bucket=bucket, Key="never.txt") == (404, "404")  # до сервера не дошло
    assert proxy.log[0] == Exchange("PUT", f"/{bucket}/never.txt", "", None, cut())


def test_cut_after_n_bytes_breaks_the_download(proxy, bucket):
    client = proxy.server.client()
    client.put_object(Bucket=bucket, Key="one-mib.bin", Body=os.urandom(MiB))
    proxy.rule = when(cut(after=64 * 1024), method="GET")
    body = client.get_object(Bucket=bucket, Key="one-mib.bin")["Body"]
    with pytest.raises(ResponseStreamingError):
        body.read()
    assert 64 * 1024 < proxy.downstream < MiB


def test_garbage_answers_with_bytes_that_are_not_http(proxy, bucket):
    proxy.rule = when(garbage(b"SSH-2.0-OpenSSH_9.6\r\n"), method="GET")
    sock = raw_request(proxy, "GET", f"/{bucket}?list-type=2")
    received = b""
    while data := sock.recv(1024):
        received += data
    sock.close()
    assert received == b"SSH-2.0-OpenSSH_9.6\r\n"  # и соединение закрыто
    assert proxy.log == [Exchange("GET", f"/{bucket}", "list-type=2", None, garbage(b"SSH-2.0-OpenSSH_9.6\r\n"))]
    assert proxy.upstream_connections == 0


# ── Range ───────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("key", ["plain.bin", "папка/файл с пробелом+плюс.bin"])
def test_no_range_returns_the_whole_object(proxy, bucket, key):
    client = proxy.server.client()
    data = os.urandom(1000)
    client.put_object(Bucket=bucket, Key=key, Body=data)
    ranged = client.get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206 and ranged["Body"].read() == data[10:20]
    proxy.rule = every(no_range())  # boto3 подписывает Range — прокси переподписывает запрос без него
    whole = client.get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and whole["Body"].read() == data


def test_no_range_without_keys(moto, bucket):
    data = os.urandom(1000)
    moto.client().put_object(Bucket=bucket, Key="r.bin", Body=data)
    with FaultProxy(moto.url, rule=every(no_range())) as proxy:
        proxy.server = replace(moto, url=proxy.url)  # только чтобы подписать запрос ниже; у прокси ключа нет
        through = proxy.server.client()
        # Range вне подписи (так подписывает DuckDB) убирается без переподписи.
        headers = {**signed(proxy, "GET", f"/{bucket}/r.bin"), "Range": "bytes=0-9"}
        request = urllib.request.Request(f"{proxy.url}/{bucket}/r.bin", headers=headers)
        with urllib.request.urlopen(request, timeout=5) as got:
            assert got.status == 200 and got.read() == data
        # Подписанный Range без секретного ключа не переподписать — прокси говорит об этом прямо.
        assert error_of(through.get_object, Bucket=bucket, Key="r.bin", Range="bytes=0-9") == (502, "FaultProxyError")


# ── Ceph по TLS ─────────────────────────────────────────────────────────────────────────────────────


def test_forwards_to_ceph_over_tls(ceph):
    upstream = ceph.server(tls=True, user="faultproxy")
    with FaultProxy.for_server(upstream) as proxy:
        assert proxy.url.startswith("http://")
        client = proxy.server.client()
        bucket = unique_bucket("faults")
        client.create_bucket(Bucket=bucket)
        data = os.urandom(5 * MiB)
        client.put_object(Bucket=bucket, Key="data.bin", Body=io.BytesIO(data))
        assert client.get_object(Bucket=bucket, Key="data.bin")["Body"].read() == data
        proxy.rule = when(no_range(), method="GET")
        whole = client.get_object(Bucket=bucket, Key="data.bin", Range="bytes=0-9")
        assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and whole["Body"].read() == data
        proxy.rule = first(1, status(503))
        assert error_of(client.head_bucket, Bucket=bucket) == (503, "503")
        client.delete_object(Bucket=bucket, Key="data.bin")
        client.delete_bucket(Bucket=bucket)
    assert proxy.connections == 1 and proxy.upstream_connections == 1  # keep-alive с обеих сторон


# ── устойчивость ────────────────────────────────────────────────────────────────────────────────────


def test_client_disconnects_are_quiet(proxy, bucket, capfd):
    def send(data: bytes):
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(data)
    send(b"GET / HTTP/1.1\r\nHost: x")  # оборвал заголовки
    send(f"PUT /{bucket}/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc".encode())  # оборвал тело
    send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")  # TLS вместо HTTP
    send(f"PUT /{bucket}/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode())
    proxy.rule = every(drip(0.01))
    with raw_request(proxy, "GET", f"/{bucket}") as sock:
        sock.recv(10)  # ушёл посреди drip
    time.sleep(0.3)
    proxy.rule = None
    proxy.server.client().head_bucket(Bucket=bucket)  # прокси жив
    proxy.close()
    assert proxy.errors == [] and proxy_threads(proxy) == []
    assert capfd.readouterr().err == ""
