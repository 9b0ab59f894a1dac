"""Файлы проекта не расходятся друг с другом: README ↔ CI, .env.example ↔ docker-compose ↔ local_s3."""

import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT
from dotenv import dotenv_values


def test_ci_runs_the_test_command_from_readme():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"## Тесты\s+```bash\n(.+)\n```", readme).group(1)
    assert command == "poetry run pytest"
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command


def test_compose_pins_minio_from_quay():
    compose = (ROOT / "docker-compose.yml").read_text()
    images = re.findall(r"image:\s*(\S+)", compose)
    assert images and all(i.startswith("quay.io/minio/") and ":RELEASE." in i for i in images), images


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="нет docker-compose: apt-get install docker-compose")
def test_compose_file_is_valid(tmp_path):
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "9000" in result.stdout and "9001" in result.stdout


def test_env_example_matches_compose_and_local_s3():
    env = dotenv_values(ROOT / ".env.example")
    assert env["S3_ENDPOINTS"] == "minio"
    assert env["MINIO_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    compose = (ROOT / "docker-compose.yml").read_text()
    for variable in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET"):
        assert f"${{{variable}:-{env[variable]}}}" in compose, variable
    local_s3 = (ROOT / "local_s3.py").read_text()
    assert f'default="{env["MINIO_BUCKET"]}"' in local_s3 and "default=9000" in local_s3


def test_gitignore_keeps_secrets_and_data_out():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {".env", "titanic.csv", ".venv/"} <= set(ignored)


def test_benchmark_has_a_floor_for_every_step():
    sys.path.insert(0, str(ROOT))
    import run_demo
    from bench.step_cost import FLOOR

    assert set(FLOOR) == {script for _, script, _ in run_demo.STEPS + run_demo.EXTRAS}
