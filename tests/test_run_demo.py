"""Лектор запускает run_demo.py: порядок шагов, --only, --from (и продолжение с данными), встроенный S3,
остановка, когда связи нет, Ctrl-C — и README ↔ список шагов."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, base_env, run_step

sys.path.insert(0, str(ROOT))
import run_demo  # noqa: E402

STEP_HEADER = re.compile(r"Шаг (\d+)\. ")
LAST = run_demo.EXTRAS[-1][0]


def steps_run(output: str) -> list[int]:
    return [int(n) for n in STEP_HEADER.findall(output)]


def test_whole_lecture_with_extras_on_the_embedded_server_by_default(tmp_path):
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", "--extras")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "запускаю встроенный S3" in result.stdout
    assert steps_run(result.stdout) == list(range(1, LAST + 1))
    summary = result.stdout.split("Итог лекции")[1]
    assert summary.count("✓ ОК") == LAST
    assert "Traceback" not in result.stdout + result.stderr
    # Встроенный сервер не проверяет срок ссылок: шаг 14 говорит об этом строкой «!», а не молчит.
    assert "! просроченная ссылка: сервер не проверяет срок" in result.stdout


def test_from_n_continues_with_the_data_of_earlier_steps_on_the_embedded_server(tmp_path):
    """Раньше --from 8 начинал с пустого встроенного сервера: шаги 8–11 падали с NoSuchBucket."""
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", "--from", "8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "шаги 3, 6 повторены без вывода" in result.stdout  # пишущие шаги до восьмого
    assert steps_run(result.stdout) == [8, 9, 10, 11, 12]
    final = result.stdout.split("Шаг 12.")[1]
    for key in ("boto3/titanic.csv", "titanic_by_class/Pclass=1/data_0.parquet", "titanic.csv"):
        assert key in final


def test_extras_are_not_run_by_default(tmp_path):
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", "--from", "12")
    assert result.returncode == 0, result.stdout
    assert steps_run(result.stdout) == [12]


def test_only_runs_one_step_with_its_data(tmp_path):
    only = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--only", "9")
    assert only.returncode == 0, only.stdout
    assert steps_run(only.stdout) == [9]
    extra = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--only", "17")
    assert extra.returncode == 0, extra.stdout
    assert steps_run(extra.stdout) == [17]


@pytest.mark.parametrize("arguments", [["--only", "0"], ["--only", "99"], ["--only", "two"], ["--from", "0"],
                                       ["--from", "99"]])
def test_a_step_that_does_not_exist_is_refused_with_the_range(tmp_path, arguments):
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause", *arguments)
    assert result.returncode == 2, result.stdout
    assert f"шаги 1–{LAST}" in result.stdout
    assert steps_run(result.stdout) == []


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
    result = run_step("run_demo.py", env, tmp_path, "--no-pause", "--from", "11")
    assert result.returncode == 1
    assert "✗ down: нет соединения" in result.stdout and "✗ ошибки" in result.stdout
    assert steps_run(result.stdout) == [11, 12]  # один эндпоинт жив — лекция идёт


def test_no_server_running_stops_the_lecture_at_the_first_step(tmp_path):
    """.env есть, сервера нет: раньше все 12 шагов падали один за другим; теперь — стоп с подсказкой."""
    (tmp_path / ".env").write_text("S3_ENDPOINTS=local\nLOCAL_ENDPOINT_URL=http://127.0.0.1:9\n"
                                   "LOCAL_ACCESS_KEY=lecture\nLOCAL_SECRET_KEY=lecture-secret\nLOCAL_BUCKET=lecture\n")
    result = run_step("run_demo.py", base_env(tmp_path), tmp_path, "--no-pause")
    assert result.returncode == 3, result.stdout
    assert steps_run(result.stdout) == [1]
    assert "Ни один эндпоинт не работает" in result.stdout
    assert "docker-compose up -d" in result.stdout and "local_s3.py" in result.stdout
    assert "--from 1" in result.stdout


def test_wrong_keys_everywhere_stop_the_lecture_at_the_first_step(tmp_path, moto_servers):
    """Неверный секрет у единственного эндпоинта: раньше все 12 шагов падали один за другим (и 12 раз Enter)."""
    env = base_env(tmp_path)
    env.update(moto_servers[0].endpoint_env("only", "lecture-wrong-keys"), S3_ENDPOINTS="only",
               ONLY_SECRET_KEY="wrong-secret-0123456789abcdef")
    result = run_step("run_demo.py", env, tmp_path, "--no-pause")
    assert result.returncode == 3, result.stdout
    assert steps_run(result.stdout) == [1]
    assert "✗ only: SignatureDoesNotMatch" in result.stdout and "Ни один эндпоинт не работает" in result.stdout


def test_readme_lists_the_same_steps_in_the_same_order():
    readme = (ROOT / "README.md").read_text()
    demo = readme.split("## Демонстрация")[1].split("\n## ")[0]
    listed = re.findall(r"^(\d+)\. .*?`(?:poetry run )?python (\w+\.py)`", demo, flags=re.M)
    assert [(int(n), s) for n, s in listed] == [(n, s) for n, s, _ in run_demo.STEPS + run_demo.EXTRAS]


def test_every_script_is_in_readme():
    """Каждый скрипт корня назван в README или в docs/ (шаги — в README, остальное — в карте docs/)."""
    from conftest import documentation

    text = "\n".join(documentation().values())
    for script in sorted(p.name for p in ROOT.glob("*.py") if p.name != "common.py"):
        assert script in text, f"{script} не упомянут ни в README, ни в docs/"


def start_runner(tmp_path, *arguments: str):
    log = tmp_path / "out.txt"
    env = dict(base_env(tmp_path), PYTHONUNBUFFERED="1")
    out = log.open("w")
    process = subprocess.Popen([sys.executable, str(ROOT / "run_demo.py"), *arguments], env=env, cwd=tmp_path,
                               stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    return process, log


def wait_for(log, text: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.05)


@pytest.mark.parametrize("target", ["group", "runner"])
def test_ctrl_c_stops_the_lecture_cleanly(tmp_path, target):
    """Ctrl-C в терминале получает вся группа процессов; kill -INT — только сам run_demo.py (раньше такой
    сигнал игнорировался и лекция шла дальше). В обоих случаях шаг выходит с кодом 130, лекция — тоже."""
    process, log = start_runner(tmp_path, "--only", "14")
    wait_for(log, "Временные ссылки", process)
    time.sleep(0.5)  # шаг ждёт, пока истечёт срок ссылки
    if target == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 130
    output = log.read_text()
    assert "прервано (Ctrl-C)" in output and "Лекция прервана" in output and "--from 14" in output
    assert "Traceback" not in output
    assert "✗ прервано" in output.split("Итог лекции")[1]
