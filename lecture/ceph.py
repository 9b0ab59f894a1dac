"""Одноразовый кластер Ceph на loopback: монитор, OSD в памяти (memstore), шлюз S3.

Один код на двоих: демонстрация надёжности (cluster_demo.py — три OSD и менеджер) и тесты
(tests/ceph_cluster.py — один OSD, шлюз по HTTP и TLS). Всё лежит в одном каталоге и слушает
только 127.0.0.1 на свободных портах. Останавливаются ровно те процессы, что запущены здесь;
если наш процесс убит, ядро само убьёт их (setpriv --pdeathsig). Модуль не импортирует common:
его берут и тесты. ceph.conf пишет lecture/ceph_conf.py.

Нужны пакеты Debian/Ubuntu: apt-get install ceph-mon ceph-osd ceph-mgr radosgw ceph-common
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from lecture import ceph_conf
from lecture.processes import alive, free_port, vm_hwm  # noqa: F401 — alive и free_port нужны и тестам

# Программа → пакет, который её приносит (monmaptool — из ceph-base, зависимости ceph-mon).
PACKAGE_OF = {"ceph-mon": "ceph-mon", "ceph-osd": "ceph-osd", "radosgw": "radosgw",
              "radosgw-admin": "ceph-common", "monmaptool": "ceph-mon", "ceph": "ceph-common",
              "rados": "ceph-common", "setpriv": "util-linux"}
SERVICE_ARGS = ("-c", "--connect-timeout", "-n")  # служебные аргументы: в сообщениях не нужны


class CephError(RuntimeError):
    """Кластер не запустился или не ответил вовремя. Первая строка — суть, дальше — журнал."""


def missing(mgr: bool = False) -> list[str]:
    """Каких программ Ceph здесь нет (менеджер нужен для состояния PG и `ceph df`)."""
    programs = [*PACKAGE_OF, *(["ceph-mgr"] if mgr else [])]
    return [name for name in programs if not shutil.which(name)]


def install_command(programs: list[str]) -> str:
    """apt-get install с пакетами, в которых лежат эти программы."""
    packages = dict.fromkeys(PACKAGE_OF.get(name, name) for name in programs)
    return "apt-get install " + " ".join(packages)


class CephCluster:
    """Монитор mon.a, OSD osd.0…osd.N-1, менеджер mgr.x (по желанию) и шлюз client.rgw."""

    def __init__(self, base: Path, osds: int = 1, mgr: bool = False, osd_bytes: int = 1 << 30):
        self.base = Path(base)
        self.conf = self.base / "ceph.conf"
        self.osds, self.mgr, self.osd_bytes = osds, mgr, osd_bytes
        # Три копии, если OSD хватает; писать можно, пока жива хотя бы size-1 копия.
        self.size = min(osds, 3)
        self.min_size = max(1, self.size - 1)
        self.mon_port, self.http_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.peak_rss: dict[str, int] = {}  # демон → пик памяти (VmHWM) по всем его запускам
        self._users: dict[str, tuple[str, str]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def osd_names(self) -> list[str]:
        return [f"osd.{n}" for n in range(self.osds)]

    # ── Запуск ──────────────────────────────────────────────────────────────────────────
    def start(self, timeout: float = 60) -> None:
        """Весь кластер: RADOS (монитор, менеджер, OSD), затем шлюз. Сбой — всё остановлено."""
        deadline = time.monotonic() + timeout
        try:
            self.start_rados(deadline)
            self.start_gateway(deadline)
        except BaseException:
            self.stop()
            raise

    def start_rados(self, deadline: float) -> None:
        """Монитор, менеджер и OSD; возвращается, когда все OSD в строю (up)."""
        for sub in ("mon", "mgr/ceph-x", "rgw", "run", "log", *self.osd_names):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        fsid = str(uuid.uuid4())
        self.conf.write_text(self.config(fsid))
        monmap = str(self.base / "monmap")
        self._run("monmaptool", "--create", "--addv", "a", f"[v2:127.0.0.1:{self.mon_port}]",
                  "--fsid", fsid, monmap, deadline=deadline)
        self._run("ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", monmap,
                  deadline=deadline)
        self._spawn("mon.a", "ceph-mon", "-i", "a")
        # OSD: номер у монитора (osd new), пустое хранилище (--mkfs), запуск — все параллельно.
        uuids = [str(uuid.uuid4()) for _ in range(self.osds)]
        commands = [self._ceph_args("osd", "new", osd_uuid) for osd_uuid in uuids]
        if self.mgr:  # модуль здоровья дисков создал бы свой пул посреди демонстрации
            commands.append(self._ceph_args("config", "set", "mgr", "--force",
                                            "mgr/devicehealth/enable_monitoring", "false"))
        ids = self._run_all(commands, deadline)[:self.osds]
        if self.mgr:
            self._spawn("mgr.x", "ceph-mgr", "-i", "x")
        by_id = dict(zip((int(i) for i in ids), uuids, strict=True))
        self._run_all([["ceph-osd", "-c", str(self.conf), "-i", str(n), "--mkfs",
                        "--osd-uuid", by_id[n]] for n in range(self.osds)], deadline)
        for n in range(self.osds):
            self.start_osd(n)
        self.wait_for(lambda: self.ceph_json("osd", "stat")["num_up_osds"] == self.osds,
                      deadline, "OSD не поднялись", "osd.0")

    def start_gateway(self, deadline: float) -> None:
        """Шлюз S3; возвращается, когда он отвечает (первый старт создаёт свои пулы)."""
        self._spawn("client.rgw", "radosgw", "-n", "client.rgw")
        self.wait_for(self.gateway_ready, deadline, "шлюз S3 не ответил", "client.rgw")

    def start_osd(self, n: int) -> None:
        self._spawn(f"osd.{n}", "ceph-osd", "-i", str(n))

    def gateway_ready(self) -> bool:
        try:
            urllib.request.urlopen(self.url, timeout=2).close()
        except urllib.error.HTTPError:  # ответил кодом ошибки — значит, работает
            pass
        except OSError:
            return False
        return True

    def rgw_frontends(self) -> str:
        return f"beast endpoint=127.0.0.1:{self.http_port}"

    def config(self, fsid: str) -> str:
        return ceph_conf.text(self, fsid)

    # ── Команды ─────────────────────────────────────────────────────────────────────────

    def _ceph_args(self, *args: str) -> list[str]:
        return ["ceph", "-c", str(self.conf), "--connect-timeout", "10", *args]

    def ceph(self, *args: str, timeout: float = 20) -> str:
        return self._run(*self._ceph_args(*args), deadline=time.monotonic() + timeout)

    def ceph_json(self, *args: str, timeout: float = 20):
        return json.loads(self.ceph(*args, "-f", "json", timeout=timeout))

    def rados(self, *args: str, timeout: float = 20) -> str:
        return self._run("rados", "-c", str(self.conf), *args,
                         deadline=time.monotonic() + timeout)

    def admin(self, *args: str, timeout: float = 30) -> str:
        """radosgw-admin: пользователи, бакеты, размещение данных шлюза."""
        return self._run("radosgw-admin", "-c", str(self.conf), "-n", "client.rgw", *args,
                         deadline=time.monotonic() + timeout)

    def keys(self, user: str) -> tuple[str, str]:
        """Ключи пользователя S3 (создаётся при первом обращении)."""
        if user not in self._users:
            try:
                out = self.admin("user", "create", "--uid", user, "--display-name", user)
            except CephError:  # уже есть
                out = self.admin("user", "info", "--uid", user)
            key = json.loads(out)["keys"][0]
            self._users[user] = (key["access_key"], key["secret_key"])
        return self._users[user]

    @staticmethod
    def _run(*args: str, deadline: float) -> str:
        # Демоны Ceph держат унаследованные дескрипторы: никаких общих с нами каналов.
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=max(0.1, deadline - time.monotonic()), close_fds=True)
        except subprocess.TimeoutExpired:
            raise CephError(f"{_shown(args)}: нет ответа за отведённое время") from None
        if done.returncode != 0:
            raise CephError(_failed(args, done.returncode, done.stderr))
        return done.stdout

    def _run_all(self, commands: list[list[str]], deadline: float) -> list[str]:
        """Несколько команд параллельно; вывод каждой (без пробелов по краям) — по порядку."""
        started = [subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, close_fds=True)
                   for command in commands]
        outputs = []
        try:
            for command, process in zip(commands, started, strict=True):
                try:
                    out, err = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise CephError(f"{_shown(command)}: нет ответа за отведённое время") from None
                if process.returncode != 0:
                    raise CephError(_failed(command, process.returncode, err))
                outputs.append(out.strip())
        finally:
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return outputs

    def wait_for(self, condition, deadline: float, what: str, daemon: str | None = None) -> None:
        """Ждать condition() до срока; не дождались — CephError с хвостом журнала демона."""
        while True:
            try:
                if condition():
                    return
            except CephError:
                pass
            if time.monotonic() > deadline:
                log = self.base / "log" / f"{daemon}.log"
                tail = log.read_text(errors="replace")[-1500:] if daemon and log.exists() else ""
                raise CephError(f"{what} за отведённое время\nжурнал {log}:\n{tail}".rstrip())
            time.sleep(0.2)

    # ── Процессы ────────────────────────────────────────────────────────────────────────
    def _spawn(self, name: str, binary: str, *args: str) -> None:
        """Демон на переднем плане (-f) в своей сессии: Ctrl-C в терминале достаётся только
        нам, а если нас убьют, ядро убьёт и его (setpriv --pdeathsig)."""
        out = open(self.base / "log" / f"{name}.out", "ab")  # noqa: SIM115 — его наследует демон
        try:
            self.processes[name] = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--", binary, "-f", "-c", str(self.conf), *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, close_fds=True,
                start_new_session=True)
        finally:
            out.close()

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes.values() if process.poll() is None]

    def sample_memory(self) -> None:
        for name, process in self.processes.items():
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), vm_hwm(process.pid))

    def stop_daemon(self, name: str, timeout: float = 20) -> int:
        """Остановить один демон (SIGTERM, как systemctl stop), дождаться выхода; вернуть pid."""
        process = self.processes[name]
        self.sample_memory()
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return process.pid

    def stop(self, timeout: float = 15) -> None:
        """Остановить всё, что запущено здесь, по порядку: шлюз (уходя, он ещё пишет в RADOS),
        затем менеджер и OSD, монитор последним (OSD, уходя, сообщает об этом монитору).
        Заодно — процессы с нашим ceph.conf в командной строке, которые не успели попасть
        в список (например, по Ctrl-C в момент запуска)."""
        self.sample_memory()
        order = {"client.rgw": 0, "mon.a": 2}  # остальные (mgr.x, osd.N) — шаг 1
        for step in range(3):
            group = [process for name, process in self.processes.items()
                     if order.get(name, 1) == step and process.poll() is None]
            for process in group:
                process.terminate()
            deadline = time.monotonic() + timeout
            for process in group:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for pid in self.strays():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def strays(self) -> list[int]:
        """Живые процессы с нашим ceph.conf в командной строке (каталог кластера уникален)."""
        found = []
        marker = str(self.conf).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes() and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found


def _shown(args) -> str:
    """Команда без служебных аргументов (-c ceph.conf, --connect-timeout N, -n client.rgw)."""
    shown, skip = [], False
    for arg in args:
        if not skip and arg not in SERVICE_ARGS:
            shown.append(arg)
        skip = arg in SERVICE_ARGS and not skip
    return " ".join(shown)


def _failed(args, code: int, stderr: str) -> str:
    """Первая строка — команда, код и последняя строка её stderr; дальше — весь хвост stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = f": {lines[-1]}" if lines else ""
    return f"{_shown(args)}: код {code}{last}\n{stderr[-2000:]}"
