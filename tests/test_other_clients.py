"""Шаг 20: pyarrow (C++), polars (Rust), rclone (Go) и aws читают то, что записали boto3 и DuckDB, —
на moto, Ceph по HTTP и по TLS со своим CA и на SeaweedFS. Прочитанное тест сверяет сам: своим
клиентом boto3 и pyarrow по байтам из S3, а не кодом лекции."""

import csv
import hashlib
import io
import re
import shutil
import subprocess

import pyarrow.parquet as pq
from conftest import DATA, lecture_env, run_step
from rich.cells import cell_len

STEP = "other_clients_read_s3.py"
CSV = "boto3/titanic.csv"
# (библиотека, что прочитано) — всегда; программы — когда они есть и запускаются.
LIBRARIES = [("pyarrow.fs", CSV), ("pyarrow.parquet", "titanic.parquet"),
             ("pyarrow.dataset", "titanic_by_class/"), ("polars", CSV), ("polars", "titanic.parquet"),
             ("polars", "titanic_by_class/")]
PROGRAMS = {"rclone": ("rclone cat", CSV), "aws": ("aws s3 cp", CSV)}


def runnable(tool: str) -> bool:
    """Как решает шаг: программа в PATH и `--version` отвечает кодом 0."""
    if shutil.which(tool) is None:
        return False
    try:
        return subprocess.run([tool, "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def table_rows(output: str) -> list[list[str]]:
    """Строки таблиц шага: язык, библиотека, что прочитано, строк / SHA-256, как boto3."""
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines()
            if line.startswith("│ ")]
    return [row for row in rows if len(row) == 5]


def write_and_read(servers, tmp_path, **extra_env) -> tuple[str, list[str], dict]:
    """Шаги 6, 3 и 8 пишут, шаг 20 читает на двух эндпоинтах; вывод, бакеты и окружение."""
    env, buckets = lecture_env(tmp_path, servers)
    env.update(COLUMNS="80", **extra_env)
    for writer in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py"):
        result = run_step(writer, env, tmp_path)
        assert result.returncode == 0, f"{writer}\n{result.stdout}{result.stderr}"
    result = run_step(STEP, env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "2 из 2 эндпоинтов: ОК" in result.stdout, output
    return output, buckets, env


def expected_reads() -> list[tuple[str, str]]:
    return LIBRARIES + [read for tool, read in PROGRAMS.items() if runnable(tool)]


def survival(classes, survived) -> dict[int, tuple[int, int]]:
    counted: dict[int, tuple[int, int]] = {}
    for pclass, alive in zip(classes, survived, strict=True):
        n, s = counted.get(int(pclass), (0, 0))
        counted[int(pclass)] = (n + 1, s + int(alive))
    return counted


def check_independently(server, bucket: str, output: str) -> None:
    """Свой клиент теста: байты CSV — те же, что в файле данных и в выводе шага; Parquet и разбиение
    DuckDB, прочитанные по байтам из S3, дают те же строки и ту же выживаемость, что CSV."""
    s3 = server.client()
    body = s3.get_object(Bucket=bucket, Key=CSV)["Body"].read()
    assert body == DATA.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    assert f"{digest[:8]}…" in output
    records = list(csv.DictReader(io.StringIO(body.decode())))
    expected = survival([r["Pclass"] for r in records], [r["Survived"] for r in records])
    parquet = s3.get_object(Bucket=f"{bucket}-duckdb", Key="titanic.parquet")["Body"].read()
    table = pq.read_table(io.BytesIO(parquet))
    assert survival(table["Pclass"].to_pylist(), table["Survived"].to_pylist()) == expected
    listing = s3.list_objects_v2(Bucket=f"{bucket}-duckdb", Prefix="titanic_by_class/")
    keys = sorted(item["Key"] for item in listing.get("Contents", []))
    assert keys and all(re.fullmatch(r"titanic_by_class/Pclass=\d/data_0\.parquet", key) for key in keys), keys
    by_class = {}
    for key in keys:
        part = pq.read_table(io.BytesIO(s3.get_object(Bucket=f"{bucket}-duckdb", Key=key)["Body"].read()))
        pclass = int(key.split("=")[1].split("/")[0])
        by_class[pclass] = (part.num_rows, sum(part["Survived"].to_pylist()))
    assert by_class == expected
    assert f"{len(records)} · {digest[:8]}…" in output


def test_other_clients_read_what_boto3_and_duckdb_wrote(servers, tmp_path):
    output, buckets, _ = write_and_read(servers, tmp_path)
    rows = table_rows(output)
    reads = expected_reads()
    for library, what in reads:
        found = [row for row in rows if row[1:3] == [library, what]]
        assert len(found) == 2, f"{library} {what}: {found}\n{output}"
        assert all(row[4] == "✓" for row in found), f"{library} {what}: {found}\n{output}"
    assert [row[1] for row in rows].count("boto3") == 2  # эталон — у каждого эндпоинта
    assert output.count(f"✓ все {len(reads)} чтений совпали с boto3") == 2, output
    too_wide = [line for line in output.splitlines() if cell_len(line) > 80]
    assert not too_wide, "\n".join(too_wide)
    for server, bucket in zip(servers, buckets, strict=True):
        check_independently(server, bucket, output)


def test_private_ca_reaches_every_stack_despite_the_users_tls_variables(servers_of, tmp_path):
    """Ceph по TLS с частным CA (<ИМЯ>_CA_BUNDLE) — и окружение, в котором легко ошибиться: AWS_CA_BUNDLE
    ломает rclone (LoadCustomCABundleError), неверный SSL_CERT_FILE — polars, если шаг его не заменит."""
    servers = servers_of("ceph-tls")
    assert all(server.ca_bundle for server in servers)
    output, buckets, _ = write_and_read(servers, tmp_path, AWS_CA_BUNDLE=servers[0].ca_bundle,
                                        SSL_CERT_FILE=str(tmp_path / "no-such-ca.pem"))
    rows = table_rows(output)
    for library, what in expected_reads():
        assert [row[4] for row in rows if row[1:3] == [library, what]] == ["✓", "✓"], output
    for server, bucket in zip(servers, buckets, strict=True):
        check_independently(server, bucket, output)


def test_missing_programs_are_one_line_each(moto_servers, tmp_path):
    """rclone нет в PATH, aws — прослойка, которая не запускается (как pyenv без программы): по строке «·»,
    остальные клиенты читают, шаг проходит."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shim = folder / "aws"
    shim.write_text("#!/bin/sh\necho 'pyenv: aws: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    env, _ = lecture_env(tmp_path, moto_servers)
    env["PATH"] = str(folder)
    for writer in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py"):
        assert run_step(writer, env, tmp_path).returncode == 0, writer
    result = run_step(STEP, env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "· rclone нет в PATH — пропускаю" in result.stdout
    assert "· aws не запускается (код 127) — пропускаю" in result.stdout
    assert [line for line in result.stdout.splitlines() if line.startswith("·")] == [
        "· rclone нет в PATH — пропускаю", "· aws не запускается (код 127) — пропускаю"]
    libraries = {row[1] for row in table_rows(result.stdout)}
    assert libraries == {"boto3", "pyarrow.fs", "pyarrow.parquet", "pyarrow.dataset", "polars"}, libraries
    assert result.stdout.count(f"✓ все {len(LIBRARIES)} чтений совпали с boto3") == 2
