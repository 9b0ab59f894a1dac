"""Настоящие S3-серверы для тестов и запуск шагов лекции так, как это делает лектор.

Серверы: moto (отдельный процесс на эндпоинт, проверка подписей включена), встроенный сервер лекции
local_s3.py (moto без IAM, вид «local»), Ceph RADOS Gateway (tests/ceph_cluster.py) по HTTP и по TLS,
SeaweedFS, s3rver, versitygw и gofakes3 (tests/extra_servers.py).
Шаги запускаются подпроцессами с переменными окружения.
"""

from __future__ import annotations

import csv
import inspect
import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from ceph_cluster import CephCluster, _alive, ceph_missing, free_port
from extra_servers import (
    GO_KINDS,
    _die_with_parent,
    go_server_missing,
    s3rver_missing,
    seaweedfs_missing,
    start_go_server,
    start_s3rver,
    start_seaweedfs,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "titanic_small.csv"
SERVER_KINDS = ["moto", "ceph-http", "ceph-tls", "seaweedfs"]
_names = itertools.count(1)


@dataclass
class S3Server:
    kind: str
    url: str
    access_key: str
    secret_key: str
    ca_bundle: str | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self, **config):
        """Собственный клиент теста — не из common.py, чтобы проверять шаги независимо."""
        settings = dict(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                        s3={"addressing_style": "path"}, retries={"total_max_attempts": 1})
        settings.update(config)
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, verify=self.ca_bundle or True,
                            config=Config(**settings))

    def endpoint_env(self, name: str, bucket: str) -> dict[str, str]:
        prefix = name.upper()
        env = {f"{prefix}_ENDPOINT_URL": self.url, f"{prefix}_ACCESS_KEY": self.access_key,
               f"{prefix}_SECRET_KEY": self.secret_key, f"{prefix}_BUCKET": bucket}
        if self.ca_bundle:
            env[f"{prefix}_CA_BUNDLE"] = self.ca_bundle
        return env


def _spawn(command: list[str], log_dir: Path, name: str, **options) -> subprocess.Popen:
    """Сервер в своём процессе, вывод — в лог. Тестовый процесс убит (Ctrl-C, сторож сборки в .ci/run) —
    ядро убьёт и сервер: сирот не остаётся."""
    log = open(log_dir / name, "wb")  # noqa: SIM115 — закрывается вместе с процессом
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None, **options)


def _wait_ready(process: subprocess.Popen, ready, what: str) -> None:
    """Ждать, пока ready() не ответит без исключения (сервер слушает порт), не дольше 30 с."""
    deadline = time.monotonic() + 30
    while True:
        try:
            ready()
            return
        except Exception:  # noqa: BLE001 — ещё не слушает порт или ещё не готов
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"{what} не запустился") from None
            time.sleep(0.1)


def start_moto(log_dir: Path) -> tuple[subprocess.Popen, S3Server]:
    """moto в своём процессе; три первых запроса без подписи — выпустить ключи через IAM, дальше подпись обязательна."""
    port = free_port()
    process = _spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log_dir,
                     f"moto-{port}.log", env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3"))
    url = f"http://127.0.0.1:{port}"
    _wait_ready(process, lambda: urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).read(),
                f"moto (лог {log_dir}/moto-{port}.log)")
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="lecturer")
    iam.put_user_policy(UserName="lecturer", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="lecturer")["AccessKey"]
    server = S3Server("moto", url, key["AccessKeyId"], key["SecretAccessKey"])
    server.client().list_buckets()  # подписанный запрос с новыми ключами проходит — сервер готов
    return process, server


def start_local(log_dir: Path) -> tuple[subprocess.Popen, S3Server]:
    """Встроенный сервер лекции — сам local_s3.py (moto без IAM: ключи не проверяются), как его запускает лектор."""
    port = free_port()
    process = _spawn([sys.executable, str(ROOT / "local_s3.py"), "--port", str(port)], log_dir,
                     f"local-{port}.log", cwd=log_dir)
    server = S3Server("local", f"http://127.0.0.1:{port}", "lecture", "lecture-secret")  # ключи .env.example
    s3 = server.client()
    _wait_ready(process, lambda: s3.head_bucket(Bucket="lecture"),  # основной бакет создан — сервер готов
                f"local_s3.py (лог {log_dir}/local-{port}.log)")
    return process, server


@pytest.fixture(scope="session")
def server_log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


def _two(start, log_dir: Path):
    """Два независимых процесса сервера: у каждого своё состояние, как у двух провайдеров."""
    started = [start(log_dir) for _ in range(2)]
    yield [server for _, server in started]
    for process, _ in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_servers(server_log_dir):
    """Два moto с IAM (подписи проверяются)."""
    yield from _two(start_moto, server_log_dir)


@pytest.fixture(scope="session")
def local_servers(server_log_dir):
    """Два встроенных сервера лекции (local_s3.py) — вид «local»: moto без IAM, на котором идёт лекция."""
    yield from _two(start_local, server_log_dir)


@pytest.fixture(scope="session")
def ceph_installed() -> None:
    """Без пакетов Ceph его тесты пропускаются — но не в CI: там S3_LECTURE_REQUIRE_CEPH делает пропуск провалом."""
    reason = ceph_missing()
    if reason and os.environ.get("S3_LECTURE_REQUIRE_CEPH"):
        pytest.fail(f"S3_LECTURE_REQUIRE_CEPH задан, но Ceph недоступен: {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def ceph(ceph_installed, server_log_dir):
    """Одноузловой кластер Ceph с шлюзом S3 по HTTP и TLS."""
    cluster = CephCluster(server_log_dir / "ceph")
    cluster.start()
    yield cluster
    cluster.stop()


def require_server(reason: str | None, name: str) -> None:
    """Нет сервера — его тесты пропускаются, но не в CI: там S3_LECTURE_REQUIRE_SERVERS делает пропуск провалом."""
    if reason and os.environ.get("S3_LECTURE_REQUIRE_SERVERS"):
        pytest.fail(f"S3_LECTURE_REQUIRE_SERVERS задан, но {name} недоступен: {reason}")
    if reason:
        pytest.skip(reason)


def wait_for_weed_build(timeout: float = 1200) -> None:
    """CI собирает weed в фоне, пока идут остальные тесты (S3_LECTURE_WEED_BUILD — pid сборки):
    тесты SeaweedFS стоят в конце и ждут её, а не пропускаются."""
    builder = int(os.environ.get("S3_LECTURE_WEED_BUILD") or 0)
    deadline = time.monotonic() + timeout
    while builder and seaweedfs_missing() and _alive(builder) and time.monotonic() < deadline:
        time.sleep(2)


# Маркер вида сервера: быстрый круг (docs/testing.md) не запускает ни Ceph, ни SeaweedFS, ни s3rver,
# ни versitygw, ни gofakes3.
KIND_MARKERS = {"moto": "moto", "local": "moto", "ceph-http": "ceph", "ceph-tls": "ceph", "seaweedfs": "seaweedfs",
                "s3rver": "s3rver", "versitygw": "versitygw", "versitygw-plain": "versitygw", "gofakes3": "gofakes3"}
# Фикстуры, которые сами поднимают сервер (или требуют его пакеты).
FIXTURE_MARKERS = {"moto_servers": "moto", "local_servers": "moto", "ceph": "ceph", "ceph_installed": "ceph",
                   "ceph_with_mgr": "ceph", "seaweedfs": "seaweedfs", "s3rver_servers": "s3rver"}
SERVERS_OF_LITERAL = re.compile(r"""servers_of\(\s*["']([\w-]+)["']""")


def server_markers(item) -> set[str]:
    """Виды серверов теста: параметр фикстуры servers или параметр kind, фикстуры серверов,
    вызовы servers_of("вид") в теле теста."""
    found = {FIXTURE_MARKERS[name] for name in item.fixturenames if name in FIXTURE_MARKERS}
    params = getattr(item, "callspec", None)
    for name in ("servers", "kind"):
        if params and params.params.get(name) in KIND_MARKERS:
            found.add(KIND_MARKERS[params.params[name]])
    function = getattr(item, "function", None)
    if "servers_of" in item.fixturenames and function is not None:
        try:
            found.update(KIND_MARKERS[kind] for kind in SERVERS_OF_LITERAL.findall(inspect.getsource(function))
                         if kind in KIND_MARKERS)
        except (OSError, TypeError):
            pass
    return found


def pytest_collection_modifyitems(config, items):
    """Маркер вида сервера на каждом тесте, которому нужен сервер; тесты SeaweedFS — последними:
    в CI к их очереди сборка weed уже закончится."""
    unmarked = []
    for item in items:
        for marker in sorted(server_markers(item)):
            item.add_marker(marker)
        has_marker = any(item.get_closest_marker(marker) for marker in set(KIND_MARKERS.values()))
        if "servers_of" in item.fixturenames and not has_marker:
            unmarked.append(item.nodeid)
    if unmarked:
        raise pytest.UsageError("тесты с servers_of без маркера вида сервера (задайте параметр kind, "
                                "servers_of(\"вид\") или маркер явно): " + ", ".join(unmarked))
    items.sort(key=lambda item: item.get_closest_marker("seaweedfs") is not None
               or item.get_closest_marker("compat") is not None)


@pytest.fixture(scope="session")
def seaweedfs(server_log_dir):
    """SeaweedFS (`weed mini`) с двумя пользователями S3 — два эндпоинта одного сервера."""
    wait_for_weed_build()
    require_server(seaweedfs_missing(), "SeaweedFS")
    cluster = start_seaweedfs(server_log_dir / "seaweedfs")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def s3rver_servers(server_log_dir):
    """Два процесса s3rver: у каждого своё состояние, как у двух провайдеров (ключ у s3rver один)."""
    require_server(s3rver_missing(), "s3rver")
    started = []
    try:
        for n in (1, 2):
            started.append(start_s3rver(server_log_dir / f"s3rver{n}"))
        yield [instance.server for instance in started]
    finally:
        for instance in started:
            instance.stop()


@pytest.fixture(scope="session")
def go_servers(server_log_dir):
    """Виды versitygw, versitygw-plain и gofakes3: по два процесса на вид, запускаются при первой просьбе."""
    started: dict[str, list] = {}

    def get(kind: str) -> list[S3Server]:
        if kind not in started:
            require_server(go_server_missing(GO_KINDS[kind]), GO_KINDS[kind])
            started[kind] = []
            for n in (1, 2):
                started[kind].append(start_go_server(kind, server_log_dir / f"{kind}{n}"))
        return [instance.server for instance in started[kind]]
    yield get
    for instances in started.values():
        for instance in instances:
            instance.stop()


@pytest.fixture(scope="session")
def servers_of(request):
    """Два эндпоинта одного вида сервера: два moto (с IAM), два встроенных сервера лекции (local), два пользователя
    одного Ceph (по HTTP или TLS) или SeaweedFS, два s3rver, два versitygw
    или gofakes3 (виды не из SERVER_KINDS просят явно)."""
    def get(kind: str) -> list[S3Server]:
        if kind == "moto":
            return request.getfixturevalue("moto_servers")
        if kind == "local":
            return request.getfixturevalue("local_servers")
        if kind in GO_KINDS:
            return request.getfixturevalue("go_servers")(kind)
        if kind == "seaweedfs":
            return request.getfixturevalue("seaweedfs").servers()
        if kind == "s3rver":
            return request.getfixturevalue("s3rver_servers")
        cluster = request.getfixturevalue("ceph")
        return [cluster.server(tls=kind == "ceph-tls", user=f"user{n}") for n in (1, 2)]
    return get


@pytest.fixture(params=SERVER_KINDS)
def servers(request, servers_of) -> list[S3Server]:
    return servers_of(request.param)


def proxied(server: S3Server, proxy) -> str:
    """Адрес сервера через TCP-прокси теста: та же схема, порт прокси (подпись SigV4 остаётся верной)."""
    return f"{server.url.split(':')[0]}://127.0.0.1:{proxy.port}"


def unique_bucket(prefix: str = "lecture") -> str:
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def base_env(tmp_path: Path) -> dict[str, str]:
    """Окружение как у пользователя, но без чужих настроек S3 и TLS — код не должен от них зависеть."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(COLUMNS="200", PYTHONIOENCODING="utf-8", TITANIC_CSV=str(DATA), HOME=str(tmp_path))
    return env


def lecture_env(tmp_path: Path, servers: list[S3Server]) -> tuple[dict[str, str], list[str]]:
    """Окружение для двух эндпоинтов «first» и «second» со свежими основными бакетами (созданы заранее)."""
    env, buckets = base_env(tmp_path), []
    for name, server in zip(("first", "second"), servers, strict=True):
        bucket = unique_bucket()
        server.client().create_bucket(Bucket=bucket)
        env.update(server.endpoint_env(name, bucket))
        buckets.append(bucket)
    env["S3_ENDPOINTS"] = "first,second"
    return env, buckets


def run_step(script: str, env: dict[str, str], cwd: Path, *args: str, timeout: float = 180):
    return subprocess.run([sys.executable, str(ROOT / script), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def big_csv(tmp_path):
    """CSV «Титаника» ~24 МБ: boto3 и minio грузят его составной загрузкой (multipart)."""
    rows = list(csv.reader(DATA.open()))
    path = tmp_path / "titanic_big.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(rows[0])
        for n in range(170_000):
            row = rows[1 + n % (len(rows) - 1)]
            writer.writerow([n + 1, *row[1:]])
    return path


@pytest.fixture
def fresh_bucket(servers):
    """Первый сервер пары, его клиент и новый пустой бакет на нём."""
    server = servers[0]
    s3, bucket = server.client(), unique_bucket()
    s3.create_bucket(Bucket=bucket)
    return server, s3, bucket


def documentation() -> dict[str, str]:
    """README.md (лекция) и docs/*.md (руководство): путь от корня проекта → текст."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


def journal_path(home: Path) -> Path:
    """Журнал лекции пользователя с HOME=home (base_env): ~/.local/state/s3-lecture/journal.sqlite."""
    return home / ".local" / "state" / "s3-lecture" / "journal.sqlite"


def read_journal(home: Path) -> list[dict]:
    """Записи журнала лекции — прочитанные самим тестом через sqlite3, не кодом лекции."""
    import sqlite3

    with sqlite3.connect(journal_path(home)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM writes ORDER BY id")]
