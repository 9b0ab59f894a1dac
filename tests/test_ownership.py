"""Лекция удаляет и отменяет только то, что записала сама — по журналу: точные ключи, VersionId,
UploadId и созданные ею бакеты. Похожие имена пользователя, его версии и его загрузки не трогаются."""

import subprocess
import sys
import time

from conftest import DATA, ROOT, base_env, lecture_env, proxied, run_step, unique_bucket
from faults import FaultProxy, Proxy, every, hang, status


def names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def keys(s3, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def uploads(s3, bucket: str) -> set[tuple[str, str]]:
    return {(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}


# Похожие на лекцию объекты пользователя: раньше cleanup.py удалял их по шаблонам extras/.+, Pclass=\d+, pushdown/.+
LOOK_ALIKES = {"": ["extras/user-notes.txt", "boto3/titanic-copy.csv"],
               "-duckdb": ["pushdown/my-events.parquet", "titanic_by_class/Pclass=9/data_0.parquet"],
               "-ver": ["extras/versioned-notes.txt"]}


def test_cleanup_removes_exactly_what_the_lecture_wrote(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    first, second = (server.client() for server in servers)
    writers = ["create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py", "pandas_dataframe_to_s3.py",
               "create_remove_bucket.py", "object_metadata.py", "versioning.py", "multipart_upload.py"]
    for script in writers:
        args = ["6"] if script == "multipart_upload.py" else []
        assert run_step(script, env, tmp_path, *args).returncode == 0, script
    for suffix, look_alikes in LOOK_ALIKES.items():
        for key in look_alikes:
            first.put_object(Bucket=buckets[0] + suffix, Key=key, Body=b"the user's own")

    dry = run_step("cleanup.py", env, tmp_path)
    assert dry.returncode == 0, dry.stdout
    assert "boto3/titanic.csv" in dry.stdout and "titanic_by_class/Pclass=1/data_0.parquet" in dry.stdout
    for key in [key for look_alikes in LOOK_ALIKES.values() for key in look_alikes]:
        assert key not in dry.stdout, key
    assert f"{buckets[0]}-duckdb" in names(first)  # пробный запуск ничего не удалил

    done = run_step("cleanup.py", env, tmp_path, "--yes")
    assert done.returncode == 0, done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert f"! бакет {buckets[0]}-duckdb: в нём чужих объектов — 2, бакет оставлен" in done.stdout
    assert keys(first, buckets[0]) == set(LOOK_ALIKES[""])
    assert keys(first, f"{buckets[0]}-duckdb") == set(LOOK_ALIKES["-duckdb"])
    assert keys(first, f"{buckets[0]}-ver") == set(LOOK_ALIKES["-ver"])
    assert f"{buckets[0]}-pandas" not in names(first)
    # Второй эндпоинт: чужого нет — остался только основной бакет (его создавала не лекция), и он пуст.
    assert names(second) & {buckets[1] + suffix for suffix in ("", "-duckdb", "-pandas", "-ver")} == {buckets[1]}
    assert keys(second, buckets[1]) == set()
    again = run_step("cleanup.py", env, tmp_path)
    assert "нечего" in again.stdout
    for script in ("create_bucket.py", "duckdb_copy_to_s3.py"):  # бакеты лекции создаются снова
        assert run_step(script, env, tmp_path).returncode == 0, script


def test_cleanup_keeps_the_users_own_versions_in_a_versioned_main_bucket(servers, tmp_path):
    """Раньше «все версии ключей лекции» стирали и более раннюю версию boto3/titanic.csv, записанную пользователем."""
    env, buckets = lecture_env(tmp_path, servers)
    s3 = servers[0].client()
    s3.put_bucket_versioning(Bucket=buckets[0], VersioningConfiguration={"Status": "Enabled"})
    mine = s3.put_object(Bucket=buckets[0], Key="boto3/titanic.csv", Body=b"the user's own titanic")["VersionId"]
    assert run_step("upload_object.py", env, tmp_path).returncode == 0
    assert s3.get_object(Bucket=buckets[0], Key="boto3/titanic.csv")["Body"].read() == DATA.read_bytes()

    done = run_step("cleanup.py", env, tmp_path, "--yes")
    assert done.returncode == 0, done.stdout
    versions = s3.list_object_versions(Bucket=buckets[0], Prefix="boto3/titanic.csv")
    assert [v["VersionId"] for v in versions.get("Versions", [])] == [mine]
    assert s3.get_object(Bucket=buckets[0], Key="boto3/titanic.csv")["Body"].read() == b"the user's own titanic"


def test_cleanup_works_on_a_server_without_list_object_versions(moto_servers, tmp_path):
    """Раньше NotImplemented на ?versions — и ничего не убиралось, даже в пробном запуске."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    no_versions = every(lambda r: status(501, "NotImplemented") if "versions" in r.query else None)
    with FaultProxy.for_server(moto_servers[0], rule=no_versions) as proxy:
        env = dict(env, FIRST_ENDPOINT_URL=proxy.url)  # журнал помнит адрес: вся лекция — через прокси
        for script in ("create_bucket.py", "upload_object.py", "duckdb_copy_to_s3.py"):
            assert run_step(script, env, tmp_path).returncode == 0, script
        dry = run_step("cleanup.py", env, tmp_path)
        assert dry.returncode == 0, dry.stdout
        assert "titanic_by_class/Pclass=1/data_0.parquet" in dry.stdout
        done = run_step("cleanup.py", env, tmp_path, "--yes")
        assert done.returncode == 0, done.stdout
        assert any("versions" in exchange.query for exchange in proxy.log)
    s3 = moto_servers[0].client()
    assert keys(s3, buckets[0]) == set()
    assert not names(s3) & {f"{buckets[0]}-duckdb", f"{buckets[0]}-pandas"}


def test_step_5_removes_its_bucket_even_when_a_later_request_fails(moto_servers, tmp_path):
    """CreateBucket прошёл, следующий запрос (ListBuckets) — нет: раньше <бакет>-tmp оставался навсегда."""
    env, buckets = lecture_env(tmp_path, moto_servers)
    list_fails = every(lambda r: status(503, "ServiceUnavailable") if r.method == "GET" and r.path == "/" else None)
    with FaultProxy.for_server(moto_servers[0], rule=list_fails) as proxy:
        result = run_step("create_remove_bucket.py", dict(env, FIRST_ENDPOINT_URL=proxy.url), tmp_path)
        assert ("PUT", f"/{buckets[0]}-tmp") in [(e.method, e.path) for e in proxy.log]
    assert result.returncode == 1, result.stdout
    assert "✗ first: HTTP 503 ServiceUnavailable" in result.stdout
    assert f"{buckets[0]}-tmp" not in names(moto_servers[0].client())
    assert run_step("create_remove_bucket.py", env, tmp_path).returncode == 0  # следующий запуск проходит


def test_create_remove_bucket_leaves_a_bucket_it_did_not_create(servers, tmp_path):
    env, buckets = lecture_env(tmp_path, servers)
    s3 = servers[0].client()
    s3.create_bucket(Bucket=f"{buckets[0]}-tmp")
    s3.put_object(Bucket=f"{buckets[0]}-tmp", Key="precious.txt", Body=b"keep me")
    result = run_step("create_remove_bucket.py", env, tmp_path)
    assert result.returncode == 1
    assert "уже есть" in result.stdout and "не трогаю" in result.stdout
    assert s3.get_object(Bucket=f"{buckets[0]}-tmp", Key="precious.txt")["Body"].read() == b"keep me"
    assert "1 из 2 эндпоинтов: ОК" in result.stdout


# ── Оборванная загрузка: остаются только чужие загрузки ──────────────────────────────────────────

def start_upload(env, tmp_path):
    return subprocess.Popen([sys.executable, str(ROOT / "upload_object.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def wait_for_multipart(s3, bucket, process, key="boto3/titanic.csv", timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(k == key for k, _ in uploads(s3, bucket)):
            return
        if process.poll() is not None:
            raise AssertionError(f"загрузка закончилась раньше, чем началась составная:\n{process.communicate()}")
        time.sleep(0.05)
    raise AssertionError("составная загрузка так и не началась")


def one_endpoint(server, bucket, tmp_path, data, url=None):
    env = base_env(tmp_path)
    env.update(server.endpoint_env("first", bucket), S3_ENDPOINTS="first", TITANIC_CSV=str(data))
    if url:
        env["FIRST_ENDPOINT_URL"] = url
    return env


def test_a_failing_step_aborts_only_its_own_uploads(fresh_bucket, tmp_path, big_csv):
    """Раньше сбой шага отменял все «похожие» загрузки бакета: и загрузку пользователя, и загрузку другой лекции
    на тот же ключ. Теперь — только свою, по UploadId."""
    server, s3, bucket = fresh_bucket
    users = s3.create_multipart_upload(Bucket=bucket, Key="extras/backup.bin")["UploadId"]
    other_lecture = s3.create_multipart_upload(Bucket=bucket, Key="boto3/titanic.csv")["UploadId"]
    with Proxy(server.port, cut_after=3_000_000) as proxy:
        env = one_endpoint(server, bucket, tmp_path, big_csv, proxied(server, proxy))
        result = run_step("upload_object.py", env, tmp_path)
    assert result.returncode in (1, 3), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert uploads(s3, bucket) == {("extras/backup.bin", users), ("boto3/titanic.csv", other_lecture)}
    assert not keys(s3, bucket) & {"boto3/titanic.csv"}, "остался полуобъект"


def test_a_rerun_aborts_the_upload_a_broken_server_left_behind(moto_servers, tmp_path, big_csv):
    """Сервер завис посреди составной загрузки — отменить её было некому. Следующий успешный запуск
    отменяет её (UploadId записан в журнале) и говорит об этом; раньше о ней молчали."""
    server = moto_servers[0]
    s3, bucket = server.client(), unique_bucket()
    s3.create_bucket(Bucket=bucket)
    with FaultProxy.for_server(server) as proxy:  # тот же адрес эндпоинта и при повторе: журнал — по аккаунту
        env = one_endpoint(server, bucket, tmp_path, big_csv, proxy.url)
        process = start_upload(env, tmp_path)
        wait_for_multipart(s3, bucket, process)
        proxy.rule = every(hang())  # дальше сервер молчит: ни частей, ни отмены
        stdout, stderr = process.communicate(timeout=90)
        assert process.returncode in (1, 3), stdout
        assert "Traceback" not in stdout + stderr and "✗ first: таймаут" in stdout
        left = uploads(s3, bucket)
        assert [key for key, _ in left] == ["boto3/titanic.csv"], left

        proxy.rule = None  # сервер снова отвечает
        rerun = run_step("upload_object.py", env, tmp_path)
    assert rerun.returncode == 0, rerun.stdout
    assert f"! отменена незавершённая загрузка прошлого запуска: {bucket}/boto3/titanic.csv" in rerun.stdout
    assert uploads(s3, bucket) == set()


def test_connection_cut_mid_upload_leaves_nothing_partial(fresh_bucket, tmp_path, big_csv):
    server, s3, bucket = fresh_bucket
    with Proxy(server.port, cut_after=3_000_000) as proxy:
        url = proxied(server, proxy)
        result = run_step("upload_object.py", one_endpoint(server, bucket, tmp_path, big_csv, url), tmp_path)
    assert result.returncode in (1, 3), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert len([line for line in result.stdout.splitlines() if line.startswith("✗ first:")]) == 1
    assert uploads(s3, bucket) == set() and not keys(s3, bucket)
    assert run_step("upload_object.py", one_endpoint(server, bucket, tmp_path, big_csv), tmp_path).returncode == 0


def test_server_killed_mid_upload_is_one_line(server_log_dir, tmp_path, big_csv):
    from conftest import start_moto

    process, server = start_moto(server_log_dir)
    s3, bucket = server.client(), unique_bucket()
    s3.create_bucket(Bucket=bucket)
    try:
        with Proxy(server.port, rate=4_000_000) as proxy:
            upload = start_upload(one_endpoint(server, bucket, tmp_path, big_csv, proxied(server, proxy)), tmp_path)
            wait_for_multipart(s3, bucket, upload)
            process.kill()
            stdout, stderr = upload.communicate(timeout=60)
    finally:
        process.kill()
    assert upload.returncode in (1, 3), stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert len([line for line in stdout.splitlines() if line.startswith("✗ first:")]) == 1, stdout
