"""Шаг 15. Большой файл уходит частями (multipart upload).

Один PUT ограничен 5 ГиБ и при обрыве начинается заново. Составная загрузка режет файл
на части (от 5 МиБ), шлёт их параллельно и собирает объект командой Complete; оборванную
загрузку отменяют (Abort). ETag такого объекта — «хеш-число частей». Каждый клиент
загружает свой объект, а другой клиент читает его обратно и сверяет SHA-256.

Запуск: poetry run python multipart_upload.py [размер в МиБ, по умолчанию 64] [--trace]
"""

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from boto3.s3.transfer import TransferConfig

import common

MIB = 1024 * 1024
PART = 8 * MIB
THREADS = 4
TRANSFER = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                          max_concurrency=THREADS)
SLOWEST = 2 * MIB  # байт в секунду: медленнее — провайдер не годится для лекции, срок истечёт


def main() -> int:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 64 * MIB
    common.header(f"Составная загрузка {common.human_size(size)}: части по "
                  f"{common.human_size(PART)}, {THREADS} потока")
    data = os.urandom(size)
    expected = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.bin"
        path.write_bytes(data)
        for endpoint in common.endpoints():
            with common.endpoint_block(endpoint, seconds=common.DEADLINE + size / SLOWEST):
                s3 = common.boto3_client(endpoint)
                minio = common.minio_client(endpoint)
                bucket = endpoint.bucket

                with common.progress(size, "boto3", "minio") as bars:
                    started = time.perf_counter()
                    s3.upload_file(str(path), bucket, "extras/multipart-boto3.bin",
                                   Config=TRANSFER, Callback=bars.boto3)
                    boto3_seconds = time.perf_counter() - started

                    started = time.perf_counter()
                    minio.fput_object(bucket_name=bucket, object_name="extras/multipart-minio.bin",
                                      file_path=str(path), part_size=PART,
                                      num_parallel_uploads=THREADS, progress=bars.minio)
                    minio_seconds = time.perf_counter() - started

                # Читает «другой» клиент: minio — объект boto3, boto3 — объект minio.
                reply = minio.get_object(bucket_name=bucket,
                                         object_name="extras/multipart-boto3.bin")
                boto3_sha = hashlib.sha256(reply.read()).hexdigest()
                reply.close()
                answer = s3.get_object(Bucket=bucket, Key="extras/multipart-minio.bin")
                minio_sha = hashlib.sha256(answer["Body"].read()).hexdigest()
                head_boto3 = s3.head_object(Bucket=bucket, Key="extras/multipart-boto3.bin")
                head_minio = s3.head_object(Bucket=bucket, Key="extras/multipart-minio.bin")

                rows = []
                for client, seconds, head, sha in (("boto3", boto3_seconds, head_boto3, boto3_sha),
                                                   ("minio", minio_seconds, head_minio, minio_sha)):
                    parts = head["ETag"].strip('"').partition("-")[2] or "1"
                    rows.append([client, parts, common.short_etag(head["ETag"]),
                                 common.number(size / MIB / seconds, 0), sha == expected])
                common.table(f"{endpoint.name}: составная загрузка",
                             ["Клиент", "Частей", "ETag", "МиБ/с", "SHA-256 совпал"], rows)
                common.check(boto3_sha == minio_sha == expected,
                             "оба объекта прочитаны другим клиентом: SHA-256 совпал с файлом",
                             "прочитанный объект отличается от файла")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
