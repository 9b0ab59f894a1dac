"""Ctrl-C в любой момент — импорт библиотек, подготовка файла, запрос DuckDB, загрузка, дважды подряд:
одна строка, код 130, без трассировки и без брошенных загрузок этого процесса."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, base_env, lecture_env, proxied, run_step
from faults import Proxy
from test_ownership import one_endpoint, uploads, wait_for_multipart


def start(script: str, env: dict, tmp_path: Path, *args: str):
    log = tmp_path / f"{script}.log"
    out = log.open("w")
    process = subprocess.Popen([sys.executable, str(ROOT / script), *args], env=dict(env, PYTHONUNBUFFERED="1"),
                               cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    return process, log


def wait_for_text(log: Path, text: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.02)


def interrupted_cleanly(process, log: Path, times: int = 1) -> str:
    for _ in range(times):  # как в терминале: сигнал всей группе процессов
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.05)
    assert process.wait(timeout=60) == 130, log.read_text()
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "прервано (Ctrl-C)" in output
    return output


def test_ctrl_c_while_libraries_are_imported(moto_servers, tmp_path):
    """pandas грузится секунду: раньше Ctrl-C в это время давал трассировку KeyboardInterrupt."""
    env, _ = lecture_env(tmp_path, moto_servers)
    process, log = start("pandas_dataframe_to_s3.py", env, tmp_path)
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + 30
    while "pandas" not in (maps.read_text() if maps.exists() else ""):  # импорт pandas идёт
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.005)
    interrupted_cleanly(process, log)


def test_ctrl_c_while_the_big_file_is_generated(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    process, log = start("multipart_upload.py", env, tmp_path, "768")
    wait_for_text(log, "Составная загрузка", process)  # заголовок напечатан, 768 МиБ ещё готовятся
    output = interrupted_cleanly(process, log)
    assert "first" not in output  # до эндпоинтов дело не дошло


def test_ctrl_c_during_a_duckdb_query(moto_servers, tmp_path):
    """Раньше: трассировка, код 1 — и run_demo.py шёл к следующим шагам."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    process, log = start("duckdb_pushdown.py", env, tmp_path, "20000000")
    wait_for_text(log, "first", process)  # блок эндпоинта начался: DuckDB генерирует и пишет Parquet
    # Не «подождать секунду», а увидеть на сервере, что запрос идёт: COPY в S3 открыл составную загрузку.
    wait_for_multipart(moto_servers[0].client(), f"{buckets[0]}-duckdb", process,
                       key="pushdown/events-20000000.parquet", timeout=60)
    output = interrupted_cleanly(process, log)
    assert "✗ first: прервано (Ctrl-C)" in output and "second" not in output


def test_ctrl_c_twice_during_multipart_leaves_no_upload(fresh_bucket, tmp_path):
    """Раньше второй Ctrl-C прерывал уборку: трассировка и брошенная загрузка."""
    server, s3, bucket = fresh_bucket
    with Proxy(server.port, rate=6_000_000) as proxy:
        url = proxied(server, proxy)
        env = one_endpoint(server, bucket, tmp_path, Path(__file__).parent / "data" / "titanic_small.csv", url)
        process, log = start("multipart_upload.py", env, tmp_path, "64")
        wait_for_multipart(s3, bucket, process, key="extras/multipart-boto3.bin")
        output = interrupted_cleanly(process, log, times=2)
    assert "✗ first: прервано (Ctrl-C)" in output
    assert uploads(s3, bucket) == set()


def test_ctrl_c_mid_upload_leaves_nothing_partial(fresh_bucket, tmp_path, big_csv):
    server, s3, bucket = fresh_bucket
    with Proxy(server.port, rate=4_000_000) as proxy:
        url = proxied(server, proxy)
        process, log = start("upload_object.py", one_endpoint(server, bucket, tmp_path, big_csv, url), tmp_path)
        wait_for_multipart(s3, bucket, process)
        output = interrupted_cleanly(process, log)
    assert "✗ first: прервано (Ctrl-C)" in output
    assert uploads(s3, bucket) == set()
    assert not s3.list_objects_v2(Bucket=bucket, Prefix="boto3/").get("Contents"), "остался объект"
    assert run_step("upload_object.py", one_endpoint(server, bucket, tmp_path, big_csv), tmp_path).returncode == 0


def test_ctrl_c_to_the_runner_alone_stops_the_lecture(tmp_path):
    """kill -INT только лектору (не всей группе): раньше сигнал игнорировался, все шаги шли до конца, код 0."""
    env = base_env(tmp_path)
    process, log = start("run_demo.py", env, tmp_path, "--no-pause")
    wait_for_text(log, "Шаг 3.", process)
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 130, log.read_text()
    output = log.read_text()
    assert "Traceback" not in output and "Лекция прервана" in output
    assert "Шаг 5." not in output
