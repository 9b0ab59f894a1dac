"""Файлы проекта не расходятся друг с другом: README ↔ CI, .env.example ↔ docker-compose ↔ local_s3."""

import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, documentation
from dotenv import dotenv_values
from extra_servers import WEED_RELEASE, seaweedfs_missing, weed_binary, weed_pin

# Эндпоинт в .env.example → его сервис в docker-compose.yml и опубликованный порт S3.
# Эндпоинт local — MinIO в Docker или встроенный local_s3.py на том же порту; имя не «minio»,
# чтобы его не путали с клиентом minio.
COMPOSE_ENDPOINTS = {"LOCAL": ("minio", 9000), "SEAWEEDFS": ("seaweedfs", 8333)}


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_ci_runs_the_test_command_from_readme():
    """README даёт команду тестов в «Двух командах», docs/testing.md — в разделе «Тесты»; CI — та же."""
    readme = (ROOT / "README.md").read_text()
    chain = re.search(r"Тесты \(команда та же, что запускает CI\):\s+```bash\n(.+)\n```", readme).group(1)
    testing = (ROOT / "docs" / "testing.md").read_text()
    command = re.search(r"## Тесты\s+```bash\n(.+)\n```", testing).group(1)
    assert command == "poetry run pytest" and chain.endswith(f"&& {command}"), (chain, command)
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command


def test_compose_pins_minio_from_quay():
    images = {name: service["image"] for name, service in compose_services().items()}
    assert images["minio"].startswith("quay.io/minio/minio:"), images
    minio = [image for image in images.values() if "minio" in image]  # сам MinIO и mc в init-контейнерах
    assert all(i.startswith("quay.io/minio/") and ":RELEASE." in i for i in minio), images


def test_compose_pins_seaweedfs_release():
    """SeaweedFS — образ с Docker Hub на номере релиза (никогда не latest); других образов нет."""
    images = {name: service["image"] for name, service in compose_services().items()}
    assert re.fullmatch(r"chrislusf/seaweedfs:\d+\.\d+", images["seaweedfs"]), images
    assert {i for i in images.values() if "minio" not in i} == {images["seaweedfs"]}, images


def test_readme_and_compose_name_the_seaweedfs_release_that_tests_build():
    """tests/seaweedfs.version — одно место: номер выпуска и его псевдоверсия модуля Go; README и образ
    в docker-compose.yml называют тот же выпуск."""
    pin = weed_pin()
    assert re.fullmatch(r"\d+\.\d+", pin["release"]), pin
    assert re.fullmatch(r"v0\.0\.0-\d{14}-[0-9a-f]{12}", pin["module"]), pin
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", pin["go"]), pin
    assert compose_services()["seaweedfs"]["image"] == f"chrislusf/seaweedfs:{pin['release']}"
    compose = (ROOT / "docker-compose.yml").read_text()
    assert set(re.findall(r"[Рр]елиз\w* (\d+\.\d+)", compose)) == {pin["release"]}
    readme = "\n".join(documentation().values())  # README.md и docs/
    assert set(re.findall(r"seaweedfs:(\d+\.\d+)", readme)) == {pin["release"]}
    row = re.search(r"^\| SeaweedFS \(`weed mini`[^|]*\| ([^|]+) \|", readme, re.M)
    assert row and row.group(1).strip() == pin["release"], row
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tests/seaweedfs.version" in ci and "4.53" not in ci  # .ci/run берёт номер из файла, своего нет


@pytest.mark.seaweedfs
def test_built_weed_is_the_pinned_release():
    """Собранный из псевдоверсии weed называет себя выпуском из tests/seaweedfs.version."""
    from conftest import require_server, wait_for_weed_build

    wait_for_weed_build()
    require_server(seaweedfs_missing(), "SeaweedFS")
    result = subprocess.run([str(weed_binary()), "version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert f" {WEED_RELEASE} " in result.stdout, result.stdout  # «version 30GB 4.53 7506e5f9… linux amd64»


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="нет docker-compose: apt-get install docker-compose")
def test_compose_file_is_valid(tmp_path):
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "9000" in result.stdout and "9001" in result.stdout and "8333" in result.stdout


def test_env_example_matches_compose_and_local_s3():
    env = dotenv_values(ROOT / ".env.example")
    assert env["S3_ENDPOINTS"] == "local,seaweedfs"  # docker-compose up -d — и лекция на двух реализациях
    compose = (ROOT / "docker-compose.yml").read_text()
    services = compose_services()
    for prefix, (service, port) in COMPOSE_ENDPOINTS.items():
        assert env[f"{prefix}_ENDPOINT_URL"] == f"http://127.0.0.1:{port}", prefix
        assert env[f"{prefix}_REGION"] == "us-east-1", prefix
        assert f"{port}:{port}" in services[service]["ports"], service
        assert "healthcheck" in services[service], service
        assert services[f"{service}-init"]["depends_on"][service]["condition"] == "service_healthy"
        assert f"${{{prefix}_BUCKET:-{env[f'{prefix}_BUCKET']}}}" in str(services[f"{service}-init"]["entrypoint"])
        for variable in (f"{prefix}_ACCESS_KEY", f"{prefix}_SECRET_KEY", f"{prefix}_BUCKET"):
            assert f"${{{variable}:-{env[variable]}}}" in compose, variable
    local_s3 = (ROOT / "local_s3.py").read_text()
    assert f'default="{env["LOCAL_BUCKET"]}"' in local_s3 and "default=9000" in local_s3


def test_gitignore_keeps_secrets_and_data_out():
    """.venv без косой черты: под ним и каталог, и ссылка на venv в другом месте (её git хранил бы файлом)."""
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {".env", "titanic.csv", ".venv", "venv"} <= set(ignored)


def test_benchmark_has_a_floor_for_every_step():
    sys.path.insert(0, str(ROOT))
    import run_demo
    from bench.step_cost import FLOOR, NOTES

    assert set(FLOOR) == {script for _, script, _ in run_demo.STEPS + run_demo.EXTRAS}
    assert set(NOTES) <= set(FLOOR)
    for script, program in FLOOR.items():  # пол — программа на Python, а не просто строка
        compile(program, f"<пол {script}>", "exec")


def test_readme_quotes_what_step_3_prints_without_the_data_file(tmp_path):
    """Строки таблицы «Если что-то пошло не так» о файле данных — дословно то, что печатает шаг 3."""
    from conftest import base_env, run_step

    readme = (ROOT / "docs" / "troubleshooting.md").read_text()
    quoted = r"^\| `(Ошибка настройки: (?:нет файла данных|не удалось скачать)[^`]*?)(?: …)?` \|"
    rows = re.findall(quoted, readme, re.M)
    assert len(rows) == 2, rows
    env = dict(base_env(tmp_path), S3_ENDPOINTS="x", X_ENDPOINT_URL="http://127.0.0.1:9", X_ACCESS_KEY="a",
               X_SECRET_KEY="b", X_BUCKET="lecture", TITANIC_CSV=str(tmp_path / "absent.csv"))
    missing = run_step("upload_object.py", env, tmp_path).stdout.replace("\n", " ")
    assert rows[1].removesuffix(" …") in missing, missing
    if not (ROOT / "titanic.csv").exists():  # на чистом клоне (CI): шаг 3 пытается скачать файл
        del env["TITANIC_CSV"]
        offline = dict(env, HTTPS_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
        assert rows[0] in run_step("upload_object.py", offline, tmp_path).stdout.replace("\n", " ")


def test_steps_import_only_the_heavy_libraries_they_use(tmp_path, moto_servers):
    """DuckDB-шаги не тянут pandas и pyarrow (их тянут параметры запросов DuckDB — поэтому литералы),
    шаги boto3 и minio — ни pandas, ни DuckDB."""
    from conftest import lecture_env, run_step

    env, _ = lecture_env(tmp_path, moto_servers)
    for script in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py"):
        assert run_step(script, env, tmp_path).returncode == 0, script
    for script, banned in [("list_bucket.py", {"pandas", "duckdb", "pyarrow"}),
                           ("duckdb_copy_to_s3.py", {"pandas", "pyarrow"}),
                           ("duckdb_read_from_s3.py", {"pandas", "pyarrow"})]:
        result = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / script)], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout
        imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
        assert not banned & imported, f"{script}: {sorted(banned & imported)}"
