"""Составные загрузки лекции: какие начаты этим процессом (по UploadId), какие брошены прошлыми
запусками (по журналу) — и их отмена. После сбоя и Ctrl-C лекция отменяет только свои загрузки,
а не всё, что похоже на её ключи.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import NamedTuple

from lecture import deadline, journal

_own: dict[str, Upload] = {}  # UploadId (или «?строка» журнала, пока не известен) → загрузка
_unnamed: dict[tuple, str | None] = {}  # (эндпоинт, бакет, ключ) → время начала загрузки без UploadId


class Upload(NamedTuple):
    """Составная загрузка лекции. upload=None — UploadId не известен (DuckDB его не сообщает):
    его находит ListMultipartUploads по точному ключу и времени начала around (часы сервера)."""
    bucket: str
    key: str
    upload: str | None
    owner: tuple[str, str] = ("", "")  # (адрес, аккаунт) — как в журнале
    around: str | None = None
    row: int | None = None


def _owner(endpoint) -> tuple[str, str]:
    return journal.address(endpoint.url), journal.account(endpoint.access_key)


def started(endpoint, bucket: str, key: str, upload: str) -> None:
    """Клиент показал UploadId начатой загрузки (в ответе или в адресе части)."""
    _unnamed.pop((endpoint, bucket, key), None)
    _own[upload] = Upload(bucket, key, upload, _owner(endpoint))


def started_unnamed(endpoint, bucket: str, key: str, around: str | None) -> None:
    """Загрузка начата, а UploadId не виден (DuckDB не хранит тела ответов): узнаем по частям."""
    _unnamed[(endpoint, bucket, key)] = around


def part_seen(endpoint, bucket: str, key: str, upload: str) -> None:
    """UploadId в адресе части — при любом статусе: часть могла получить 500, а загрузка на сервере уже есть."""
    if upload not in _own:
        started(endpoint, bucket, key, upload)
        journal.record(endpoint, "upload", bucket, key, upload=upload)
    _unnamed.pop((endpoint, bucket, key), None)


def finished(endpoint, bucket: str, key: str, upload: str) -> None:
    _own.pop(upload, None)
    journal.record(endpoint, "upload-done", bucket, key, upload=upload)


def settle_unnamed() -> None:
    """Конец блока: загрузки, UploadId которых клиент так и не показал, — в журнал без UploadId:
    их найдёт ListMultipartUploads по ключу и времени."""
    for (endpoint, bucket, key), around in list(_unnamed.items()):
        row = journal.intend(endpoint, "upload", bucket, key)
        journal.confirm(row, modified=around)
        _own[f"?{row}"] = Upload(bucket, key, None, _owner(endpoint), around, row)
    _unnamed.clear()


def unfinished_uploads(endpoint) -> list[Upload]:
    """Загрузки, которые лекция начала и не завершила и не отменила (по журналу)."""
    found: dict[str, Upload] = {}
    for entry in journal.entries(endpoint):
        if entry["op"] == "upload" and entry["state"] == "done":
            found[entry["upload"] or f"?{entry['id']}"] = Upload(
                entry["bucket"], entry["key"], entry["upload"], _owner(endpoint), entry["modified"], entry["id"])
        elif entry["op"] == "upload-done":
            found.pop(entry["upload"], None)
    return list(found.values())


def abandoned_uploads(endpoint) -> list[Upload]:
    """Незавершённые загрузки прошлых запусков: процесс, который их начал, уже не работает."""
    alive = {entry["id"]: _alive(entry["pid"]) for entry in journal.entries(endpoint) if entry["op"] == "upload"}
    return [upload for upload in unfinished_uploads(endpoint)
            if (upload.upload or f"?{upload.row}") not in _own and not alive.get(upload.row)]


def own_uploads(endpoint) -> list[Upload]:
    """Незавершённые загрузки, начатые этим процессом."""
    return [upload for upload in _own.values() if upload.owner == _owner(endpoint)]


def find_upload(s3, upload: Upload) -> list[str]:
    """UploadId загрузки, которого DuckDB не сообщил: начатая на этом же ключе в ту же секунду (±2 с по
    часам сервера). Ключ — точный: чужие загрузки с другим ключом не трогаются. Сервер, у которого время
    начала загрузок не настоящее (moto пишет 2010 год), — совпадения ключа достаточно."""
    if upload.upload:
        return [upload.upload]
    if not upload.around:
        return []
    around = datetime.strptime(upload.around, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    answer = s3.list_multipart_uploads(Bucket=upload.bucket, Prefix=upload.key)
    found = []
    for item in answer.get("Uploads", []):
        apart = abs((item["Initiated"] - around).total_seconds())
        if item["Key"] == upload.key and (apart <= 2 or apart > 86_400):
            found.append(item["UploadId"])
    return found


def abort_uploads(endpoint, uploads: list[Upload], s3, seconds: float) -> list[Upload]:
    """Отменяет ровно эти загрузки клиентом s3 за seconds секунд (UploadId не известен — сначала находит).
    Сервер может быть уже недоступен: тогда загрузки остаются в журнале до следующего запуска."""
    aborted = []
    with deadline.limit(seconds, endpoint, alarm=False):
        for upload in uploads:
            try:
                found = find_upload(s3, upload)
                for upload_id in found:
                    s3.abort_multipart_upload(Bucket=upload.bucket, Key=upload.key, UploadId=upload_id)
                    upload_done(endpoint, upload, upload_id)
                if not upload.upload and not found:  # такой загрузки на сервере нет: отменять нечего
                    upload_done(endpoint, upload, None)
                if found:
                    aborted.append(upload)
            except (Exception, KeyboardInterrupt) as error:  # уборка после сбоя не порождает второй сбой
                answer = getattr(error, "response", None)
                if isinstance(answer, dict) and answer.get("Error", {}).get("Code") == "NoSuchUpload":
                    upload_done(endpoint, upload, upload.upload)  # её уже нет: завершена или отменена
    return aborted


def upload_done(endpoint, upload: Upload, upload_id: str | None) -> None:
    """Загрузки больше нет на сервере: в журнале она не числится незавершённой."""
    _own.pop(upload.upload or f"?{upload.row}", None)
    if upload_id is None:
        journal.forget(upload.row)  # загрузка без UploadId не нашлась: её и не было
        return
    if not upload.upload and upload.row is not None:
        journal.set_upload(upload.row, upload_id)
    journal.record(endpoint, "upload-done", upload.bucket, upload.key, upload=upload_id)


def _alive(pid) -> bool:
    if not pid:
        return False
    if sys.platform == "win32":  # там os.kill(pid, 0) не проверка, а Ctrl-C процессу: считаем живым
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
