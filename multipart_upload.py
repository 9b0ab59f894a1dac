"""Шаг 15. Большой файл уходит частями (multipart upload).

Один PUT ограничен 5 ГиБ и при обрыве начинается заново. Составная загрузка режет файл
на части (от 5 МиБ), шлёт их параллельно и собирает объект командой Complete; оборванную
загрузку отменяют (Abort). ETag такого объекта — «хеш-число частей». Каждый клиент
загружает свой объект, а другой клиент читает его обратно и сверяет SHA-256.

Запуск: poetry run python multipart_upload.py [размер в МиБ, по умолчанию 64]
"""

import hashlib
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

from boto3.s3.transfer import TransferConfig
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

import common

MIB = 1024 * 1024
PART_SIZE = 8 * MIB
THREADS = 4


def sha256(chunks) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 64 * MIB
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.bin"
        data = os.urandom(size)
        path.write_bytes(data)
        expected = sha256([data])
        common.header(f"Составная загрузка {common.human_size(size)}: части по {common.human_size(PART_SIZE)}, "
                      f"{THREADS} потока")
        for endpoint in common.endpoints():
            with common.endpoint_block(endpoint):
                s3, minio = common.boto3_client(endpoint), common.minio_client(endpoint)
                rows, passed = [], []
                with Progress(*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(),
                              TransferSpeedColumn(), console=common.console, transient=True) as progress:
                    started = time.perf_counter()
                    boto3_task = progress.add_task("boto3", total=size)
                    s3.upload_file(str(path), endpoint.bucket, "extras/multipart-boto3.bin",
                                   Config=TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                                                         max_concurrency=THREADS),
                                   Callback=partial(progress.advance, boto3_task))
                    boto3_seconds = time.perf_counter() - started

                    started = time.perf_counter()
                    minio_task = progress.add_task("minio", total=size)
                    # minio сообщает о прогрессе через объект с методами set_meta и update
                    minio.fput_object(bucket_name=endpoint.bucket, object_name="extras/multipart-minio.bin",
                                      file_path=str(path), part_size=PART_SIZE, num_parallel_uploads=THREADS,
                                      progress=SimpleNamespace(set_meta=lambda **_: None,
                                                               update=partial(progress.advance, minio_task)))
                    minio_seconds = time.perf_counter() - started

                # Читает обратно «другой» клиент: minio — объект boto3, boto3 — объект minio.
                with minio.get_object(bucket_name=endpoint.bucket, object_name="extras/multipart-boto3.bin") as reply:
                    boto3_sha = sha256(reply.stream(MIB))
                minio_sha = sha256(s3.get_object(Bucket=endpoint.bucket, Key="extras/multipart-minio.bin")["Body"]
                                   .iter_chunks(MIB))
                for client, seconds, checksum in (("boto3", boto3_seconds, boto3_sha),
                                                  ("minio", minio_seconds, minio_sha)):
                    head = s3.head_object(Bucket=endpoint.bucket, Key=f"extras/multipart-{client}.bin")
                    parts = head["ETag"].strip('"').partition("-")[2] or "1"
                    rows.append([client, parts, common.human_size(PART_SIZE), THREADS, f"{seconds * 1000:.0f}",
                                 f"{size / MIB / seconds:.0f}", common.agree(checksum == expected)])
                    passed.append(checksum == expected and head["ContentLength"] == size)
                common.table(f"{endpoint.name}: составная загрузка", ["Клиент", "Частей (из ETag)", "Часть", "Потоков",
                                                                      "Время, мс", "МиБ/с", "SHA-256 совпал"], rows)
                common.check(all(passed), "оба объекта прочитаны другим клиентом: размер и SHA-256 совпали",
                             "прочитанный объект отличается от файла")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
