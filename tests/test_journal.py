"""Журнал, который не ломается: испорченный, на полном диске, в каталоге только для чтения; один сервер
под разными именами; загрузка DuckDB, UploadId которой он не сообщил; два студента в одном бакете."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, base_env, journal_path, lecture_env, read_journal, run_step, unique_bucket
from faults import FaultProxy, first, status

WRITERS = ["create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py"]


def keys(s3, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def bucket_names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def multipart_uploads(s3, bucket: str) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def clean(result) -> str:
    """Вывод шага без трассировки, строки склеены: rich переносит длинные строки по ширине экрана."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return " ".join(result.stdout.split())


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str):
    """tmpfs с опциями (size=64k, ro) — где можно смонтировать (root в CI); иначе None."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield None
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True).returncode:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@contextlib.contextmanager
def read_only_dir(where: Path):
    """Каталог, куда нельзя писать: tmpfs ro для root (ему chmod не помеха), chmod 555 для остальных."""
    with mounted_tmpfs(where, "ro,size=64k") as mounted:
        if mounted is None:
            where.chmod(0o555)
        try:
            yield where
        finally:
            if mounted is None:
                where.chmod(0o755)


def test_a_truncated_journal_is_named_and_never_stops_a_reading_step(moto_servers, tmp_path):
    """Раньше: JSONDecodeError в каждом шаге, даже в list_bucket.py, и в cleanup.py."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    assert run_step("upload_object.py", env, tmp_path).returncode == 0
    journal = journal_path(tmp_path)
    journal.write_bytes(journal.read_bytes()[:3000])  # head -c 3000
    s3 = moto_servers[0].client()
    s3.delete_object(Bucket=buckets[0], Key="boto3/titanic.csv")

    listing = run_step("list_bucket.py", env, tmp_path)
    assert listing.returncode == 0, listing.stdout
    assert f"журнал лекции {journal} испорчен" in clean(listing)
    assert clean(listing).count("испорчен") == 1  # одна строка, а не на каждый эндпоинт

    writing = run_step("upload_object.py", env, tmp_path)
    assert writing.returncode == 2, writing.stdout
    assert f"Ошибка настройки: журнал лекции {journal} испорчен" in clean(writing)
    assert "Переименуйте его" in clean(writing)
    assert "boto3/titanic.csv" not in keys(s3, buckets[0])  # без журнала в S3 не пишем

    cleanup = run_step("cleanup.py", env, tmp_path)
    assert cleanup.returncode == 2 and "испорчен" in clean(cleanup), cleanup.stdout

    journal.rename(journal.with_name("journal.broken"))  # как советует строка: лекция начинает новый
    assert run_step("upload_object.py", env, tmp_path).returncode == 0


def test_a_full_disk_under_the_journal_means_nothing_is_written(moto_servers, tmp_path):
    """Раньше: OSError 28 трассировкой, а объект уже лежал в S3 и в журнал не попал — не убрать никогда."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    with mounted_tmpfs(tmp_path / "state", "size=64k") as state:
        if state is None:
            pytest.skip("нужен root, чтобы смонтировать маленький tmpfs")  # в CI тесты идут от root
        with contextlib.suppress(OSError), (state / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        env = dict(env, S3_LECTURE_STATE_DIR=str(state))
        result = run_step("upload_object.py", env, tmp_path)
        assert result.returncode == 2, result.stdout
        assert f"Ошибка настройки: журнал лекции {state / 'journal.sqlite'} не записать" in clean(result)
        assert "S3_LECTURE_STATE_DIR" in clean(result)
        s3 = moto_servers[0].client()
        assert keys(s3, buckets[0]) == set(), "объект записан мимо журнала"
        assert run_step("list_bucket.py", env, tmp_path).returncode == 0  # читать — можно


def test_a_read_only_working_directory_does_not_matter(moto_servers, tmp_path):
    """Раньше: OSError 30 трассировкой; шаг 5 оставлял <бакет>-tmp, и его не знала уборка."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    with read_only_dir(tmp_path / "talk") as talk:
        for script in ("upload_object.py", "create_remove_bucket.py"):
            result = run_step(script, env, talk)
            assert result.returncode == 0, clean(result)
    s3 = moto_servers[0].client()
    assert f"{buckets[0]}-tmp" not in bucket_names(s3)
    elsewhere = tmp_path / "other-clone"
    elsewhere.mkdir()
    done = run_step("cleanup.py", env, elsewhere, "--yes")  # журнал — у пользователя, а не в каталоге
    assert done.returncode == 0, done.stdout
    assert keys(s3, buckets[0]) == set()


def test_a_read_only_state_directory_stops_writing_steps_before_any_request(moto_servers, tmp_path):
    env, buckets = lecture_env(tmp_path, moto_servers)
    with read_only_dir(tmp_path / "state") as state:
        env = dict(env, S3_LECTURE_STATE_DIR=str(state / "s3-lecture"))
        result = run_step("create_remove_bucket.py", env, tmp_path)
        assert result.returncode == 2, result.stdout
        assert "Ошибка настройки: журнал лекции" in clean(result)
        assert f"{buckets[0]}-tmp" not in bucket_names(moto_servers[0].client())
        assert run_step("list_objects.py", env, tmp_path).returncode == 0


def test_duckdb_upload_after_a_5xx_is_aborted_and_never_passed_as_none(moto_servers, tmp_path):
    """Раньше: журнал {"upload": null}, загрузка оставалась на сервере, cleanup.py падал с ParamValidationError.
    DuckDB не сообщает UploadId (тело ответа POST ?uploads в его журнал не попадает): загрузку находит
    ListMultipartUploads по точному ключу; загрузка пользователя на соседнем ключе остаётся."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    assert run_step("create_bucket.py", env, tmp_path).returncode == 0
    s3 = moto_servers[0].client()
    bucket = f"{buckets[0]}-duckdb"
    users = s3.create_multipart_upload(Bucket=bucket, Key="titanic_by_class/Pclass=2/mine.parquet")["UploadId"]
    fail_a_part = first(1, lambda r: status(500) if r.method == "PUT" and "Pclass%3D1" in r.path else None)
    with FaultProxy.for_server(moto_servers[0], rule=fail_a_part) as proxy:
        result = run_step("duckdb_copy_to_s3.py", dict(env, FIRST_ENDPOINT_URL=proxy.url), tmp_path)
        assert any(exchange.status == 500 for exchange in proxy.log), proxy.log
    assert result.returncode == 1, result.stdout
    assert "✗ first: HTTP 500" in clean(result)
    # Свои загрузки отменены; загрузка пользователя — нет.
    assert multipart_uploads(s3, bucket) == [("titanic_by_class/Pclass=2/mine.parquet", users)]
    assert all(entry["upload"] for entry in read_journal(tmp_path) if entry["op"] == "upload")
    done = run_step("cleanup.py", env, tmp_path, "--yes")
    assert done.returncode == 0, clean(done)
    assert multipart_uploads(s3, bucket) == [("titanic_by_class/Pclass=2/mine.parquet", users)]


def test_localhost_and_127_0_0_1_are_one_server(moto_servers, tmp_path):
    """Раньше уборка через localhost говорила «лекция здесь ничего не оставила»."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    assert run_step("upload_object.py", env, tmp_path).returncode == 0
    as_localhost = dict(env, FIRST_ENDPOINT_URL=env["FIRST_ENDPOINT_URL"].replace("127.0.0.1", "localhost"))
    done = run_step("cleanup.py", as_localhost, tmp_path, "--yes")
    assert done.returncode == 0, done.stdout
    assert "boto3/titanic.csv" in clean(done)
    assert keys(moto_servers[0].client(), buckets[0]) == set()


def test_cleanup_through_another_address_names_the_one_in_the_journal(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    with FaultProxy.for_server(moto_servers[0]) as proxy:
        assert run_step("upload_object.py", dict(env, FIRST_ENDPOINT_URL=proxy.url), tmp_path).returncode == 0
    dry = run_step("cleanup.py", env, tmp_path)  # тот же сервер, но напрямую: другой адрес в журнале
    assert dry.returncode == 0, dry.stdout
    assert f"в журнале есть записи этого ключа для {proxy.url}" in clean(dry)
    assert f"FIRST_ENDPOINT_URL={proxy.url}" in clean(dry)


def test_two_students_in_one_bucket_clean_up_only_their_own(servers, tmp_path):
    """Раньше cleanup.py студента A удалял восемь объектов студента B (те же байты — тот же ETag)
    и оба производных бакета; у B шаг 9 говорил NoSuchBucket, а его уборка — «ничего не оставила»."""
    env, buckets = lecture_env(tmp_path, servers)
    student_a, student_b = tmp_path / "a", tmp_path / "b"
    for home in (student_a, student_b):
        home.mkdir()
    env_a = dict(env, HOME=str(student_a))  # свой компьютер — свой журнал
    env_b = dict(env, HOME=str(student_b))
    for script in WRITERS:
        assert run_step(script, env_a, student_a).returncode == 0, script
    time.sleep(2.1)  # B пишет те же ключи теми же байтами, но позже (больше чем на секунду)
    for script in WRITERS:
        assert run_step(script, env_b, student_b).returncode == 0, script
    s3 = servers[0].client()
    written = {bucket: keys(s3, bucket) for bucket in (buckets[0], f"{buckets[0]}-duckdb", f"{buckets[0]}-pandas")}
    assert sum(len(names) for names in written.values()) >= 8

    done = run_step("cleanup.py", env_a, student_a, "--yes")
    assert done.returncode == 0, done.stdout
    assert "записаны позже лекции" in clean(done)
    assert {bucket: keys(s3, bucket) for bucket in written} == written  # у B ничего не пропало
    assert run_step("duckdb_read_from_s3.py", env_b, student_b).returncode == 0

    done_b = run_step("cleanup.py", env_b, student_b, "--yes")
    assert done_b.returncode == 0, done_b.stdout
    assert "boto3/titanic.csv" in clean(done_b)
    assert all(keys(s3, bucket) == set() for bucket in written)
    again = run_step("cleanup.py", env_a, student_a, "--yes")  # бакеты создал A: теперь в них пусто
    assert again.returncode == 0, again.stdout
    assert not bucket_names(s3) & {f"{buckets[0]}-duckdb", f"{buckets[0]}-pandas"}


def test_the_journal_of_the_previous_version_is_taken_over(moto_servers, tmp_path):
    """Журнал прошлой версии (.s3-lecture/journal.jsonl в каталоге запуска) переносится; испорченные строки
    пропускаются, а не роняют шаг."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    server = moto_servers[0]
    s3 = server.client()
    etag = s3.put_object(Bucket=buckets[0], Key="boto3/titanic.csv", Body=b"old run")["ETag"]
    import hashlib
    import json

    account = f"{server.url} {hashlib.sha256(server.access_key.encode()).hexdigest()[:12]}"
    old = tmp_path / ".s3-lecture" / "journal.jsonl"
    old.parent.mkdir()
    line = {"account": account, "time": time.time(), "op": "object", "bucket": buckets[0],
            "key": "boto3/titanic.csv", "version": None, "etag": etag}
    old.write_text(json.dumps(line) + "\n" + '{"account": "broken', encoding="utf-8")
    dry = run_step("cleanup.py", env, tmp_path)
    assert dry.returncode == 0, clean(dry)
    assert "boto3/titanic.csv" in dry.stdout
    assert not old.exists() and old.with_name("journal.jsonl.imported").exists()


def test_concurrent_lectures_share_one_journal(moto_servers, tmp_path):
    """Несколько лекций одного пользователя сразу: каждая запись — своя транзакция, все на месте."""
    env, _ = lecture_env(tmp_path, moto_servers)
    runs = []
    for n in range(4):
        bucket = unique_bucket()
        moto_servers[0].client().create_bucket(Bucket=bucket)
        cwd = tmp_path / f"run{n}"
        cwd.mkdir()
        runs.append((bucket, subprocess.Popen(
            [sys.executable, str(ROOT / "upload_object.py")], env=dict(env, S3_ENDPOINTS="first", FIRST_BUCKET=bucket),
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    for _, process in runs:
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 0, output
    objects = {(e["bucket"], e["key"]) for e in read_journal(tmp_path) if e["op"] == "object"}
    for bucket, _ in runs:
        assert {(bucket, "boto3/titanic.csv"), (bucket, "minio/titanic.csv")} <= objects


def test_journal_entries_are_keyed_by_account_not_only_by_address(moto_servers, tmp_path):
    env, _ = lecture_env(tmp_path, moto_servers)
    base = base_env(tmp_path)
    assert base["HOME"] == str(tmp_path)
    assert run_step("upload_object.py", env, tmp_path).returncode == 0
    entries = read_journal(tmp_path)
    assert entries and all(entry["state"] == "done" for entry in entries if entry["op"] == "object")
    assert {entry["address"] for entry in entries} == {server.url for server in moto_servers}
    assert all(moto_servers[0].access_key not in str(entry) for entry in entries)  # ключа в журнале нет
