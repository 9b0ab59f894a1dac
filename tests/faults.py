"""Неисправные серверы для тестов: молчащий сокет, TCP-прокси, который тормозит или рвёт соединения,
и HTTP-прокси FaultProxy, который портит отдельные запросы к S3 по правилу теста.

Всё слушает только 127.0.0.1 и живёт, пока жив тест.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import itertools
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.utils import formatdate
from html import escape
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit


class _Listener:
    """Слушает случайный порт на 127.0.0.1 и отдаёт каждое принятое соединение в on_connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.on_connection(conn)

    def on_connection(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # будит accept(), одного close() Linux не замечает
        except OSError:
            pass
        self.sock.close()


class HungServer(_Listener):
    """Принимает соединения и никогда не отвечает — как зависший провайдер."""

    def __init__(self):
        self.held: list[socket.socket] = []
        super().__init__()

    def on_connection(self, conn):
        self.held.append(conn)

    def close(self):
        super().close()
        for conn in self.held:
            conn.close()


class Proxy(_Listener):
    """TCP-прокси к серверу: rate — байт в секунду от клиента к серверу, cut_after — разорвать
    соединение после стольких байт от клиента (None — не рвать); считает байты от сервера."""

    def __init__(self, target_port: int, rate: float | None = None, cut_after: int | None = None):
        self.target_port, self.rate, self.cut_after = target_port, rate, cut_after
        self.downstream = 0  # байт от сервера к клиенту
        super().__init__()

    def on_connection(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
        threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, upstream: bool):
        sent = 0
        try:
            while data := source.recv(64 * 1024):
                if upstream and self.cut_after is not None and sent + len(data) > self.cut_after:
                    break
                target.sendall(data)
                sent += len(data)
                if not upstream:
                    self.downstream += len(data)
                if upstream and self.rate:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()


# ── FaultProxy: HTTP-прокси к S3, портящий запросы по правилу ─────────────────────────────────────────

CHUNK = 256 * 1024
MAX_HEAD = 64 * 1024


class Fault:
    """Неисправность, которую правило назначает запросу."""


@dataclass(frozen=True)
class Status(Fault):
    """Ответить кодом code, не обращаясь к серверу; тело — ошибка S3 в XML, HTML-страница, пусто
    или ровно байты body (body_kind="raw")."""
    code: int
    s3_code: str | None = None
    body_kind: str = "xml"
    message: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Drip(Fault):
    """Переслать; строку статуса отдать сразу, остальное (заголовки и тело) — по байту раз в interval секунд."""
    interval: float = 2.0


@dataclass(frozen=True)
class Slow(Fault):
    """Переслать (сервер выполнит запрос), но ответ отдать через delay секунд."""
    delay: float


@dataclass(frozen=True)
class Hang(Fault):
    """Принять запрос и никогда не ответить."""


@dataclass(frozen=True)
class Cut(Fault):
    """after=None — прочитать запрос и закрыть соединение без ответа;
    after=N — переслать и оборвать ответ после N байт (считая заголовки)."""
    after: int | None = None


@dataclass(frozen=True)
class Garbage(Fault):
    """Прочитать запрос, ответить байтами data вместо HTTP и закрыть соединение — как порт, где не HTTP
    (SSH, база данных): garbage(b"SSH-2.0-OpenSSH_9.6\\r\\n")."""
    data: bytes


@dataclass(frozen=True)
class NoRange(Fault):
    """Переслать без заголовка Range — как сервер без поддержки Range (200 и всё тело)."""


@dataclass(frozen=True)
class Rewrite(Fault):
    """Переслать, но тело ответа заменить на change(тело) (Content-Length — по новому телу)
    и добавить заголовки headers; у ответа без тела (HEAD, 204, 304) менять нечего."""
    change: Callable[[bytes], bytes]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OkWithoutEffect(Fault):
    """Ответить 200 с пустым телом, ничего не пересылая: «принял», но не сделал."""


_S3_CODES = {400: "InvalidRequest", 403: "AccessDenied", 404: "NoSuchKey", 500: "InternalError",
             503: "ServiceUnavailable"}


def status(code: int, s3_code: str | None = None, body_kind: str = "xml", message: str | None = None,
           headers: dict[str, str] | None = None) -> Status:
    """Ответ прокси вместо сервера: status(503), status(503, "SlowDown"), status(200, body_kind="html")."""
    if body_kind not in ("xml", "html", "empty"):
        raise ValueError(f"body_kind: xml, html или empty, а не {body_kind!r}")
    return Status(code, s3_code, body_kind, message, tuple((headers or {}).items()))


def reply(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Status:
    """Ответ прокси ровно такой: статус, заголовки и байты тела как есть (Content-Type — только из headers):
    reply(307, headers={"Location": "http://127.0.0.1:9000/"}), reply(200, b"<html>…</html>")."""
    return Status(code, None, "raw", None, tuple((headers or {}).items()), bytes(body))


def rewrite(change: Callable[[bytes], bytes], headers: dict[str, str] | None = None) -> Rewrite:
    """Ответ сервера с другим телом: rewrite(lambda body: body.upper())."""
    return Rewrite(change, tuple((headers or {}).items()))


def truncated(size: int) -> Rewrite:
    """Ответ сервера, от тела которого осталось size байт — честно, с Content-Length по ним (0 — пустое)."""
    return rewrite(lambda body: body[:size])


def gzipped() -> Rewrite:
    """Ответ сервера, сжатый gzip с Content-Encoding: gzip — S3 так не отвечает, некоторые прокси — да."""
    return rewrite(lambda body: gzip.compress(body, mtime=0), headers={"Content-Encoding": "gzip"})


def drip(interval: float = 2.0) -> Drip:
    return Drip(interval)


def slow(delay: float) -> Slow:
    return Slow(delay)


def hang() -> Hang:
    return Hang()


def cut(after: int | None = None) -> Cut:
    return Cut(after)


def garbage(data: bytes) -> Garbage:
    return Garbage(bytes(data))


def no_range() -> NoRange:
    return NoRange()


def ok_without_effect() -> OkWithoutEffect:
    return OkWithoutEffect()


@dataclass
class Request:
    """Запрос, как его видит правило. headers — имена в нижнем регистре; query — разобранная строка запроса."""
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    @property
    def bucket(self) -> str | None:
        """Бакет при адресации по пути (/bucket/key)."""
        return unquote(self.path).lstrip("/").split("/", 1)[0] or None

    @property
    def key(self) -> str | None:
        parts = unquote(self.path).lstrip("/").split("/", 1)
        return parts[1] if len(parts) == 2 and parts[1] else None


Rule = Callable[[Request], Fault | None]


class Exchange(NamedTuple):
    """Запись журнала: status — что получил клиент (None — ответа не было); fault — назначенная неисправность."""
    method: str
    path: str
    query: str
    status: int | None
    fault: Fault | None


def _as_rule(what: Fault | Rule) -> Rule:
    if isinstance(what, Fault):
        return lambda request: what
    if callable(what):
        return what
    raise TypeError(f"нужна неисправность или правило, а не {what!r}")


def every(fault: Fault) -> Rule:
    """Каждый запрос: every(status(503))."""
    return _as_rule(fault)


def when(fault: Fault | Rule | None = None, *, method: str | tuple[str, ...] | None = None, api: str | None = None,
         bucket: str | None = None, key: str | None = None, user_agent: str | None = None) -> Rule:
    """Только подходящие запросы (все условия сразу): when(status(501), api="versioning", method="PUT").
    api — подресурс S3 в строке запроса (versioning, tagging, versions, uploads, uploadId, delete, acl, …);
    user_agent — подстрока без учёта регистра."""
    if fault is None:
        raise TypeError("when(): не задана неисправность")
    inner, methods = _as_rule(fault), (method,) if isinstance(method, str) else method

    def rule(request: Request) -> Fault | None:
        if methods is not None and request.method.upper() not in {m.upper() for m in methods}:
            return None
        if api is not None and api not in request.query:
            return None
        if bucket is not None and request.bucket != bucket:
            return None
        if key is not None and request.key != key:
            return None
        if user_agent is not None and user_agent.lower() not in request.user_agent.lower():
            return None
        return inner(request)
    return rule


def only_user_agent(substring: str, fault: Fault | Rule) -> Rule:
    """Только один клиент: "Boto3", "aiobotocore", "MinIO", "duckdb"."""
    return when(fault, user_agent=substring)


def first(n: int, fault: Fault | Rule) -> Rule:
    """Первые n подходящих запросов — неисправность, дальше пересылать: first(3, status(503, "SlowDown"))."""
    inner, lock, left = _as_rule(fault), threading.Lock(), [n]

    def rule(request: Request) -> Fault | None:
        with lock:
            if left[0] <= 0:
                return None
            chosen = inner(request)
            if chosen is not None:
                left[0] -= 1
            return chosen
    return rule


def any_of(*rules: Fault | Rule) -> Rule:
    """Первое правило, назначившее неисправность."""
    inner = [_as_rule(rule) for rule in rules]

    def rule(request: Request) -> Fault | None:
        return next((f for f in (r(request) for r in inner) if f is not None), None)
    return rule


class _Closed(Exception):
    """Соединение кончилось (клиент ушёл, сервер закрыл, прокси закрыт) — обработку молча прекратить."""


class _Reader:
    """Буферизованное чтение из сокета: строки заголовков и тело кусками."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buf = sock, bytearray()

    def readline(self) -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > MAX_HEAD:
                raise _Closed("слишком длинная строка")
            data = self.sock.recv(CHUNK)
            if not data:
                raise _Closed("соединение закрыто")
            self.buf += data
        line = bytes(self.buf[:end + 1])
        del self.buf[:end + 1]
        return line

    def read_some(self, limit: int) -> bytes:
        """До limit байт; b"" — соединение закрыто."""
        if not self.buf:
            return self.sock.recv(min(limit, CHUNK))
        data = bytes(self.buf[:limit])
        del self.buf[:limit]
        return data


@dataclass
class _Head:
    """Стартовая строка и заголовки ровно как пришли (строки с CRLF) — их и пересылаем."""
    start: bytes
    names: list[str]
    lines: list[bytes]

    def values(self, name: str) -> list[str]:
        return [line.partition(b":")[2].strip().decode("latin-1") for n, line in zip(self.names, self.lines,
                                                                                      strict=True) if n == name]

    def get(self, name: str) -> str | None:
        values = self.values(name)
        return ", ".join(values) if values else None

    def tokens(self, name: str) -> set[str]:
        return {t.strip().lower() for t in (self.get(name) or "").split(",")}

    def raw(self, lines: list[bytes] | None = None) -> bytes:
        return self.start + b"".join(self.lines if lines is None else lines) + b"\r\n"


def _read_head(reader: _Reader, allow_eof: bool = False) -> _Head | None:
    line = b""
    try:
        while not line.strip():  # пустые строки перед запросом допустимы
            line = reader.readline()
    except _Closed:
        if allow_eof:
            return None
        raise
    head, size = _Head(line, [], []), len(line)
    while (line := reader.readline()) not in (b"\r\n", b"\n"):
        size += len(line)
        name, sep, _ = line.partition(b":")
        if size > MAX_HEAD or not sep or not name or name != name.strip():
            raise _Closed("испорченные заголовки")
        head.names.append(name.decode("latin-1").lower())
        head.lines.append(line)
    return head


def _framing(head: _Head, response: bool) -> int | str:
    """Как найти конец тела: число байт, "chunked" или "close" (до закрытия соединения)."""
    if "chunked" in head.tokens("transfer-encoding"):
        return "chunked"
    length = head.get("content-length")
    if length is None:
        return "close" if response else 0
    try:
        return int(length.split(",")[0])
    except ValueError:
        raise _Closed("испорченный Content-Length") from None


def _exact(reader: _Reader, size: int) -> Iterator[bytes]:
    while size > 0:
        data = reader.read_some(min(size, CHUNK))
        if not data:
            raise _Closed("тело оборвалось")
        size -= len(data)
        yield data


def _body(reader: _Reader, framing: int | str) -> Iterator[bytes]:
    """Тело как есть, кусками (chunked — вместе с разметкой кусков), не держа его в памяти целиком."""
    if framing == "close":
        while data := reader.read_some(CHUNK):
            yield data
    elif framing == "chunked":
        while True:
            line = reader.readline()
            yield line
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _Closed("испорченный chunked") from None
            if size < 0:
                raise _Closed("испорченный chunked")
            if size == 0:
                while (line := reader.readline()) not in (b"\r\n", b"\n"):
                    yield line  # трейлеры
                yield line
                return
            yield from _exact(reader, size + 2)
    else:
        yield from _exact(reader, int(framing))


def _content(reader: _Reader, framing: int | str) -> bytes:
    """Тело без разметки chunked — целиком: его меняет Rewrite."""
    if framing != "chunked":
        return b"".join(_body(reader, framing))
    content = bytearray()
    while True:
        try:
            size = int(reader.readline().split(b";")[0].strip(), 16)
        except ValueError:
            raise _Closed("испорченный chunked") from None
        if size <= 0:
            break
        content += b"".join(_exact(reader, size))
        reader.readline()  # CRLF после куска
    while reader.readline() not in (b"\r\n", b"\n"):
        pass  # трейлеры
    return bytes(content)


def _sigv4_authorization(request: Request, head: _Head, secret: str, drop: set[str]) -> str:
    """Заголовок Authorization (SigV4) для запроса без заголовков drop — с тем же ключом и той же датой."""
    fields = dict(re.findall(r"(\w+)=([^,\s]+)", request.headers["authorization"]))
    credential = fields["Credential"]
    scope = credential.split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    signed = [name for name in fields["SignedHeaders"].split(";") if name not in drop]
    canonical_headers = "".join(f"{name}:{','.join(' '.join(v.split()) for v in head.values(name))}\n"
                                for name in signed)
    pairs = sorted((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
                   for k, _, v in (part.partition("=") for part in request.raw_query.split("&") if part))
    canonical = "\n".join([request.method, request.path, "&".join(f"{k}={v}" for k, v in pairs), canonical_headers,
                           ";".join(signed), head.get("x-amz-content-sha256") or hashlib.sha256(b"").hexdigest()])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", head.get("x-amz-date") or "", scope,
                                hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={';'.join(signed)}, Signature={signature}"


class _Out:
    """Отдаёт ответ клиенту: целиком, по байту (Drip) или до обрыва (Cut(after=N))."""

    def __init__(self, proxy: FaultProxy, sock: socket.socket, fault: Fault | None):
        self.proxy, self.sock = proxy, sock
        self.interval = fault.interval if isinstance(fault, Drip) else None
        self.left = fault.after if isinstance(fault, Cut) else None
        self.status_sent = False

    def write(self, data: bytes) -> None:
        cut_now = self.left is not None and len(data) >= self.left
        if self.left is not None:
            data, self.left = data[:self.left], self.left - min(len(data), self.left)
        if self.interval is None:
            self.proxy._send(self.sock, data)
        else:
            if not self.status_sent:
                end = data.find(b"\n") + 1
                self.proxy._send(self.sock, data[:end])
                data, self.status_sent = data[end:], True
            for i in range(len(data)):
                if self.proxy._stopped.wait(self.interval):
                    raise _Closed("прокси закрыт")
                self.proxy._send(self.sock, data[i:i + 1])
        if cut_now:
            raise _Closed("обрыв по Cut")


class _Upstream:
    """Соединение с сервером для одного клиентского соединения; keep-alive, пока сервер не против."""

    def __init__(self, proxy: FaultProxy):
        self.proxy, self.sock, self.reader = proxy, None, None

    def get(self) -> _Reader:
        if self.sock is not None and self._went_stale():
            self.drop()
        if self.sock is None:
            proxy = self.proxy
            sock = socket.create_connection((proxy.upstream_host, proxy.upstream_port), timeout=10)
            if proxy.tls is not None:
                sock = proxy.tls.wrap_socket(sock, server_hostname=proxy.upstream_host)
            sock.settimeout(None)
            proxy._track(sock)
            with proxy._lock:
                proxy.upstream_connections += 1
            self.sock, self.reader = sock, _Reader(sock)
        return self.reader

    def _went_stale(self) -> bool:
        """Простаивающее соединение, в котором что-то есть (обычно закрытие со стороны сервера), не годится."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        return bool(self.reader.buf) or bool(select.select([self.sock], [], [], 0)[0])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        with self.proxy._lock:
            self.proxy.upstream += len(data)

    def drop(self) -> None:
        if self.sock is not None:
            self.proxy._release(self.sock)
        self.sock = self.reader = None


class FaultProxy(_Listener):
    """HTTP/1.1-прокси на 127.0.0.1 к серверу S3 (http или https с CA из ca_bundle; клиенту — всегда http).

    Пересылает запросы как есть (метод, путь, все заголовки вместе с Host — подпись остаётся верной, тела по
    Content-Length и chunked, потоком), keep-alive с обеих сторон. rule(request) для каждого запроса возвращает
    None (переслать) или неисправность; rule можно менять на ходу, можно задать и саму неисправность.
    credentials {access_key: secret_key} нужны только no_range() для подписанного Range (boto3, minio):
    прокси переподписывает запрос. log — журнал Exchange; upstream/downstream — байты к серверу и к клиенту;
    connections/upstream_connections — сколько соединений открыли клиенты и прокси к серверу.

        with FaultProxy.for_server(moto, rule=first(3, status(503, "SlowDown"))) as proxy:
            proxy.server.client().head_bucket(Bucket=bucket)  # три раза 503, потом ответ сервера
    """

    def __init__(self, upstream_url: str, ca_bundle: str | None = None, rule: Rule | Fault | None = None,
                 credentials: dict[str, str] | None = None):
        parts = urlsplit(upstream_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"нужен адрес http(s)://host:port, а не {upstream_url!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = ssl.create_default_context(cafile=ca_bundle) if parts.scheme == "https" else None
        self.rule, self.credentials = rule, dict(credentials or {})
        self.server: Any = None  # S3Server через прокси, если создан for_server()
        self.log: list[Exchange] = []
        self.errors: list[BaseException] = []  # исключения из правил
        self.upstream = self.downstream = 0
        self.connections = self.upstream_connections = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._request_ids = itertools.count(1)
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"

    @classmethod
    def for_server(cls, server: Any, rule: Rule | Fault | None = None) -> FaultProxy:
        """Прокси к S3Server из conftest: его ключ — для переподписи, .server — тот же сервер по адресу прокси."""
        proxy = cls(server.url, server.ca_bundle, rule, credentials={server.access_key: server.secret_key})
        proxy.server = replace(server, url=proxy.url, ca_bundle=None)
        return proxy

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Остановить всё: слушатель, соединения, ожидание в hang/drip/slow; потоки успевают выйти."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        super().close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            _shutdown(sock)
        deadline = time.monotonic() + 2
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # ── соединения ──────────────────────────────────────────────────────────────────────────────────

    def on_connection(self, conn: socket.socket) -> None:
        with self._lock:
            if self._stopped.is_set():
                conn.close()
                return
            self._sockets.add(conn)
            self.connections += 1
            self._threads = [t for t in self._threads if t.is_alive()]
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                      name=f"FaultProxy-{self.port}-{self.connections}")
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self._stopped.is_set():
            _shutdown(sock)

    def _release(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        sock.close()

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        with self._lock:
            self.downstream += len(data)

    def _serve(self, client: socket.socket) -> None:
        reader, upstream = _Reader(client), _Upstream(self)
        try:
            while not self._stopped.is_set():
                head = _read_head(reader, allow_eof=True)
                if head is None or not self._exchange(head, reader, client, upstream):
                    break
        except (OSError, _Closed):
            pass  # клиент или сервер ушёл, прокси закрыт — для теста это не ошибка прокси
        except Exception:
            if not self._stopped.is_set():
                raise  # ошибка самого прокси — пусть её увидит pytest
        finally:
            upstream.drop()
            self._release(client)

    # ── один запрос ─────────────────────────────────────────────────────────────────────────────────

    def _exchange(self, head: _Head, reader: _Reader, client: socket.socket, upstream: _Upstream) -> bool:
        """Обработать запрос; True — соединение с клиентом можно использовать дальше."""
        parts = head.start.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _Closed("не HTTP/1.x")
        method, target, version = parts
        path, _, raw_query = target.partition("?")
        request = Request(method, path, raw_query, dict(parse_qsl(raw_query, keep_blank_values=True)),
                          {name: head.get(name) or "" for name in head.names})
        fault = self._decide(request)
        framing = _framing(head, response=False)
        keep = version == "HTTP/1.1" and "close" not in head.tokens("connection")
        if isinstance(fault, Hang):
            self._record(request, None, fault)
            self._stopped.wait()
            return False
        if "100-continue" in head.tokens("expect"):
            self._send(client, b"HTTP/1.1 100 Continue\r\n\r\n")  # промежуточные 100 сервера не пересылаем
        lines = head.lines
        if isinstance(fault, NoRange):
            lines, problem = self._without_range(request, head)
            if problem:
                fault = status(502, "FaultProxyError", message=problem)
        if isinstance(fault, (Cut, Garbage)) and getattr(fault, "after", None) is None:
            for _ in _body(reader, framing):
                pass
            self._record(request, None, fault)
            if isinstance(fault, Garbage):
                self._send(client, fault.data)
            return False
        if isinstance(fault, (Status, OkWithoutEffect)):
            for _ in _body(reader, framing):
                pass
            self._answer(client, request, fault)
            return keep
        return self._forward(request, head, lines, framing, fault, reader, client, upstream, keep)

    def _decide(self, request: Request) -> Fault | None:
        rule = self.rule
        try:
            fault = rule if rule is None or isinstance(rule, Fault) else rule(request)
            if fault is not None and not isinstance(fault, Fault):
                raise TypeError(f"правило вернуло {fault!r} вместо неисправности или None")
        except Exception as error:  # ошибка в правиле теста — виднее в ответе и в .errors, чем в потоке
            self.errors.append(error)
            return status(502, "FaultProxyError", message=f"правило FaultProxy упало: {error!r}")
        return fault

    def _record(self, request: Request, code: int | None, fault: Fault | None) -> None:
        with self._lock:
            self.log.append(Exchange(request.method, request.path, request.raw_query, code, fault))

    def _answer(self, client: socket.socket, request: Request, fault: Status | OkWithoutEffect) -> None:
        """Ответ самого прокси, без сервера."""
        request_id = f"FAULTPROXY{next(self._request_ids):06d}"
        code, body, content_type, extra = 200, b"", None, ()
        if isinstance(fault, Status):
            code, extra = fault.code, fault.headers
            phrase = _phrase(code)
            if fault.body_kind == "xml":
                s3_code = fault.s3_code or _S3_CODES.get(code) or phrase.replace(" ", "").replace("-", "")
                message = fault.message or f"{phrase} (FaultProxy)"
                body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                        f"<Error><Code>{escape(s3_code)}</Code><Message>{escape(message)}</Message>"
                        f"<Resource>{escape(request.path)}</Resource><RequestId>{request_id}</RequestId></Error>"
                        ).encode()
                content_type = "application/xml"
            elif fault.body_kind == "raw":
                body = fault.body
            elif fault.body_kind == "html":
                title = escape(f"{code} {phrase}")
                body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>"
                        f"\r\n<p>{escape(fault.message or 'Это не S3.')}</p>\r\n<hr><center>nginx</center>\r\n"
                        "</body>\r\n</html>\r\n").encode()  # как страница ошибки nginx
                content_type = "text/html; charset=utf-8"
        lines = [f"HTTP/1.1 {code} {_phrase(code)}", f"Date: {formatdate(usegmt=True)}", "Server: FaultProxy",
                 f"x-amz-request-id: {request_id}", f"Content-Length: {len(body)}"]
        if any(name.lower() == "date" for name, _ in extra):  # часы «сервера» задаёт тест
            del lines[1]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines += [f"{name}: {value}" for name, value in extra]
        self._record(request, code, fault)
        self._send(client, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if request.method == "HEAD"
                                                                                  else body))

    def _without_range(self, request: Request, head: _Head) -> tuple[list[bytes], str | None]:
        """Строки заголовков без Range; если Range подписан — переподписать (SigV4) или объяснить, почему нельзя."""
        lines = [line for name, line in zip(head.names, head.lines, strict=True) if name != "range"]
        authorization = request.headers.get("authorization", "")
        in_header = re.search(r"SignedHeaders=([^,\s]*)", authorization)
        signed = in_header.group(1) if in_header else request.query.get("X-Amz-SignedHeaders", "")
        if "range" not in signed.split(";"):
            return lines, None  # Range не подписан (DuckDB, presigned URL) — просто убрать
        if not in_header:
            return lines, "Range подписан в presigned URL — такой запрос без Range прокси не переподпишет"
        access_key = re.search(r"Credential=([^/]+)/", authorization)
        secret = self.credentials.get(access_key.group(1) if access_key else "")
        if secret is None:
            return lines, ("Range подписан, а секретного ключа у прокси нет: FaultProxy.for_server(server, ...) "
                           "или credentials={access_key: secret_key}")
        # Сначала воспроизвести подпись клиента: не сошлась — прокси канонизирует запрос иначе или ключ не тот.
        signature = re.compile(r"Signature=(\w+)")
        if signature.findall(_sigv4_authorization(request, head, secret, set())) != signature.findall(authorization):
            return lines, "прокси не воспроизвёл подпись клиента — переподписать запрос не может"
        new = _sigv4_authorization(request, head, secret, drop={"range"})
        return [f"Authorization: {new}\r\n".encode("latin-1") if name == "authorization" else line
                for name, line in zip(head.names, head.lines, strict=True) if name != "range"], None

    def _forward(self, request: Request, head: _Head, lines: list[bytes], framing: int | str, fault: Fault | None,
                 reader: _Reader, client: socket.socket, upstream: _Upstream, keep: bool) -> bool:
        try:
            response_reader = upstream.get()
        except OSError as error:
            for _ in _body(reader, framing):
                pass
            self._answer(client, request, status(502, "BadGateway", message=f"сервер недоступен: {error}"))
            return keep
        delivered = True  # сервер мог ответить, не дочитав тело: тогда дочитываем его у клиента впустую
        for piece in itertools.chain([head.raw(lines)], _body(reader, framing)):
            if delivered:
                try:
                    upstream.send(piece)
                except OSError:
                    delivered = False
        try:
            while True:
                response = _read_head(response_reader)
                code = int(response.start.split()[1])
                if not 100 <= code < 200 or code == 101:
                    break
        except (OSError, _Closed, ValueError, IndexError):
            self._record(request, None, fault)  # сервер не ответил — клиенту тоже нечего сказать
            upstream.drop()
            return False
        self._record(request, code, fault)
        if isinstance(fault, Slow) and self._stopped.wait(fault.delay):
            raise _Closed("прокси закрыт")
        bodyless = request.method == "HEAD" or code in (204, 304) or code < 200
        response_framing = 0 if bodyless else _framing(response, response=True)
        upstream_closes = response_framing == "close" or "close" in response.tokens("connection")
        # Connection — заголовок одного участка пути: сервер закрывает своё соединение (moto так делает всегда),
        # а соединение с клиентом живёт дальше, если клиент не против и конец ответа виден без закрытия.
        keep = keep and response_framing != "close"
        out = _Out(self, client, fault)
        rewritten = isinstance(fault, Rewrite) and not bodyless
        dropped = {"connection"} if keep else set()
        if rewritten:  # новое тело — новая длина, без chunked; заголовки неисправности заменяют свои
            dropped |= {"content-length", "transfer-encoding"} | {name.lower() for name, _ in fault.headers}
        lines = [line for name, line in zip(response.names, response.lines, strict=True) if name not in dropped]
        if rewritten:
            body = fault.change(_content(response_reader, response_framing))
            lines += [f"{name}: {value}\r\n".encode("latin-1")
                      for name, value in (*fault.headers, ("Content-Length", str(len(body))))]
            out.write(response.raw(lines) + body)
        else:
            out.write(response.raw(lines))
            for piece in _body(response_reader, response_framing):
                out.write(piece)
        if upstream_closes or not delivered:
            upstream.drop()
        return keep


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Fault"


def _shutdown(sock: socket.socket) -> None:
    """Разбудить всех, кто ждёт на сокете (у TLS-сокета — в обход SSL-обёртки)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass
