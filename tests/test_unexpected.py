"""Ошибка самой лекции — одна красная строка с путём к отчёту и код 4, а не трассировка на экране;
Ctrl-C в любой момент шага — «прервано» или итог шага, но не трассировка и не молчаливая смерть."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, lecture_env, run_step
from faults import FaultProxy, hang, slow, when

# Шаг запускается как обычно, но одна функция лекции заменена ошибкой — так тест вызывает «баг лекции»,
# не трогая ни одного S3-клиента.
PROVOKE = """
import runpy, sys
sys.argv = [{script!r}, *sys.argv[1:]]
sys.path.insert(0, {root!r})
import common
def broken(*args, **kwargs):
    raise KeyError({message!r})
setattr(common, {name!r}, broken)
runpy.run_path({script!r}, run_name="__main__")
"""


def provoke(script: str, name: str, message: str, env: dict, cwd: Path, *args: str):
    code = PROVOKE.format(script=str(ROOT / script), root=str(ROOT), name=name, message=message)
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def flat(text: str) -> str:
    return " ".join(text.split())


def reports(home: Path) -> list[Path]:
    return sorted((home / ".local" / "state" / "s3-lecture" / "reports").glob("*.txt"))


def test_a_bug_inside_an_endpoint_is_one_line_per_endpoint_and_exit_4(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    secret = moto_servers[0].secret_key
    result = provoke("list_objects.py", "compare", f"Buckets {secret}", env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "Traceback" not in output
    lines = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert len(lines) == 2 and lines[0].startswith("✗ first: ошибка лекции — KeyError (")  # и второй эндпоинт шёл
    assert secret not in output  # секрет в сообщении замаскирован
    written = reports(tmp_path)
    assert len(written) == 2 and str(written[0]) in flat(result.stdout)
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    text = written[0].read_text()
    assert "Traceback (most recent call last)" in text and "KeyError" in text
    assert "Python 3." in text and "boto3 " in text and "duckdb " in text and "minio " in text
    assert moto_servers[0].url in text or moto_servers[1].url in text
    for server in moto_servers:
        assert server.secret_key not in text and server.access_key not in text


def test_a_bug_outside_any_endpoint_is_one_line_too(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    result = provoke("list_bucket.py", "header", "oops", env, tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "✗ ошибка лекции — KeyError (" in result.stdout and "отчёт:" in result.stdout


def test_debug_also_prints_the_traceback(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    result = provoke("list_objects.py", "compare", "Buckets", env, tmp_path, "--debug")
    assert result.returncode == 4
    assert "Traceback (most recent call last)" in result.stdout
    assert "ошибка лекции — KeyError" in result.stdout


def test_the_runner_names_a_bug_and_passes_debug_on(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    result = run_step("run_demo.py", env, tmp_path, "--no-pause", "--only", "1", "--debug")
    assert result.returncode == 0, result.stdout
    assert "--debug" in result.stdout  # команда шага показана с флагом


def start(script: str, env: dict, cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / script), *args], env=dict(env, PYTHONUNBUFFERED="1"),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
def test_ctrl_c_at_spread_moments_of_steps_8_11_15_never_shows_a_traceback(moto_servers, tmp_path):
    """Раньше: Ctrl-C во время обработки таймаута DuckDB давал две трассировки; Ctrl-C за ~100 мс до конца шага —
    смерть процесса при завершении Python без единой строки. Двадцать моментов на три шага, от начала до конца
    (длительность каждого шага измерена тут же, без сигнала)."""
    env, _ = lecture_env(tmp_path, moto_servers)
    env["S3_ENDPOINTS"] = "first"
    for script in ("create_bucket.py", "pandas_dataframe_to_s3.py"):
        assert run_step(script, env, tmp_path).returncode == 0, script
    # Каждый ответ сервера — на 0,3 с позже: шаг ждёт сеть, как с настоящим провайдером.
    with FaultProxy.for_server(moto_servers[0], rule=when(slow(0.3), method=("GET", "PUT", "POST", "HEAD"))) as proxy:
        env = dict(env, FIRST_ENDPOINT_URL=proxy.url)
        plan = {"duckdb_copy_to_s3.py": (), "pandas_dataframe_from_s3.py": (), "multipart_upload.py": ("12",)}
        moments = {"duckdb_copy_to_s3.py": 7, "pandas_dataframe_from_s3.py": 7, "multipart_upload.py": 6}
        for script, args in plan.items():
            baseline = start(script, env, tmp_path, *args)
            baseline.stdout.read(1)  # шаг начал печатать: интерпретатор запущен, common импортирован
            began = time.monotonic()
            output = baseline.communicate(timeout=120)[0]
            assert baseline.returncode == 0, output
            took = time.monotonic() - began
            for n in range(moments[script]):
                at = (took + 0.2) * n / (moments[script] - 1)  # последний — после конца шага
                process = start(script, env, tmp_path, *args)
                output = process.stdout.read(1)
                time.sleep(at)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGINT)
                output += process.communicate(timeout=120)[0]
                where = f"{script} +{at:.2f} с из {took:.2f}: {output}"
                assert "Traceback" not in output, where
                assert process.returncode in (0, 130), where  # итог шага или «прервано», не смерть от сигнала
                if process.returncode == 130:
                    assert "прервано (Ctrl-C)" in output, where


@pytest.mark.slow
def test_ctrl_c_while_a_stalled_duckdb_request_times_out(moto_servers, tmp_path):
    """Раньше: сигнал, пришедший, пока обрабатывался IOException таймаута DuckDB, давал KeyboardInterrupt внутри
    contextlib.__exit__ — две трассировки перед «прервано». Моменты — вокруг http_timeout (4 с)."""
    env, _ = lecture_env(tmp_path, moto_servers)
    env["S3_ENDPOINTS"] = "first"
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    with FaultProxy.for_server(moto_servers[0], rule=when(hang(), method="PUT")) as proxy:
        env = dict(env, FIRST_ENDPOINT_URL=proxy.url)
        for at in (3.8, 4.0, 4.1, 4.2, 4.4):
            process = start("duckdb_copy_to_s3.py", env, tmp_path)
            output = process.stdout.read(1)
            time.sleep(at)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
            output += process.communicate(timeout=120)[0]
            assert "Traceback" not in output, (at, output)
            assert process.returncode in (1, 130), (at, output)
