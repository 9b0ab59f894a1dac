"""Ещё настоящие S3-серверы для тестов: SeaweedFS, s3rver, versitygw и gofakes3.

SeaweedFS (Apache-2.0) — распределённое хранилище со шлюзом S3, подписи проверяет. Бинарник weed
собирается из исходников закреплённого выпуска (tests/seaweedfs.version) в кэш машины блоком
«SeaweedFS» из .ci/run; здесь запускается `weed mini` (мастер, том, filer, шлюз S3 и admin в одном
процессе) с двумя пользователями из конфигурации identities — два эндпоинта, как user1/user2 у Ceph.
Почему mini, а не `weed server -s3`: это режим SeaweedFS для разработки и тестов (и команда образа
Docker по умолчанию), одноузловой кластер в нём готов к записи вдвое быстрее (~6 с против ~11 с),
а по тому на бакет он растит сам. Шлюз S3 в обоих режимах один и тот же код.

s3rver (MIT, npm) — маленький S3-сервер на Node.js для тестов; ставится `npm ci --prefix tests/s3rver`
по закреплённому package-lock.json. Ключ доступа у него один (S3RVER/S3RVER), подпись SigV4 он
не проверяет (только ключ доступа; SigV2 проверяет), а запросы без подписи пропускает как есть —
для проверки подписей и прав он не годится.
Два эндпоинта — два процесса s3rver: у каждого своё состояние, как у двух провайдеров.

versitygw (Apache-2.0, Go) — шлюз S3 поверх файловой системы (бэкенд posix), подписи проверяет.
Два вида: «versitygw» — с каталогом версий (--versioning-dir, версии бакета включаются) и
«versitygw-plain» — без него (так он стоит по умолчанию: версий нет, PutBucketVersioning — ошибка).
gofakes3 (MIT, Go) — S3 в памяти для тестов Go-программ; подписи не проверяет, а на часть
подресурсов (?policy, ?tagging бакета) отвечает другой операцией — это и показывают его «!» строки.
Оба собирает `go install модуль@версия` (tests/go_servers.version) в кэш машины, как weed;
два эндпоинта — два процесса.

Всё слушает только 127.0.0.1 на свободных портах, данные — во временном каталоге. Останавливаются
ровно те процессы, что запущены здесь (по pid); если тестовый процесс убит, ядро само убьёт их
(PR_SET_PDEATHSIG), так что после сессии ничего не остаётся.

Вручную:  python tests/extra_servers.py seaweedfs|s3rver|versitygw|versitygw-plain|gofakes3 /tmp/каталог
          (Ctrl-C — остановить)
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ceph_cluster import free_port

TESTS = Path(__file__).resolve().parent


def weed_pin(path: Path = TESTS / "seaweedfs.version") -> dict[str, str]:
    """tests/seaweedfs.version: «release 4.53» (номер выпуска, как в README и docker-compose.yml),
    «module v0.0.0-…» (он же — псевдоверсия модуля Go: теги SeaweedFS не семвер) и «go 1.26.6»."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {fields[0]: fields[1] for fields in lines}


WEED_PIN = weed_pin()
WEED_RELEASE, WEED_VERSION, WEED_GO = WEED_PIN["release"], WEED_PIN["module"], WEED_PIN["go"]
WEED_MODULE = "github.com/seaweedfs/seaweedfs"


def go_pins(path: Path = TESTS / "go_servers.version") -> dict[str, dict[str, str]]:
    """tests/go_servers.version: «имя модуль версия лицензия» на строку."""
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, module, version, licence = line.split()
            pins[name] = {"module": module, "version": version, "licence": licence}
    return pins


GO_PINS = go_pins()
S3RVER_DIR = TESTS / "s3rver"
S3RVER_VERSION = json.loads((S3RVER_DIR / "package.json").read_text())["dependencies"]["s3rver"]
S3RVER_SCRIPT = S3RVER_DIR / "node_modules" / "s3rver" / "bin" / "s3rver.js"
S3RVER_KEY = "S3RVER"  # единственный ключ, зашитый в s3rver (и секрет такой же)
SEAWEEDFS_USERS = ("user1", "user2")
# Права пользователя SeaweedFS: всё, что нужно лекции (Admin — создание и удаление бакетов).
SEAWEEDFS_ACTIONS = ["Admin", "Read", "Write", "List", "Tagging"]


# ── где что лежит и чего не хватает ─────────────────────────────────────────────────────────────
def weed_binary() -> Path:
    """weed закреплённой версии: S3_LECTURE_WEED или кэш машины, куда его собирает .ci/run."""
    if os.environ.get("S3_LECTURE_WEED"):
        return Path(os.environ["S3_LECTURE_WEED"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "s3-lecture" / f"weed-{WEED_VERSION}" / "weed"


def go_binary(name: str) -> Path:
    """Сервер на Go закреплённой версии в кэше машины, куда его кладёт .ci/run (`go install`)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "s3-lecture" / f"{name}-{GO_PINS[name]['version']}" / name


def go_server_missing(name: str) -> str | None:
    """Почему versitygw или gofakes3 здесь не запустить, или None."""
    binary, pin = go_binary(name), GO_PINS[name]
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return (f"нет {name} {pin['version']} ({binary}) — соберите: GOBIN={binary.parent} "
                f"go install {pin['module']}@{pin['version']} (это делает .ci/run)")
    return None


def seaweedfs_missing() -> str | None:
    """Почему SeaweedFS здесь не запустить, или None."""
    binary = weed_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return (f"нет weed {WEED_RELEASE} ({binary}) — соберите его блоком «SeaweedFS» из .ci/run "
                f"(go build из {WEED_MODULE}@{WEED_VERSION}, нужен Go ≥ {WEED_GO})")
    return None


def s3rver_missing() -> str | None:
    """Почему s3rver здесь не запустить, или None."""
    if not shutil.which("node"):
        return "нет node — установите Node.js (apt-get install nodejs npm)"
    if not S3RVER_SCRIPT.exists():
        return f"нет s3rver {S3RVER_VERSION} — установите: npm ci --prefix tests/s3rver"
    installed = json.loads((S3RVER_SCRIPT.parent.parent / "package.json").read_text())["version"]
    if installed != S3RVER_VERSION:
        return f"стоит s3rver {installed}, а нужен {S3RVER_VERSION} — переустановите: npm ci --prefix tests/s3rver"
    return None


# ── процессы ────────────────────────────────────────────────────────────────────────────────────
def _die_with_parent() -> None:
    """В дочернем процессе до exec: умереть вместе с тестовым процессом, даже если его убили."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class ServerProcess:
    """Один запущенный здесь процесс сервера с логом; stop() трогает только его pid."""

    def __init__(self, name: str, args: list[str], cwd: Path, env: dict[str, str], log_path: Path):
        self.name, self.log_path = name, log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 — закрывается в stop()
        self.started_at = time.monotonic()
        self.startup_seconds: float | None = None
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, close_fds=True, start_new_session=True,
                                        preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, check, timeout: float) -> None:
        """Ждать, пока check() не пройдёт без исключения; процесс умер или время вышло — ошибка с хвостом лога."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                check()
                self.startup_seconds = time.monotonic() - self.started_at
                return
            except Exception as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    state = (f"завершился с кодом {self.process.returncode}" if self.process.poll() is not None
                             else f"не готов за {timeout:.0f} с")
                    self.stop()
                    tail = self.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{self.name} {state}: {error}\nлог {self.log_path}:\n{tail}") from None
                time.sleep(0.2)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._log.close()


def _server_env(home: Path) -> dict[str, str]:
    """Окружение сервера без чужих ключей AWS и настроек: weed берёт AWS_ACCESS_KEY_ID как админа."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    return {**{k: v for k, v in os.environ.items() if k in keep}, "HOME": str(home), "TMPDIR": str(home)}


# ── SeaweedFS ───────────────────────────────────────────────────────────────────────────────────
class SeaweedFS:
    """`weed mini` на loopback: мастер, сервер томов, filer, шлюз S3 и admin — один процесс."""

    def __init__(self, base: Path):
        self.base = Path(base)
        (self.master_port, self.master_grpc, self.volume_port, self.volume_grpc, self.filer_port, self.filer_grpc,
         self.s3_port, self.s3_grpc, self.admin_port, self.admin_grpc) = (free_port() for _ in range(10))
        self.keys = {user: (f"SW{secrets.token_hex(9).upper()}", secrets.token_urlsafe(30))
                     for user in SEAWEEDFS_USERS}
        self.config = self.base / "s3.json"
        self.log = self.base / "weed.log"
        self.process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 90) -> None:
        data = self.base / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = [{"name": user, "credentials": [{"accessKey": key, "secretKey": secret}],
                       "actions": SEAWEEDFS_ACTIONS} for user, (key, secret) in self.keys.items()]
        self.config.write_text(json.dumps({"identities": identities}, indent=2))
        # Каждый порт задан явно: иначе mini берёт свои (8333, 9333, 12535…) и общие для всех запусков.
        args = [str(weed_binary()), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={self.master_port}", f"-master.port.grpc={self.master_grpc}",
                "-master.telemetry=false",  # иначе мастер шлёт статистику в интернет
                # Бакет — своя коллекция со своим томом: тестам с десятками бакетов нужно много
                # небольших томов (файлы томов разрежённые, место заранее не занимают).
                "-master.volumeSizeLimitMB=128", "-volume.max=500",
                f"-volume.port={self.volume_port}", f"-volume.port.grpc={self.volume_grpc}",
                f"-filer.port={self.filer_port}", f"-filer.port.grpc={self.filer_grpc}",
                f"-s3.port={self.s3_port}", f"-s3.port.grpc={self.s3_grpc}", f"-s3.config={self.config}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",  # лишние слушатели не нужны
                "-admin.ui=false", f"-admin.port={self.admin_port}", f"-admin.port.grpc={self.admin_grpc}",
                "-admin.port.legacy=0"]
        self.process = ServerProcess("SeaweedFS", args, self.base, _server_env(self.base), self.log)
        self.process.wait_ready(self._ready, timeout)

    def _ready(self) -> None:
        """Готов, когда оба пользователя подписанными запросами видят сервер, а запись в бакет проходит."""
        for user in SEAWEEDFS_USERS:
            self.server(user).client().list_buckets()
        client = self.server(SEAWEEDFS_USERS[0]).client()
        bucket = "ready-probe"
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="probe", Body=b"ok")  # сервер томов уже у мастера
        client.delete_object(Bucket=bucket, Key="probe")
        client.delete_bucket(Bucket=bucket)

    def server(self, user: str):
        from conftest import S3Server

        access_key, secret_key = self.keys[user]
        return S3Server("seaweedfs", self.url, access_key, secret_key)

    def servers(self) -> list:
        return [self.server(user) for user in SEAWEEDFS_USERS]

    def stop(self) -> None:
        if self.process:
            self.process.stop()
            grpc_ports = {"master": self.master_grpc, "volume": self.volume_grpc, "filer": self.filer_grpc,
                          "s3": self.s3_grpc, "admin": self.admin_grpc}
            # weed кладёт сокеты своих gRPC-портов в /tmp и не всегда убирает — убираем свои (наши порты).
            for name, port in grpc_ports.items():
                Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock").unlink(missing_ok=True)
            for name, port in (("filer", self.filer_port), ("s3", self.s3_port)):
                Path(f"/tmp/seaweedfs-{name}-{port}.sock").unlink(missing_ok=True)


def start_seaweedfs(base: Path) -> SeaweedFS:
    """Запустить SeaweedFS в каталоге base; два эндпоинта — .servers() (пользователи user1 и user2)."""
    cluster = SeaweedFS(base)
    cluster.start()
    return cluster


# ── s3rver ──────────────────────────────────────────────────────────────────────────────────────
class S3rver:
    """Один процесс s3rver: свой порт и свой каталог данных."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.port = free_port()
        self.process: ServerProcess | None = None

    @property
    def server(self):
        from conftest import S3Server

        return S3Server("s3rver", f"http://127.0.0.1:{self.port}", S3RVER_KEY, S3RVER_KEY)

    def start(self, timeout: float = 30) -> None:
        data = self.base / "data"
        data.mkdir(parents=True, exist_ok=True)
        args = ["node", str(S3RVER_SCRIPT), "--directory", str(data), "--address", "127.0.0.1",
                "--port", str(self.port)]
        self.process = ServerProcess(f"s3rver :{self.port}", args, self.base, _server_env(self.base),
                                     self.base / "s3rver.log")
        self.process.wait_ready(lambda: self.server.client().list_buckets(), timeout)

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def start_s3rver(base: Path) -> S3rver:
    """Запустить один s3rver в каталоге base; эндпоинт — .server."""
    instance = S3rver(base)
    instance.start()
    return instance


# ── versitygw и gofakes3 ────────────────────────────────────────────────────────────────────────
class GoServer:
    """Один процесс versitygw (бэкенд posix) или gofakes3 (в памяти): свой порт, свой каталог."""

    def __init__(self, kind: str, base: Path):
        self.kind, self.base = kind, Path(base)
        self.port = free_port()
        if kind == "gofakes3":  # ключи gofakes3 не проверяет: любые подписанные запросы проходят
            self.keys = ("GOFAKES3", "gofakes3-secret")
        else:
            self.keys = (f"VG{secrets.token_hex(9).upper()}", secrets.token_urlsafe(30))
        self.process: ServerProcess | None = None

    @property
    def server(self):
        from conftest import S3Server

        return S3Server(self.kind, f"http://127.0.0.1:{self.port}", *self.keys)

    def start(self, timeout: float = 30) -> None:
        name = GO_KINDS[self.kind]
        self.base.mkdir(parents=True, exist_ok=True)
        env = _server_env(self.base)
        if name == "gofakes3":  # -backend memory: данные только в памяти процесса
            args = [str(go_binary(name)), "-backend", "memory", "-host", f"127.0.0.1:{self.port}"]
        else:
            data = self.base / "data"
            data.mkdir(parents=True, exist_ok=True)
            env.update(ROOT_ACCESS_KEY=self.keys[0], ROOT_SECRET_KEY=self.keys[1])  # не в argv: ps их не покажет
            args = [str(go_binary(name)), "--port", f"127.0.0.1:{self.port}", "--quiet", "posix"]
            if self.kind == "versitygw":
                versions = self.base / "versions"
                versions.mkdir(exist_ok=True)
                args += ["--versioning-dir", str(versions)]
            args.append(str(data))
        self.process = ServerProcess(f"{self.kind} :{self.port}", args, self.base, env, self.base / f"{name}.log")
        self.process.wait_ready(lambda: self.server.client().list_buckets(), timeout)

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def start_go_server(kind: str, base: Path) -> GoServer:
    """Запустить один versitygw или gofakes3 (kind: versitygw, versitygw-plain, gofakes3) в каталоге base."""
    instance = GoServer(kind, base)
    instance.start()
    return instance


GO_KINDS = {"versitygw": "versitygw", "versitygw-plain": "versitygw", "gofakes3": "gofakes3"}  # вид → бинарник


if __name__ == "__main__":
    sys.path.insert(0, str(TESTS))
    kind = sys.argv[1] if len(sys.argv) > 1 else "seaweedfs"
    root = Path(sys.argv[2] if len(sys.argv) > 2 else f"/tmp/lecture-{kind}")
    root.mkdir(parents=True, exist_ok=True)
    if kind in GO_KINDS:
        reason = go_server_missing(GO_KINDS[kind])
    else:
        reason = seaweedfs_missing() if kind == "seaweedfs" else s3rver_missing()
    if reason:
        sys.exit(reason)
    if kind == "seaweedfs":
        handles = [start_seaweedfs(root)]
        servers = handles[0].servers()
    elif kind in GO_KINDS:
        handles = [start_go_server(kind, root / f"{kind}{n}") for n in (1, 2)]
        servers = [handle.server for handle in handles]
    else:
        handles = [start_s3rver(root / f"s3rver{n}") for n in (1, 2)]
        servers = [handle.server for handle in handles]
    for handle in handles:
        print(f"{handle.process.name}: pid {handle.process.pid}, готов за {handle.process.startup_seconds:.1f} с")
    for s in servers:
        print(f"{s.kind}: {s.url}  ключ {s.access_key}  секрет {s.secret_key}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill <pid> тоже останавливает серверы
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for handle in handles:
            handle.stop()
