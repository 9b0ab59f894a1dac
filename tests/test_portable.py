"""Лекция на платформе без SIGALRM и pthread_kill (как Windows): импорт common работает, шаги идут,
сроки держатся (issue 17).

Платформа изображается здесь же: перед запуском шага из модуля signal удаляются SIGALRM, setitimer,
alarm и pthread_kill — шаг запускается как обычно (runpy) в отдельном процессе. Сроки меряются
относительно базового прогона того же шага в том же тесте, как в test_faults.py."""

import subprocess
import sys
import time

import pytest
import test_faults
from conftest import ROOT, base_env
from faults import FaultProxy, HungServer, drip, every

POSIX_ONLY = ("SIGALRM", "setitimer", "getitimer", "alarm", "pthread_kill", "ITIMER_REAL")
WITHOUT_ALARM = """
import runpy, signal, sys
for name in {names!r}:
    if hasattr(signal, name):
        delattr(signal, name)
sys.path.insert(0, {root!r})
sys.argv = [{script!r}, *sys.argv[1:]]
runpy.run_path({script!r}, run_name="__main__")
"""
PER_ENDPOINT = test_faults.PER_ENDPOINT  # секунд на шаг у неисправного эндпоинта сверх базового прогона
good_and = test_faults.good_and  # исправный «good» с данными лекции и «broken», адрес которого задаёт тест


def without_alarm(script: str, env: dict, cwd, *args: str, timeout: float = 180):
    code = WITHOUT_ALARM.format(names=POSIX_ONLY, root=str(ROOT), script=str(ROOT / script))
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_import_common_changes_nothing_and_needs_no_posix_signals(tmp_path):
    """Раньше: AttributeError: module 'signal' has no attribute 'SIGALRM' — до первой строки шага;
    и сам импорт ставил обработчики сигналов, подменял threading.excepthook и правил sys.argv."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import signal, sys, threading\n"
        "before = signal.getsignal(signal.SIGINT), threading.excepthook, list(sys.argv)\n"
        "import common, run_demo, cleanup, compat\n"
        "after = signal.getsignal(signal.SIGINT), threading.excepthook, list(sys.argv)\n"
        "assert before == after, (before, after)\n"
        "assert 'pandas' not in sys.modules and 'duckdb' not in sys.modules\n"
        "print('чисто')\n")
    result = without_alarm(str(probe), base_env(tmp_path), tmp_path, "--trace", "--debug")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "чисто" in result.stdout


@pytest.mark.parametrize("script", ["list_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py"])
def test_steps_run_without_sigalrm(good_and, tmp_path, script):
    result = without_alarm(script, dict(good_and, S3_ENDPOINTS="good,twin"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 из 2 эндпоинтов: ОК" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def timed(script: str, env: dict, tmp_path):
    started = time.monotonic()
    result = without_alarm(script, env, tmp_path)
    return result, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("fault, script", [("drip", "list_bucket.py"), ("drip", "upload_object.py"),
                                           ("hang", "list_bucket.py")])
def test_deadline_holds_without_sigalrm(good_and, moto_servers, tmp_path, fault, script):
    """Капающий по байту раз в 2 с сервер не превышает таймаута чтения никогда: держит только срок эндпоинта.
    Без SIGALRM главный поток прерывает сторож (_thread.interrupt_main), а ждущие в рабочих потоках
    (upload_file у boto3) освобождает обрыв их соединений с адресом и портом эндпоинта."""
    _, baseline = timed(script, dict(good_and, S3_ENDPOINTS="twin,good"), tmp_path)
    if fault == "drip":
        with FaultProxy.for_server(moto_servers[0], rule=every(drip(2))) as proxy:
            result, elapsed = timed(script, dict(good_and, BROKEN_ENDPOINT_URL=proxy.url), tmp_path)
    else:
        with HungServer() as hung:
            result, elapsed = timed(script, dict(good_and, BROKEN_ENDPOINT_URL=f"http://127.0.0.1:{hung.port}"),
                                    tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    broken = [line for line in result.stdout.splitlines() if line.startswith("✗ broken:")]
    assert len(broken) == 1 and "таймаут" in broken[0], output
    assert "1 из 2 эндпоинтов: ОК" in result.stdout
    assert elapsed - baseline < PER_ENDPOINT, f"неисправный эндпоинт стоил {elapsed - baseline:.1f} с"
