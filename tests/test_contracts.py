"""Контракты с библиотеками: каждое недокументированное место, на которое опирается код лекции,
проверено здесь отдельным тестом с понятным именем. Новая версия библиотеки, которая его сломает,
упадёт здесь, а не перед аудиторией.

Где что используется:
- failures.classify: InvalidResponseError._code (minio), S3Error.code/.response.status,
  duckdb.HTTPException.status_code/.body, urllib3 .reason и aiohttp .os_error в цепочке причин;
- wire.observe_botocore: аргументы событий request-created и response-received (botocore и aiobotocore),
  register(..., unique_id=...);
- wire.minio_pool и common.minio_client: Minio(http_client=...) и PoolManager.urlopen(method, url, redirect, **kw)
  с body, headers, preload_content; у ответа .status, .headers, .data;
- duckdb_log.flush и duckdb_log.observe: enable_logging('HTTP'), схема duckdb_logs_parsed('HTTP'), статусы «OK_200»,
  current_setting('http_timeout') в секундах;
- common.duckdb_connect: httpfs.duckdb_extension внутри duckdb_extension_httpfs.__path__ (rglob);
- common.storage_options: класс-атрибут S3FileSystem.retries, который читает цикл повторов s3fs,
  и AioSession.register('before-send.s3', …): правка заголовков доходит до сервера, None пропускает запрос.

Настоящие библиотеки и настоящие серверы: moto из conftest, а где нужен ответ, которого moto не даст
(HTML 503, SlowDown), — крошечный HTTP-сервер этого файла на 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import duckdb
import duckdb_extension_httpfs
import pytest
import s3fs
import urllib3
from aiobotocore.session import AioSession
from botocore.config import Config
from ceph_cluster import free_port
from conftest import unique_bucket
from minio import Minio
from minio.error import InvalidResponseError, S3Error

# Те же настройки, что у common._botocore_config, без повторов: каждый запрос виден один раз.
BOTOCORE = dict(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
WIRE_COLUMNS = """SELECT request.type, request.url, response.status, response.headers,
                         request.request_body_length, request.headers['Range'] IS NOT NULL,
                         request.duration_ms >= 900 * current_setting('http_timeout')::BIGINT
                  FROM duckdb_logs_parsed('HTTP') ORDER BY timestamp"""


# ── Крошечный сервер с заданным ответом ─────────────────────────────────────────────────────────

class Canned:
    """HTTP-сервер на 127.0.0.1: на любой запрос — один и тот же ответ; запоминает запросы."""

    def __init__(self, status: int, content_type: str = "application/xml", body: bytes = b""):
        self.status, self.content_type, self.body = status, content_type, body
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                canned.requests.append((self.command, self.path, dict(self.headers)))
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(canned.body)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Canned:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()


def slow_down() -> bytes:
    return (b"<?xml version='1.0'?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")


@pytest.fixture
def moto(moto_servers):
    """Первый moto из conftest и свежий бакет на нём."""
    server = moto_servers[0]
    bucket = unique_bucket("contract")
    server.client().create_bucket(Bucket=bucket)
    return server, bucket


def closed_port() -> int:
    return free_port()  # свободный порт: на нём никто не слушает — отказ в соединении


# ── minio ───────────────────────────────────────────────────────────────────────────────────────

def test_minio_invalid_response_error_keeps_the_status_in__code():
    """failures.classify: у ответа не-XML (HTML-страница 503) статус есть только в InvalidResponseError._code."""
    with Canned(503, "text/html", b"<html>busy</html>") as server:
        client = Minio(server.url.split("//")[1], access_key="a", secret_key="b", secure=False, region="us-east-1",
                       http_client=urllib3.PoolManager(retries=False))
        with pytest.raises(InvalidResponseError) as caught:
            client.list_buckets()
    assert caught.value._code == 503


def test_minio_s3_error_has_code_and_response_status(moto):
    """failures._answer: S3Error.code и S3Error.response.status."""
    server, bucket = moto
    client = Minio(server.url.split("//")[1], access_key=server.access_key, secret_key=server.secret_key,
                   secure=False, region="us-east-1")
    with pytest.raises(S3Error) as caught:
        client.stat_object(bucket, "absent.txt")
    assert caught.value.code == "NoSuchKey"
    assert caught.value.response.status == 404


def test_urllib3_pool_manager_urlopen_signature():
    """wire.minio_pool переопределяет urlopen(self, method, url, redirect=True, **kw)."""
    parameters = inspect.signature(urllib3.PoolManager.urlopen).parameters
    assert list(parameters) == ["self", "method", "url", "redirect", "kw"]
    assert parameters["redirect"].default is True
    assert parameters["kw"].kind is inspect.Parameter.VAR_KEYWORD


def test_minio_sends_every_request_through_the_given_http_client(moto):
    """common.minio_client: Minio(http_client=PoolManager) — и каждый запрос идёт через его urlopen
    с body, headers и preload_content; у ответа есть .status, .headers, .data (их читает wire)."""
    server, bucket = moto
    calls = []

    class Recording(urllib3.PoolManager):
        def urlopen(self, method, url, redirect=True, **kw):
            response = super().urlopen(method, url, redirect=redirect, **kw)
            calls.append((method, url, set(kw), response.status, dict(response.headers)))
            return response

    assert "http_client" in inspect.signature(Minio).parameters
    client = Minio(server.url.split("//")[1], access_key=server.access_key, secret_key=server.secret_key,
                   secure=False, region="us-east-1", http_client=Recording())
    client.put_object(bucket, "contract.txt", io.BytesIO(b"hello"), 5)
    assert client.get_object(bucket, "contract.txt").data == b"hello"
    assert [call[0] for call in calls] == ["PUT", "GET"]
    for method, url, keywords, status, headers in calls:
        assert url.startswith(f"{server.url}/{bucket}/contract.txt"), url
        assert {"body", "headers", "preload_content"} <= keywords, keywords
        assert status == 200 and headers, (method, headers)


# ── DuckDB и httpfs ─────────────────────────────────────────────────────────────────────────────

def httpfs_extensions() -> list[Path]:
    return list(Path(duckdb_extension_httpfs.__path__[0]).rglob("httpfs.duckdb_extension"))


def duckdb_on(server) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.load_extension(str(httpfs_extensions()[0]))
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{server.access_key}', SECRET '{server.secret_key}', "
                f"REGION 'us-east-1', ENDPOINT '{server.url.split('//')[1]}', USE_SSL false, URL_STYLE 'path')")
    con.execute("SET http_retries = 0")
    return con


def test_httpfs_wheel_holds_one_loadable_extension_under_its_path():
    """common.duckdb_connect: httpfs.duckdb_extension лежит внутри duckdb_extension_httpfs.__path__ (rglob)."""
    found = httpfs_extensions()
    assert len(found) == 1, found
    con = duckdb.connect()
    con.load_extension(str(found[0]))
    loaded = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchall()
    assert loaded == [(True,)]


def test_duckdb_http_log_has_the_columns_wire_reads(moto):
    """duckdb_log.flush: схема duckdb_logs_parsed('HTTP') — запрос (type, url, headers, request_body_length,
    duration_ms), ответ (status, headers) и timestamp; запрос duckdb_log.flush выполняется как есть."""
    server, bucket = moto
    con = duckdb_on(server)
    con.execute("CALL enable_logging('HTTP')")
    con.execute(f"COPY (SELECT 1 AS a) TO 's3://{bucket}/contract.csv'")
    con.execute(f"SELECT * FROM 's3://{bucket}/contract.csv'").fetchall()
    columns = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                               "duckdb_logs_parsed('HTTP'))").fetchall())
    assert columns["timestamp"].startswith("TIMESTAMP")
    for field in ('"type" VARCHAR', "url VARCHAR", "duration_ms BIGINT", "request_body_length UBIGINT",
                  "headers MAP(VARCHAR, VARCHAR)"):
        assert field in columns["request"], columns["request"]
    for field in ("status VARCHAR", "headers MAP(VARCHAR, VARCHAR)"):
        assert field in columns["response"], columns["response"]
    rows = con.execute(WIRE_COLUMNS).fetchall()
    methods = [row[0] for row in rows]
    assert "PUT" in methods and "GET" in methods, methods
    put = next(row for row in rows if row[0] == "PUT")
    assert put[1] == f"{server.url}/{bucket}/contract.csv"
    assert put[4] and put[4] > 0  # request_body_length
    assert isinstance(put[3], dict) and put[3], put  # response.headers — MAP, в Python — dict


def test_duckdb_http_status_is_name_underscore_code(moto):
    """duckdb_log.flush: response.status — «OK_200», «NotFound_404»: код — после последнего «_»."""
    server, bucket = moto
    con = duckdb_on(server)
    con.execute("CALL enable_logging('HTTP')")
    con.execute(f"COPY (SELECT 1 AS a) TO 's3://{bucket}/contract.csv'")
    con.execute(f"SELECT * FROM 's3://{bucket}/contract.csv'").fetchall()
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT * FROM 's3://{bucket}/absent.csv'").fetchall()
    statuses = {status for (status,) in con.execute("SELECT response.status FROM duckdb_logs_parsed('HTTP')")
                .fetchall()}
    assert {"OK_200", "NotFound_404"} <= statuses, statuses


def test_duckdb_http_status_without_an_answer_has_no_code():
    """duckdb_log.flush: запрос без ответа (отказ в соединении) — статус без числа в конце («нет ответа»)."""
    con = duckdb.connect()
    con.load_extension(str(httpfs_extensions()[0]))
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b', REGION 'us-east-1', "
                f"ENDPOINT '127.0.0.1:{closed_port()}', USE_SSL false, URL_STYLE 'path')")
    con.execute("SET http_retries = 0")
    con.execute("CALL enable_logging('HTTP')")
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM 's3://nowhere/x.csv'").fetchall()
    statuses = [status for (status,) in con.execute("SELECT response.status FROM duckdb_logs_parsed('HTTP')")
                .fetchall()]
    assert statuses, "DuckDB не записал запрос без ответа"
    assert all(not str(status).rsplit("_", 1)[-1].isdigit() for status in statuses), statuses


def test_duckdb_http_timeout_setting_is_in_seconds():
    """duckdb_log.flush сравнивает duration_ms с 900 * current_setting('http_timeout'): настройка — в секундах."""
    con = duckdb.connect()
    con.load_extension(str(httpfs_extensions()[0]))
    con.execute("SET http_timeout = 7")
    assert con.execute("SELECT current_setting('http_timeout')::BIGINT").fetchone() == (7,)


def test_duckdb_http_exception_carries_status_code_and_body(moto):
    """failures._answer: duckdb.HTTPException.status_code и .body (XML ошибки S3)."""
    server, _ = moto
    con = duckdb_on(server)
    with pytest.raises(duckdb.HTTPException) as caught:
        con.execute("COPY (SELECT 1 AS a) TO 's3://contract-no-such-bucket/x.csv'")
    assert caught.value.status_code == 404
    assert "<Code>NoSuchBucket</Code>" in caught.value.body


# ── s3fs и aiobotocore ──────────────────────────────────────────────────────────────────────────

def s3fs_options(url: str, **extra) -> dict:
    return {"key": "a", "secret": "b", "endpoint_url": url, "client_kwargs": {"region_name": "us-east-1"},
            "config_kwargs": BOTOCORE, "skip_instance_cache": True, **extra}


def test_s3fs_retries_is_a_class_attribute_read_by_its_retry_loop():
    """common.storage_options ставит S3FileSystem.retries = 1: параметра нет, цикл повторов s3fs
    читает атрибут класса. Здесь — подкласс, чтобы не менять s3fs для других тестов."""
    assert isinstance(s3fs.S3FileSystem.__dict__.get("retries"), int)
    counts = {}
    for retries in (1, 2):
        class Limited(s3fs.S3FileSystem):
            pass
        Limited.retries = retries
        with Canned(503, body=slow_down()) as server:  # SlowDown — ошибка, которую s3fs повторяет сам
            with pytest.raises(OSError):
                Limited(**s3fs_options(server.url)).pipe_file("bucket/key", b"x")
            counts[retries] = len(server.requests)
    assert counts == {1: 1, 2: 2}, counts


def recording_handlers(calls: list):
    def created(**kwargs):
        request = kwargs["request"]
        request.context["contract"] = request
        calls.append(("request-created", kwargs))

    def received(**kwargs):
        calls.append(("response-received", kwargs))

    return created, received


def check_event_arguments(calls: list, failed: bool = False) -> None:
    """Аргументы, которые читает wire.observe_botocore."""
    created = [kwargs for name, kwargs in calls if name == "request-created"]
    received = [kwargs for name, kwargs in calls if name == "response-received"]
    assert created and received, calls
    request = created[0]["request"]
    for attribute in ("context", "headers", "method", "url", "body"):
        assert hasattr(request, attribute), attribute
    assert request.method in ("GET", "PUT", "HEAD") and request.url.startswith("http://127.0.0.1:")
    assert "Content-Length" in request.headers or request.body is not None or request.method != "PUT"
    answer = received[0]
    assert {"context", "response_dict", "parsed_response", "exception"} <= set(answer), set(answer)
    assert answer["context"].get("contract") is request  # context — тот же, что у request-created
    if failed:
        assert answer["response_dict"] is None and answer["exception"] is not None
    else:
        assert answer["exception"] is None
        assert isinstance(answer["response_dict"]["status_code"], int)
        assert answer["response_dict"]["headers"]
        assert isinstance(answer["parsed_response"], dict)


def test_botocore_events_pass_the_arguments_wire_reads(moto):
    """wire.observe_botocore для boto3: request-created.s3 (request с .context, .headers, .method, .url,
    .body) и response-received.s3 (context, response_dict со status_code и headers, parsed_response,
    exception); register с unique_id второй раз не добавляет обработчик."""
    server, bucket = moto
    client = server.client()
    calls = []
    created, received = recording_handlers(calls)
    for _ in range(2):
        client.meta.events.register("request-created.s3", created, unique_id="contract-request")
        client.meta.events.register("response-received.s3", received, unique_id="contract-response")
    client.put_object(Bucket=bucket, Key="contract.txt", Body=b"hello")
    assert [name for name, _ in calls] == ["request-created", "response-received"]
    check_event_arguments(calls)
    assert calls[0][1]["request"].method == "PUT"
    assert calls[1][1]["response_dict"]["status_code"] == 200


def test_botocore_response_received_without_an_answer_has_the_exception():
    """wire.observe_botocore: нет ответа — response_dict None, а exception — то, что случилось."""
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{closed_port()}", region_name="us-east-1",
                          aws_access_key_id="a", aws_secret_access_key="b", config=Config(**BOTOCORE))
    calls = []
    created, received = recording_handlers(calls)
    client.meta.events.register("request-created.s3", created)
    client.meta.events.register("response-received.s3", received)
    with pytest.raises(Exception):  # noqa: B017 — тип ошибки здесь не контракт
        client.list_objects_v2(Bucket="nowhere")
    check_event_arguments(calls, failed=True)


def test_aiobotocore_session_events_pass_the_same_arguments(moto):
    """wire.observe_botocore для s3fs: те же события и аргументы через AioSession.register."""
    server, bucket = moto
    session = AioSession()
    calls = []
    created, received = recording_handlers(calls)
    for _ in range(2):
        session.register("request-created.s3", created, unique_id="contract-request")
        session.register("response-received.s3", received, unique_id="contract-response")
    fs = s3fs.S3FileSystem(**s3fs_options(server.url, key=server.access_key, secret=server.secret_key,
                                          session=session))
    fs.pipe_file(f"{bucket}/contract.txt", b"hello")
    assert fs.cat_file(f"{bucket}/contract.txt") == b"hello"
    names = [name for name, _ in calls]
    assert names == ["request-created", "response-received"] * (len(names) // 2) and names, names
    check_event_arguments(calls)


def test_aiobotocore_before_send_edits_reach_the_server_and_none_lets_the_request_go():
    """common._drop_expect_header: обработчик before-send.s3 получает request перед отправкой; что он убрал
    или добавил в заголовках, доходит до сервера; вернув None, он не подменяет ответ — запрос уходит."""
    seen = []

    def before_send(request, **_):
        seen.append(request.method)
        request.headers["X-Contract"] = "edited"
        request.headers.pop("Expect", None)

    session = AioSession()
    session.register("before-send.s3", before_send)
    with Canned(200) as server:
        fs = s3fs.S3FileSystem(**s3fs_options(server.url, session=session))
        fs.pipe_file("bucket/contract.txt", b"hello")
    assert seen == ["PUT"]
    [(method, path, headers)] = server.requests
    assert method == "PUT" and path == "/bucket/contract.txt"
    assert headers.get("X-Contract") == "edited"
    assert "Expect" not in headers


def test_exception_chains_keep_their_causes_where_failures_looks():
    """failures._chain: urllib3 кладёт причину в .reason, aiohttp — в .os_error (настоящий отказ в соединении)."""
    import aiohttp

    pool = urllib3.PoolManager(retries=urllib3.Retry(total=0))
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        pool.request("GET", f"http://127.0.0.1:{closed_port()}/")
    assert isinstance(caught.value.reason, urllib3.exceptions.NewConnectionError)

    async def connect():
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{closed_port()}/")

    with pytest.raises(aiohttp.ClientConnectorError) as refused:
        asyncio.run(connect())
    assert isinstance(refused.value.os_error, ConnectionRefusedError)
