"""Процессы и порты на этой машине: свободный порт, жив ли процесс, пик его памяти (Linux, /proc)."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # нет процесса или он чужой
        return False
    # Зомби (процесс завершился, но ещё не «похоронен») — уже не работает.
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return False


def vm_hwm(pid: int) -> int:
    """Пик резидентной памяти процесса (VmHWM) в байтах; 0 — процесса уже нет."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
