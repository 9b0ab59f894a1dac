"""Срок блока обрывает соединения только своего эндпоинта: адрес и порт (и его прокси), а не порт.

Раньше cut_connections(port) обрывал все соединения процесса с этим портом — в облаке это 443
у всех провайдеров сразу. Проверяется в этом процессе: два сервера на одном порту, разных адресах."""

import socket
import sys
from types import SimpleNamespace

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))
from lecture import deadline  # noqa: E402


def listener(host: str, port: int = 0) -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen()
    return server


def connected(server: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(server.getsockname()[:2], timeout=5)
    accepted, _ = server.accept()
    return client, accepted


def cut(client: socket.socket) -> bool:
    """Соединение оборвано у нас: чтение сразу возвращает конец потока."""
    client.settimeout(0.5)
    try:
        return client.recv(1) == b""
    except TimeoutError:
        return False


@pytest.fixture
def two_hosts_one_port():
    first = listener("127.0.0.1")
    port = first.getsockname()[1]
    try:
        second = listener("127.0.0.2", port)  # весь 127.0.0.0/8 — loopback (Linux)
    except OSError:
        first.close()
        pytest.skip("127.0.0.2 здесь не loopback")
    yield first, second, port
    first.close()
    second.close()


def test_cut_matches_address_and_port_not_port_alone(two_hosts_one_port, monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    first, second, port = two_hosts_one_port
    mine, _ = connected(first)
    neighbour, _ = connected(second)
    endpoint = SimpleNamespace(hostname="127.0.0.1", port=port, secure=False)
    deadline.cut_connections(deadline._peers(endpoint))
    assert cut(mine)
    assert not cut(neighbour), "оборвано соединение чужого эндпоинта с тем же портом"
    for item in (mine, neighbour):
        item.close()


def test_cut_also_reaches_the_proxy(two_hosts_one_port, monkeypatch):
    """Через HTTP_PROXY соединение идёт к прокси: обрывать надо его, адрес эндпоинта до сокета не доходит."""
    first, second, port = two_hosts_one_port
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.2:{port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.2:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    through_proxy, _ = connected(second)
    endpoint = SimpleNamespace(hostname="s3.example.invalid", port=80, secure=False)
    deadline.cut_connections(deadline._peers(endpoint))
    assert cut(through_proxy)
    through_proxy.close()


def test_a_deadline_in_the_middle_of_an_import_does_not_break_the_next_endpoint(tmp_path):
    """Срок истёк, пока шаг импортировал s3fs (а тот — aiohttp): следующий эндпоинт импортирует заново.
    Раньше падал AttributeError «module aiohttp has no attribute http_exceptions»: пакет Python
    выкинул, а его подмодули остались, и к новому пакету они уже не привязывались."""
    import subprocess

    package = tmp_path / "slowpkg"
    package.mkdir()
    (package / "part.py").write_text("VALUE = 42\n")
    flag = tmp_path / "slow-once"
    flag.touch()
    (package / "__init__.py").write_text(
        "import os, time\nimport slowpkg.part\n"
        f"if os.path.exists({str(flag)!r}):\n    os.remove({str(flag)!r})\n    time.sleep(30)\n")
    script = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(tmp_path)!r}]
from types import SimpleNamespace
from lecture import deadline
endpoint = SimpleNamespace(hostname="127.0.0.1", port=9, secure=False)
try:
    with deadline.limit(1, endpoint):
        import slowpkg
except deadline.Expired:
    print("срок истёк")
import slowpkg
print(slowpkg.part.VALUE)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["срок", "истёк", "42"], result.stdout + result.stderr
