"""Одноразовый кластер Ceph на loopback: монитор, OSD в памяти и шлюз S3 (RADOS Gateway).

Настоящий производственный S3-сервер для тестов, по HTTP и по TLS (сертификат от CA,
созданного при старте). Всё лежит во временном каталоге; останавливаются ровно те процессы,
что запущены здесь (по pid-файлам, не по имени).

Вручную:  python tests/ceph_cluster.py /tmp/ceph   (Ctrl-C — остановить)
Нужны пакеты Debian: apt-get install radosgw ceph-mon ceph-osd ceph-common openssl
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

DAEMONS = ("client.rgw", "osd.0", "mon.a")
PACKAGES = "apt-get install radosgw ceph-mon ceph-osd ceph-common openssl"


def ceph_missing() -> str | None:
    """Почему Ceph здесь не запустить, или None."""
    missing = [b for b in ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph", "openssl")
               if not shutil.which(b)]
    return f"нет {', '.join(missing)} — установите: {PACKAGES}" if missing else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, timeout: float = 60) -> str:
    # Демоны Ceph форкаются и держат унаследованные дескрипторы: никаких общих с нами каналов.
    done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                          close_fds=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: код {done.returncode}\n{done.stderr[-2000:]}")
    return done.stdout


def _start_daemon(*args: str) -> None:
    subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   close_fds=True, check=True, timeout=60)


class CephCluster:
    def __init__(self, base: Path):
        self.base = Path(base)
        self.conf = self.base / "ceph.conf"
        self.mon_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        self.ca_bundle = str(self.base / "tls" / "ca.pem")
        self._users: dict[str, tuple[str, str]] = {}

    # ── запуск ──────────────────────────────────────────────────────────────────────────────────
    def start(self, timeout: float = 60) -> None:
        for sub in ("mon", "osd/osd.0", "rgw", "run", "log", "tls"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        self._make_tls()
        fsid = str(uuid.uuid4())
        self.conf.write_text(self._config(fsid))
        try:
            _run("monmaptool", "--create", "--addv", "a", f"[v2:127.0.0.1:{self.mon_port}]", "--fsid", fsid,
                 str(self.base / "monmap"))
            _run("ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", str(self.base / "monmap"))
            _start_daemon("ceph-mon", "-c", str(self.conf), "-i", "a")
            osd_uuid = str(uuid.uuid4())
            osd_id = self._ceph("osd", "new", osd_uuid).strip()
            assert osd_id == "0", osd_id
            _run("ceph-osd", "-c", str(self.conf), "-i", "0", "--mkfs", "--osd-uuid", osd_uuid)
            _start_daemon("ceph-osd", "-c", str(self.conf), "-i", "0")
            _start_daemon("radosgw", "-c", str(self.conf), "-n", "client.rgw")
            deadline = time.monotonic() + timeout
            while True:  # готов, когда подписанный запрос с ключами нового пользователя проходит
                try:
                    self.server(tls=False, user="ready").client().list_buckets()
                    self.server(tls=True, user="ready").client().list_buckets()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
        except BaseException:
            self.stop()
            raise

    def _ceph(self, *args: str) -> str:
        return _run("ceph", "-c", str(self.conf), "--connect-timeout", "20", *args)

    def _config(self, fsid: str) -> str:
        base, tls = self.base, self.base / "tls"
        return f"""
[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{self.mon_port}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
# Без cephx: кластер одноразовый и слушает только 127.0.0.1. Подписи S3 шлюз проверяет всё равно.
auth cluster required = none
auth service required = none
auth client required = none
run dir = {base}/run
pid file = {base}/run/$name.pid
admin socket = {base}/run/$name.asok
log file = {base}/log/$name.log
mon data = {base}/mon/$name
osd data = {base}/osd/$name
osd objectstore = memstore
memstore device bytes = 1073741824
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# Шлюз при первом старте создаёт семь пулов, по раунду консенсуса на каждый: без этого ~11 с вместо ~2 с.
paxos propose interval = 0.1

[client.rgw]
# Встроенные умолчания шлюза требуют cephx и защищённую сессию с монитором — иначе он висит (-13).
auth client required = none
ms mon client mode = crc
rgw data = {base}/rgw
rgw frontends = beast endpoint=127.0.0.1:{self.http_port} ssl_endpoint=127.0.0.1:{self.https_port} \
ssl_certificate={tls}/server.pem ssl_private_key={tls}/server.key
"""

    def _make_tls(self) -> None:
        tls = self.base / "tls"
        _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=lecture test CA",
             "-keyout", str(tls / "ca.key"), "-out", str(tls / "ca.pem"))
        _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(tls / "server.key"), "-out", str(tls / "server.csr"))
        (tls / "san.ext").write_text("subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
        _run("openssl", "x509", "-req", "-in", str(tls / "server.csr"), "-CA", str(tls / "ca.pem"),
             "-CAkey", str(tls / "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(tls / "san.ext"),
             "-out", str(tls / "server.pem"))

    # ── пользователи S3 ─────────────────────────────────────────────────────────────────────────
    def keys(self, user: str) -> tuple[str, str]:
        if user not in self._users:
            try:
                out = _run("radosgw-admin", "-c", str(self.conf), "-n", "client.rgw", "user", "create",
                           "--uid", user, "--display-name", user)
            except RuntimeError:  # уже есть
                out = _run("radosgw-admin", "-c", str(self.conf), "-n", "client.rgw", "user", "info", "--uid", user)
            key = json.loads(out)["keys"][0]
            self._users[user] = (key["access_key"], key["secret_key"])
        return self._users[user]

    def server(self, tls: bool, user: str):
        from conftest import S3Server

        access_key, secret_key = self.keys(user)
        if tls:
            return S3Server("ceph-tls", f"https://127.0.0.1:{self.https_port}", access_key, secret_key,
                            ca_bundle=self.ca_bundle)
        return S3Server("ceph-http", f"http://127.0.0.1:{self.http_port}", access_key, secret_key)

    # ── остановка ───────────────────────────────────────────────────────────────────────────────
    def pids(self) -> list[int]:
        pids = []
        for name in DAEMONS:
            pid_file = self.base / "run" / f"{name}.pid"
            if pid_file.exists() and pid_file.read_text().strip().isdigit():
                pids.append(int(pid_file.read_text().strip()))
        return pids

    def stop(self, timeout: float = 15) -> None:
        pids = [pid for pid in self.pids() if _alive(pid)]
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # Зомби (процесс завершился, но ещё не «похоронен») — уже не работает.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    cluster = CephCluster(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/lecture-ceph"))
    cluster.start()
    for tls in (False, True):
        s = cluster.server(tls=tls, user="lecturer")
        print(f"{s.kind}: {s.url}  ключ {s.access_key}  секрет {s.secret_key}  CA {s.ca_bundle or '-'}")
    try:
        signal.pause()
    except KeyboardInterrupt:
        cluster.stop()
