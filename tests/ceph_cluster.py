"""Одноразовый кластер Ceph для тестов: монитор, один OSD в памяти и шлюз S3 по HTTP и по TLS.

Сам кластер — CephCluster из lecture/ceph.py (тот же код поднимает три OSD
в cluster_demo.py); здесь к нему добавлены TLS (сертификат от CA, созданного при старте)
и пользователи S3 в виде S3Server из conftest. Останавливаются ровно те процессы, что запущены
здесь; если тестовый процесс убит, ядро само убьёт их.

Вручную:  python tests/ceph_cluster.py /tmp/ceph   (Ctrl-C — остановить)
Нужны пакеты Debian: apt-get install radosgw ceph-mon ceph-osd ceph-common openssl
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # пакет lecture лежит в корне проекта

from lecture import ceph as local_ceph  # noqa: E402
from lecture.ceph import alive as _alive  # noqa: E402, F401 — тесты проверяют им, что процессы ушли
from lecture.ceph import free_port  # noqa: E402, F401 — общий для тестов свободный порт


def ceph_missing() -> str | None:
    """Почему Ceph здесь не запустить, или None."""
    missing = local_ceph.missing() + [b for b in ("openssl",) if not shutil.which(b)]
    return f"нет {', '.join(missing)} — установите: {local_ceph.install_command(missing)}" if missing else None


class CephCluster(local_ceph.CephCluster):
    """Один OSD, шлюз S3 на двух портах: HTTP и TLS."""

    def __init__(self, base: Path):
        super().__init__(base, osds=1)
        self.https_port = free_port()
        self.ca_bundle = str(self.base / "tls" / "ca.pem")

    def start(self, timeout: float = 60) -> None:
        (self.base / "tls").mkdir(parents=True, exist_ok=True)
        self._make_tls(time.monotonic() + timeout)
        super().start(timeout)

    def rgw_frontends(self) -> str:
        tls = self.base / "tls"
        return (f"{super().rgw_frontends()} ssl_endpoint=127.0.0.1:{self.https_port} "
                f"ssl_certificate={tls}/server.pem ssl_private_key={tls}/server.key")

    def gateway_ready(self) -> bool:
        """Готов, когда подписанный запрос с ключами нового пользователя проходит и по HTTP, и по TLS."""
        try:
            self.server(tls=False, user="ready").client().list_buckets()
            self.server(tls=True, user="ready").client().list_buckets()
        except Exception:  # noqa: BLE001 — ещё не готов; срок ожидания — в wait_for
            return False
        return True

    def _make_tls(self, deadline: float) -> None:
        tls = self.base / "tls"
        self._run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                  "-subj", "/CN=lecture test CA", "-keyout", str(tls / "ca.key"), "-out", str(tls / "ca.pem"),
                  deadline=deadline)
        self._run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                  "-keyout", str(tls / "server.key"), "-out", str(tls / "server.csr"), deadline=deadline)
        (tls / "san.ext").write_text("subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
        self._run("openssl", "x509", "-req", "-in", str(tls / "server.csr"), "-CA", str(tls / "ca.pem"),
                  "-CAkey", str(tls / "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(tls / "san.ext"),
                  "-out", str(tls / "server.pem"), deadline=deadline)

    def server(self, tls: bool, user: str):
        from conftest import S3Server

        access_key, secret_key = self.keys(user)
        if tls:
            return S3Server("ceph-tls", f"https://127.0.0.1:{self.https_port}", access_key, secret_key,
                            ca_bundle=self.ca_bundle)
        return S3Server("ceph-http", self.url, access_key, secret_key)


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
