"""versitygw и gofakes3 — серверы S3 на Go, которых здесь никто не писал: вся лекция с дополнительными
шагами (run_demo.py --no-pause --extras) и уборка проходят; чего сервер не умеет или что делает
по-своему — одной строкой «!» на эндпоинт, без ✗ и без трассировок. После уборки от лекции не остаётся
ничего: ни бакетов, кроме основных, ни объектов в основных, ни незавершённых загрузок.

Запуск только их: pytest -m "versitygw or gofakes3"
"""

import pytest
from conftest import lecture_env, run_step

KINDS = [pytest.param("versitygw", marks=pytest.mark.versitygw),
         pytest.param("versitygw-plain", marks=pytest.mark.versitygw),
         pytest.param("gofakes3", marks=pytest.mark.gofakes3)]


# Чего сервер не умеет или что делает по-своему — строки «!» лекции (каждая — по разу на эндпоинт).
LACKS = {
    "versitygw": [],
    "versitygw-plain": ["! версионирование: сервер не поддерживает (VersioningNotConfigured)"],
    "gofakes3": [
        "! метаданные: сервер сменил регистр имён (Client, Dataset) — в заголовках HTTP он не важен",
        "! теги объекта: сервер на GET ?tagging ответил самим объектом (GetObject)",
        "! теги после копирования: сервер на GET ?tagging ответил самим объектом (GetObject)",
        "! просроченная ссылка: сервер не проверяет срок",
        "! версионирование: сервер оборвал соединение на GET объекта, хотя до того отвечал "
        "(сбой сервера на этом запросе)",
        "! политика бакета: сервер без политики отдаёт объект анонимно (HTTP 200)",
    ],
}
NO_JAVA = "· шаг 21 пропущен: нет Java"


def leftovers(server, buckets: list[str]) -> list[str]:
    """Что осталось на сервере от лекции: чужие основным бакеты, объекты и загрузки в основных."""
    client = server.client()
    found = []
    for bucket in client.list_buckets()["Buckets"]:
        if bucket["Name"] not in buckets:
            found.append(f"бакет {bucket['Name']}")
    for bucket in buckets:
        listing = client.list_objects_v2(Bucket=bucket)
        for item in listing.get("Contents", []):
            found.append(f"{bucket}/{item['Key']}")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_lecture_with_extras_and_cleanup(servers_of, tmp_path, kind):
    servers = servers_of(kind)
    env, buckets = lecture_env(tmp_path, servers)
    # Spark (шаг 21) здесь не запускаем: его проверяет test_spark.py, а строку «·» без Java — этот тест.
    env["JAVA_HOME"] = str(tmp_path / "no-java")
    lecture = run_step("run_demo.py", env, tmp_path, "--no-pause", "--extras", timeout=900)
    cleanup = run_step("cleanup.py", env, tmp_path, "--yes")
    for result in (lecture, cleanup):
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Traceback" not in output and "✗" not in output, output
    warnings = [line for line in lecture.stdout.splitlines() if line.startswith("!")]
    assert sorted(warnings) == sorted(LACKS[kind] * 2), lecture.stdout
    assert any(line.startswith(NO_JAVA) for line in lecture.stdout.splitlines()), lecture.stdout
    # Уборка ни в чём не винит «кого-то другого»: всё записанное — лекции, и всё удалено.
    assert [line for line in cleanup.stdout.splitlines() if line.startswith("!")] == [], cleanup.stdout
    if kind == "gofakes3":  # ETag составной загрузки gofakes3 потом отдаёт как MD5 целого объекта
        assert cleanup.stdout.count("ETag составной загрузки") == 4, cleanup.stdout
    for server, bucket in zip(servers, buckets, strict=True):
        assert leftovers(server, [bucket]) == []
