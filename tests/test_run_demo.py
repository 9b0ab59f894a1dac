"""Лектор запускает run_demo.py: порядок шагов, --only, --from, встроенный S3 по умолчанию, README ↔ список шагов."""

import os
import re
import signal
import subprocess
import sys
import time

from conftest import ROOT, base_env, run_step

sys.path.insert(0, str(ROOT))
import run_demo  # noqa: E402

STEP_HEADER = re.compile(r"Шаг (\d+)\. ")


def steps_run(output: str) -> list[int]:
    return [int(n) for n in STEP_HEADER.findall(output)]


def test_whole_lecture_with_extras_on_the_embedded_server_by_default(tmp_path):
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", "--extras")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "запускаю встроенный S3" in result.stdout
    assert steps_run(result.stdout) == list(range(1, 18))
    summary = result.stdout.split("Итог лекции")[1]
    assert summary.count("✓ ОК") == 17
    assert "Traceback" not in result.stdout + result.stderr
    # Встроенный moto не проверяет срок ссылок — шаг 14 говорит об этом, а не молчит.
    assert "сервер не проверил срок ссылки" in result.stdout


def test_extras_are_not_run_by_default(tmp_path):
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", "--from", "12")
    assert steps_run(result.stdout) == [12]


def test_only_and_from(tmp_path):
    only = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--only", "7")
    assert only.returncode == 0, only.stdout
    assert steps_run(only.stdout) == [7]
    extra = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--only", "13")
    assert extra.returncode == 0, extra.stdout
    assert steps_run(extra.stdout) == [13]
    late = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--from", "16")
    assert late.returncode == 1, late.stdout  # шаг 17 без шага 6: бакета <бакет>-duckdb ещё нет
    assert steps_run(late.stdout) == [16, 17]
    assert "create_bucket.py (шаг 6)" in late.stdout


def test_configuration_error_stops_the_lecture(tmp_path):
    env = dict(base_env(tmp_path), S3_ENDPOINTS="broken")
    result = run_step("run_demo.py", env, tmp_path, "--no-pause")
    assert result.returncode == 2
    assert steps_run(result.stdout) == [1]
    assert "BROKEN_ENDPOINT_URL" in result.stdout and "--from 1" in result.stdout


def test_failed_endpoint_marks_the_step_and_goes_on(tmp_path, moto_servers):
    env = base_env(tmp_path)
    env.update(moto_servers[0].endpoint_env("good", "lecture-runner"), S3_ENDPOINTS="good,down")
    env.update(moto_servers[0].endpoint_env("down", "lecture-runner"), DOWN_ENDPOINT_URL="http://127.0.0.1:9")
    result = run_step("run_demo.py", env, tmp_path, "--no-pause", "--only", "1")
    assert result.returncode == 1
    assert "✗ down: нет соединения" in result.stdout and "✗ ошибки" in result.stdout


def test_readme_lists_the_same_steps_in_the_same_order():
    readme = (ROOT / "README.md").read_text()
    demo = readme.split("## Демонстрация")[1].split("\n## ")[0]
    listed = re.findall(r"^(\d+)\. .*?`(?:poetry run )?python (\w+\.py)`", demo, flags=re.M)
    assert [(int(n), s) for n, s in listed] == [(n, s) for n, s, _ in run_demo.STEPS + run_demo.EXTRAS]


def test_every_script_is_in_readme():
    readme = (ROOT / "README.md").read_text()
    for script in sorted(p.name for p in ROOT.glob("*.py") if p.name != "common.py"):
        assert script in readme, f"{script} не упомянут в README"


def test_ctrl_c_stops_the_lecture_cleanly(tmp_path):
    """Ctrl-C в терминале получает вся группа процессов: шаг выходит с кодом 130, лекция — тоже, без трассировки."""
    log = tmp_path / "out.txt"
    env = dict(base_env(tmp_path), PYTHONUNBUFFERED="1")
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "run_demo.py"), "--only", "14"], env=env, cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        deadline = time.monotonic() + 30
        while "HTTP-статусы" not in log.read_text() and "Временные ссылки" not in log.read_text():
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.05)
        time.sleep(0.3)  # шаг ждёт, пока истечёт срок ссылки
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 130
    output = log.read_text()
    assert "прервано (Ctrl-C)" in output and "Лекция прервана" in output and "--from 14" in output
    assert "Traceback" not in output
