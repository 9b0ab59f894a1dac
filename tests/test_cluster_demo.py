"""Демонстрация надёжности (cluster_demo.py) на настоящем кластере Ceph из трёх OSD.

Скрипт запускается так же, как у лектора: подпроцессом, из временного каталога. TMPDIR у каждого
запуска свой и короткий (в нём сокеты демонов Ceph), поэтому процессы, запущенные демонстрацией, —
ровно те, у кого он в командной строке: другие кластеры Ceph набора тестов живут параллельно,
их не трогаем.
"""

import csv
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from ceph_cluster import _alive
from conftest import DATA, ROOT, base_env

from lecture import ceph as local_ceph

DIGEST = hashlib.sha256(DATA.read_bytes()).hexdigest()[:12]
with DATA.open(newline="") as _file:
    ROWS = sum(1 for _ in csv.reader(_file)) - 1
BUDGET_SECONDS = 90
BUDGET_MIB = 4096


@pytest.fixture(scope="session")
def ceph_with_mgr() -> None:
    """Нет Ceph с менеджером — пропуск, а в CI (S3_LECTURE_REQUIRE_CEPH) — провал."""
    absent = local_ceph.missing(mgr=True)
    reason = f"нет {', '.join(absent)} — установите: {local_ceph.install_command(absent)}" if absent else None
    if reason and os.environ.get("S3_LECTURE_REQUIRE_CEPH"):
        pytest.fail(f"S3_LECTURE_REQUIRE_CEPH задан, но Ceph недоступен: {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture
def demo_tmp():
    """Свой короткий TMPDIR: путь к сокету демона Ceph не длиннее 107 байт."""
    tmp = Path(tempfile.mkdtemp(prefix="cd-"))
    yield tmp
    for pid in started_by_demo(tmp):  # страховка: тест уже проверил, что таких нет
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(tmp, ignore_errors=True)


def demo_env(tmp_path: Path, tmp: Path) -> dict[str, str]:
    env = base_env(tmp_path)
    env.update(TMPDIR=str(tmp), COLUMNS="80", PYTHONUNBUFFERED="1")
    return env


def started_by_demo(tmp: Path) -> list[int]:
    """Живые процессы, в командной строке которых каталог демонстрации (ceph.conf лежит в нём)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(tmp).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if _alive(pid)]


def assert_cleaned_up(tmp: Path) -> None:
    deadline = time.monotonic() + 5  # убитому SIGKILL процессу нужно мгновение, чтобы исчезнуть
    while started_by_demo(tmp) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not started_by_demo(tmp), "после демонстрации остались её процессы Ceph"
    assert not list(tmp.iterdir()), f"каталог кластера не удалён: {list(tmp.iterdir())}"


def run_demo(env: dict[str, str], cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "cluster_demo.py"), *args], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    return result, time.monotonic() - started


def section(output: str, start: str, end: str | None) -> str:
    """Вывод одной фазы: от её заголовка до заголовка следующей."""
    tail = output.split(f"\n{start}", 1)[1]
    return tail.split(f"\n{end}", 1)[0] if end else tail


def assert_budgets(result: subprocess.CompletedProcess, elapsed: float) -> None:
    output = result.stdout
    assert elapsed < BUDGET_SECONDS, f"демонстрация шла {elapsed:.0f} с"
    start = float(re.search(r"кластер запущен за ([\d,]+) с", output).group(1).replace(",", "."))
    assert start <= 20, f"кластер запускался {start} с"
    memory = int(re.search(r"Пик памяти процессов Ceph: (\d+) МиБ", output).group(1))
    assert 0 < memory < BUDGET_MIB
    too_wide = [line for line in output.splitlines() if len(line) > 80]
    assert not too_wide, too_wide


@pytest.mark.cluster
def test_node_loss_keeps_data(ceph_with_mgr, demo_tmp, tmp_path):
    result, elapsed = run_demo(demo_env(tmp_path, demo_tmp), tmp_path)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "Traceback" not in output + result.stderr

    placed = section(output, "2. Объект", "3. Отказ")
    copies = re.search(r"три копии на трёх разных OSD: (.+)", placed).group(1)
    osds = re.findall(r"osd\.(\d+)", copies)
    assert len(osds) == 3 and len(set(osds)) == 3, copies
    assert "до отказа: HEALTH_OK" in placed

    failure = section(output, "3. Отказ", "4. Запись")
    victim = re.match(r": останавливаю osd\.(\d+)", failure).group(1)
    assert victim in osds
    assert f"процесс osd.{victim} (pid" in failure and "OSD в строю 2/3" in failure
    assert "HEALTH_WARN" in failure and "PG_DEGRADED" in failure and "degraded" in failure
    # Прочитанное без одного OSD — те же байты (sha256 файла) и те же строки, что в файле.
    assert f"minio: titanic.csv, sha256 {DIGEST}… — байт в байт как файл" in failure
    assert f"DuckDB: в titanic.csv строк: {ROWS} — как в исходном файле" in failure

    written = section(output, "4. Запись", "5. osd")
    assert "записан на 2 OSD из 3" in written
    assert f"minio: degraded/titanic.csv, sha256 {DIGEST}…" in written

    back = section(output, f"5. osd.{victim} возвращается", None)
    assert re.search(r"после возвращения: HEALTH_OK за [\d,]+ с, все \d+ PG active\+clean", back), back
    assert "кластер остановлен" in back
    assert_budgets(result, elapsed)
    assert_cleaned_up(demo_tmp)


@pytest.mark.cluster
def test_erasure_coding_costs_half_of_three_copies(ceph_with_mgr, demo_tmp, tmp_path):
    result, elapsed = run_demo(demo_env(tmp_path, demo_tmp), tmp_path, "--erasure")
    output = result.stdout
    assert result.returncode == 0, output + result.stderr

    assert re.search(r"три куска на трёх разных OSD: osd\.\d, osd\.\d, osd\.\d", output)
    failure = section(output, "3. Отказ", "4. Запись")
    assert f"minio: ec/titanic.csv, sha256 {DIGEST}… — байт в байт как файл" in failure
    assert f"DuckDB: в ec/titanic.csv строк: {ROWS}" in failure
    assert f"minio: ec/degraded/titanic.csv, sha256 {DIGEST}…" in section(output, "4. Запись", "5. osd")

    cost = section(output, "6. Цена избыточности", None)
    ratios = re.findall(r"│ (3 копии|код стирания 2\+1)\s+│[^│]+│[^│]+│ ×([\d,]+)", cost)
    assert dict(ratios) == {"3 копии": "3,0", "код стирания 2+1": "1,5"}, cost
    assert_budgets(result, elapsed)
    assert_cleaned_up(demo_tmp)


@pytest.mark.cluster
def test_ctrl_c_while_degraded_stops_everything(ceph_with_mgr, demo_tmp, tmp_path):
    process = subprocess.Popen([sys.executable, str(ROOT / "cluster_demo.py")], env=demo_env(tmp_path, demo_tmp),
                               cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    watchdog = threading.Timer(150, process.kill)  # зависшая демонстрация не повесит тесты
    watchdog.start()
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "как выключенный сервер" in line:  # OSD остановлен: кластер деградирует прямо сейчас
                break
        # Ctrl-C в терминале получает вся группа процессов переднего плана — так и здесь.
        os.killpg(process.pid, signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
    output = "".join(seen) + rest
    assert any("как выключенный сервер" in line for line in seen), output + errors
    assert process.returncode == 130, output + errors
    assert "Traceback" not in output + errors, output + errors
    # Одна строка о прерывании — последняя; до неё могли успеть строки ожидания.
    assert output.rstrip().splitlines()[-1] == "✗ прервано (Ctrl-C): кластер остановлен и удалён", rest
    assert output.count("прервано") == 1 and not errors.strip(), output + errors
    assert_cleaned_up(demo_tmp)


def test_without_ceph_one_line_and_exit_2(tmp_path):
    env = base_env(tmp_path)
    env["PATH"] = str(tmp_path)  # ни одной программы Ceph
    result = subprocess.run([sys.executable, str(ROOT / "cluster_demo.py")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines == ["✗ нужен Ceph: apt-get install ceph-mon ceph-osd radosgw ceph-common util-linux ceph-mgr"], lines
