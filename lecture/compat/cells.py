"""Матрица совместимости: одни и те же операции S3 — на каждом эндпоинте, каждым клиентом.

Лекция утверждает, что один код работает с любым S3. Здесь это проверяется целиком: каждую
операцию, которую делают шаги лекции и дополнительные шаги, выполняет каждый клиент, которым
её делает лекция (boto3, minio, DuckDB, pandas через s3fs), на каждом эндпоинте из S3_ENDPOINTS.
И не только «ответил 200»: прочитанные байты, метаданные, теги, версии сверяются с записанным.

Как читать таблицу. Строки — операции, столбцы — эндпоинт × клиент: имя эндпоинта стоит над
первым из четырёх его столбцов, буква под ним — клиент: b — boto3, m — minio, d — DuckDB,
p — pandas (s3fs). В Markdown у каждого столбца имя целиком: «moto·b». В клетке:
  ✓  операция сделала то, что обещает S3;
  —  этот клиент в лекции такой операции не делает;
  ·  не проверялось: не удалась операция, без которой эта не имеет смысла;
  иначе — что случилось: код S3 (NotImplemented, AccessDenied), статус HTTP (HTTP 500),
  сеть (таймаут) или короткие слова, если сервер ответил «да», но сделал не то
  («нет Range», «без тегов», «без срока», «версий нет»…) — их смысл написан под таблицей.
DuckDB пишет объект командой COPY, листает бакет через glob, делает HEAD в read_blob и читает
диапазоны байтов в read_parquet; pandas пишет to_parquet и to_csv, читает read_parquet
и read_csv, а HEAD и список (fs.info, fs.ls) делает его s3fs.

Всё пишется в свой бакет <бакет>-compat: boto3 создаёт его для всех проверок и в конце удаляет,
затем minio создаёт и удаляет его ещё раз (его CreateBucket и DeleteBucket). Удаляется ровно то,
что записал этот запуск: ключи, версии по VersionId из ответов сервера, незавершённые загрузки
по UploadId. Если бакет <бакет>-compat уже есть, он не наш: эндпоинт пропускается строкой ✗.
У каждой операции свой срок: зависший сервер стоит секунды, а не минуты.

Ограничения сервера — сведения, а не сбой. Код выхода: 0 — таблица построена; 1 — какой-то
эндпоинт проверен не весь (недоступен, бакет уже был или не создался, связь пропала: строка ✗
над таблицей); 2 — ошибка настройки.
--markdown FILE — та же таблица в Markdown, без времени и случайных имён: её вставляют в README.

Запуск: poetry run python compat.py [--markdown FILE] [--trace]
"""

import common
import deadline

import argparse
import io
import time
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from minio.commonconfig import REPLACE, CopySource, Tags
from minio.versioningconfig import ENABLED, VersioningConfig
from rich.table import Table

import failures
import wire
from bucket_policy import object_url, policy

OK, UNUSED, SKIPPED, UNCHECKED = "✓", "—", "·", "✗"
CLIENTS = {"boto3": "b", "minio": "m", "duckdb": "d", "pandas": "p"}
OPERATIONS = {  # строка таблицы: что проверено, чтобы поставить ✓
    "list_buckets": "ListBuckets",  # бакет <бакет>-compat в списке
    "create_bucket": "CreateBucket",  # boto3 — для всех проверок, minio — в конце тот же бакет
    "put_object": "PutObject",  # boto3 и minio — с Content-Type и x-amz-meta-client
    "head_object": "HeadObject",  # размер тот же, метаданные вернулись
    "list_objects": "ListObjectsV2, «/»",  # Delimiter=/: ключ и «папка» (общий префикс)
    "get_range": "GetObject, Range",  # пришли ровно запрошенные байты
    "copy_object": "CopyObject REPLACE",  # копия в себя заменила метаданные
    "tagging": "Теги объекта",  # теги из PUT (X-Amz-Tagging) читаются GetObjectTagging
    "presigned": "Ссылка: PUT и GET",  # urllib без ключей пишет и читает те же байты
    "expiry": "Ссылка: срок истёк",  # ссылка на секунду через 2 с получает 403
    "multipart": "Multipart upload",  # 5 МиБ + 4 КиБ двумя частями, прочитано то же
    "versioning": "Версии объекта",  # два PUT — два VersionId, первая читается по своему
    "list_versions": "ListObjectVersions",  # обе версии в списке
    "policy": "Политика бакета",  # анонимный GET: 403, с политикой 200, без неё снова 403
    "delete_object": "DeleteObject",  # после удаления HEAD отвечает 404
    "delete_bucket": "DeleteBucket",  # пустой бакет удалён
}
# Что значат слова в клетках: сервер ответил «да», но сделал не то.
WORDS = {
    "без метаданных": "HEAD не вернул x-amz-meta-*, записанные в PUT",
    "нет Range": "на запрос части объекта (Range) пришёл весь объект",
    "без папок": "ListObjectsV2 с Delimiter=/ не вернул общих префиксов",
    "не тот список": "в списке не то, что записано",
    "не заменил": "CopyObject с REPLACE оставил прежние метаданные",
    "без тегов": "теги из PUT (X-Amz-Tagging) не сохранились",
    "без срока": "просроченная ссылка всё ещё открывает объект",
    "версий нет": "PutBucketVersioning принят, но PUT не выдаёт VersionId",
    "не та версия": "по VersionId первой версии читается другое",
    "не все версии": "ListObjectVersions показал не все записанные версии",
    "открыт всем": "объект читается анонимно и без политики",
    "не открыл": "с политикой «всем GetObject» анонимный GET всё ещё запрещён",
    "не закрыл": "после DeleteBucketPolicy объект всё ещё читается анонимно",
    "не удалён": "после DeleteObject объект на месте",
    "не те байты": "прочитано не то, что записано",
}
NOT_FOUND = {"HTTP 404", "NoSuchKey", "NoSuchBucket"}

TEXT = "text/plain; charset=utf-8"
BODY = "S3 — это стандарт\n".encode()
TAGS = {"lecture": "s3", "kind": "compat"}
MIB = 1024 * 1024
PART = 5 * MIB  # наименьшая часть составной загрузки; последняя может быть меньше
BIG = bytes(range(256)) * ((PART + 4096) // 256)  # две части: 5 МиБ и 4 КиБ
SOON = 1  # секунда жизни ссылки, на которой проверяется срок
SECONDS = common.DEADLINE  # срок одной операции
SLOWEST = 2 * MIB  # байт в секунду: на составную загрузку срок больше


class Run:
    """Один эндпоинт: клетки его столбцов и всё, что этот запуск в нём записал."""

    def __init__(self, endpoint: common.Endpoint):
        self.endpoint = endpoint
        self.bucket = endpoint.derived("compat")  # <бакет>-compat: settings проверил и это имя
        self.cells: dict[tuple[str, str], str] = {}  # (операция, клиент) → клетка
        self.problems: list[tuple[str, str, str]] = []  # (операция, клиент, объяснение)
        self.objects: dict[str, str] = {}  # ключ → клиент: записано без версий
        self.versions: list[tuple[str, str | None]] = []  # (ключ, VersionId): записано с версиями
        self.version_ids: dict[str, list[str]] = {}
        self.soon: dict[str, tuple[str, float]] = {}  # клиент → (ссылка на секунду, когда выдана)
        self.parquet_size = 0  # сколько байт записал COPY у DuckDB: столько же должен сказать HEAD
        self.created = False  # бакет создан этим запуском и ещё не удалён
        self.started = False  # клетки проверялись (бакета не было, эндпоинт ответил)
        self.trouble: str | None = None  # почему эндпоинт проверен не весь: строка ✗, код 1
        self.lost = False  # связь пропала посреди проверки
        self.streak = 0  # сетевых сбоев подряд
        self.seconds = 0.0

    # ── клиенты: каждый строится, когда понадобится ────────────────────────────────────────────

    @cached_property
    def s3(self):
        return common.boto3_client(self.endpoint)

    @cached_property
    def minio(self):
        return common.minio_client(self.endpoint)

    @cached_property
    def duckdb(self):
        con = common.duckdb_connect(self.endpoint, writes=True)
        con.execute("SET enable_external_file_cache = false")  # каждое чтение — запрос к S3
        return con

    @cached_property
    def options(self) -> dict:
        return common.storage_options(self.endpoint)

    @cached_property
    def fs(self):
        import s3fs

        return s3fs.S3FileSystem(**self.options)  # та же s3fs, что у pandas

    # ── одна клетка ───────────────────────────────────────────────────────────────────────────

    def attempt(self, client: str, operation: str, action: Callable, needs=(), seconds=SECONDS,
                bucket: bool = True) -> None:
        """Выполнить action со сроком и записать клетку: ✓, код ошибки или слово из WORDS.
        bucket: True — нужен созданный бакет, False — бакета быть не должно (его создаёт action)."""
        if self.lost or bucket != self.created or any(
                self.cells.get((need, client)) != OK for need in needs):
            self.cells[operation, client] = SKIPPED
            return
        watch, seen = None, wire.seen(self.endpoint)
        try:
            with deadline.limit(seconds, self.endpoint.port) as watch:
                action()
            cell = OK
        except (Exception, deadline.Expired) as error:
            # wire.seen копит увиденное за весь запуск: к этой клетке относится только новое
            fresh = wire.seen(self.endpoint) if wire.seen(self.endpoint) != seen else None
            cell = self.verdict(error, watch, fresh, operation, client)
        finally:
            wire.flush()  # запросы DuckDB — в журнал и в --trace
        if deadline.interrupted():  # Ctrl-C, который DuckDB превратил в RuntimeError
            raise KeyboardInterrupt  # («Query interrupted») и который иначе стал бы клеткой
        self.cells[operation, client] = cell

    def verdict(self, error: BaseException, watch, seen: str | None, operation: str,
                client: str) -> str:
        if isinstance(error, failures.Lacking):  # сервер ответил «да», но сделал не то
            self.streak = 0
            return str(error)
        failure = explain(self, error, watch, seen)
        self.streak = self.streak + 1 if failure.code in failures.UNREACHABLE else 0
        self.lost = self.streak >= 2  # два сетевых сбоя подряд: эндпоинт пропал
        self.problems.append((operation, client, self.described(failure)))
        if failure.code.startswith("HTTP "):
            return " ".join(failure.code.split()[:2])  # «HTTP 500 InternalError» → «HTTP 500»
        return "ошибка" if failure.code == "DuckDB" else failure.code

    def described(self, failure: failures.Failure) -> str:
        """«код — что сказал сервер»; без текста сервера — общее объяснение (сеть, 501, 5xx).
        Подсказки шагов лекции («бакеты создаёт шаг 6») здесь не к месту."""
        if failure.message:
            return f"{failure.code} — {common.mask_secrets(failure.message, self.endpoint)}"
        return failures.describe(failure, self.endpoint)

    # ── что записано ──────────────────────────────────────────────────────────────────────────

    def wrote(self, client: str, *keys: str) -> None:
        """Ключи — до запроса: ответ может пропасть, а объект уже лечь в бакет."""
        for key in keys:
            self.objects[key] = client

    def wrote_version(self, key: str, version: str | None) -> None:
        self.versions.append((key, None if version in (None, "null") else version))

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def missing(self, call: Callable) -> bool:
        """HEAD ответил 404: объекта нет."""
        try:
            call()
        except Exception as error:
            failure = failures.classify(error)
            if failure and failure.code in NOT_FOUND:
                return True
            raise
        return False


# ── Клетки: операция × клиент, по фазам ─────────────────────────────────────────────────────────
# Фазы по порядку: 0 бакет; 1 объекты; 2 политика; 3 срок ссылок; 4 DeleteObject; (уборка
# объектов); 5 версии — на пустом бакете; (уборка версий); 6 DeleteBucket; 7 бакет у minio.

CELLS: list[tuple[int, str, str, tuple, Callable, dict]] = []


def cell(phase: int, client: str, operation: str, needs=(), **options):
    def register(function: Callable) -> Callable:
        CELLS.append((phase, client, operation, needs, function, options))
        return function
    return register


@cell(0, "boto3", "create_bucket", bucket=False)
def boto3_create_bucket(run: Run) -> None:
    run.s3.create_bucket(Bucket=run.bucket, **common.location(run.endpoint))
    run.created = True


@cell(0, "boto3", "list_buckets")
def boto3_list_buckets(run: Run) -> None:
    answer = run.s3.list_buckets()
    common.lacks(run.bucket not in [b["Name"] for b in answer.get("Buckets", [])], "не тот список")


@cell(0, "minio", "list_buckets")
def minio_list_buckets(run: Run) -> None:
    buckets = run.minio.list_buckets()
    common.lacks(run.bucket not in [b.name for b in buckets], "не тот список")


# ── boto3 ──

@cell(1, "boto3", "put_object")
def boto3_put(run: Run) -> None:
    run.wrote("boto3", "boto3/object.txt", "boto3/sub/object.txt")
    run.s3.put_object(Bucket=run.bucket, Key="boto3/object.txt", Body=BODY, ContentType=TEXT,
                      Metadata={"client": "boto3"})
    run.s3.put_object(Bucket=run.bucket, Key="boto3/sub/object.txt", Body=BODY)


@cell(1, "boto3", "head_object", needs=("put_object",))
def boto3_head(run: Run) -> None:
    head = run.s3.head_object(Bucket=run.bucket, Key="boto3/object.txt")
    common.lacks(head["ContentLength"] != len(BODY), "не те байты")
    common.lacks(head["Metadata"] != {"client": "boto3"}, "без метаданных")


@cell(1, "boto3", "list_objects", needs=("put_object",))
def boto3_list(run: Run) -> None:
    answer = run.s3.list_objects_v2(Bucket=run.bucket, Prefix="boto3/", Delimiter="/")
    prefixes = [item["Prefix"] for item in answer.get("CommonPrefixes", [])]
    keys = [item["Key"] for item in answer.get("Contents", [])]
    common.lacks("boto3/sub/" not in prefixes, "без папок")
    common.lacks("boto3/object.txt" not in keys, "не тот список")


@cell(1, "boto3", "get_range", needs=("put_object",))
def boto3_range(run: Run) -> None:
    answer = run.s3.get_object(Bucket=run.bucket, Key="boto3/object.txt", Range="bytes=2-5")
    part = answer["Body"].read()
    common.lacks(part == BODY, "нет Range")
    common.lacks(part != BODY[2:6], "не те байты")


@cell(1, "boto3", "copy_object", needs=("put_object",))
def boto3_copy(run: Run) -> None:
    key = "boto3/object.txt"
    run.s3.copy_object(Bucket=run.bucket, Key=key, CopySource={"Bucket": run.bucket, "Key": key},
                       MetadataDirective="REPLACE", ContentType=TEXT,
                       Metadata={"client": "boto3", "copied": "yes"})
    head = run.s3.head_object(Bucket=run.bucket, Key=key)
    common.lacks(head["Metadata"] != {"client": "boto3", "copied": "yes"}, "не заменил")


@cell(1, "boto3", "tagging")
def boto3_tagging(run: Run) -> None:
    run.wrote("boto3", "boto3/tagged.txt")
    run.s3.put_object(Bucket=run.bucket, Key="boto3/tagged.txt", Body=BODY,
                      Tagging="lecture=s3&kind=compat")
    answer = run.s3.get_object_tagging(Bucket=run.bucket, Key="boto3/tagged.txt")
    kept = {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", [])}
    common.lacks(kept != TAGS, "без тегов")


@cell(1, "boto3", "presigned")
def boto3_presigned(run: Run) -> None:
    place = {"Bucket": run.bucket, "Key": "boto3/link.txt"}
    put_url = run.s3.generate_presigned_url("put_object", Params=place)
    get_url = run.s3.generate_presigned_url("get_object", Params=place)
    soon_url = run.s3.generate_presigned_url("get_object", Params=place, ExpiresIn=SOON)
    run.soon["boto3"] = (soon_url, time.monotonic())
    run.wrote("boto3", "boto3/link.txt")
    through_links(run, put_url, get_url)


@cell(1, "boto3", "multipart", seconds=SECONDS + len(BIG) / SLOWEST)
def boto3_multipart(run: Run) -> None:
    from boto3.s3.transfer import TransferConfig

    run.wrote("boto3", "boto3/multipart.bin")
    run.s3.upload_fileobj(io.BytesIO(BIG), run.bucket, "boto3/multipart.bin",
                          Config=TransferConfig(multipart_threshold=PART, multipart_chunksize=PART))
    answer = run.s3.get_object(Bucket=run.bucket, Key="boto3/multipart.bin")
    common.lacks(answer["Body"].read() != BIG, "не те байты")


# ── minio ──

@cell(1, "minio", "put_object")
def minio_put(run: Run) -> None:
    run.wrote("minio", "minio/object.txt", "minio/sub/object.txt")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/object.txt",
                         data=io.BytesIO(BODY), length=len(BODY), content_type=TEXT,
                         metadata={"client": "minio"})
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/sub/object.txt",
                         data=io.BytesIO(BODY), length=len(BODY))


@cell(1, "minio", "head_object", needs=("put_object",))
def minio_head(run: Run) -> None:
    stat = run.minio.stat_object(bucket_name=run.bucket, object_name="minio/object.txt")
    common.lacks(stat.size != len(BODY), "не те байты")
    common.lacks(common.user_metadata(stat.metadata) != {"client": "minio"}, "без метаданных")


@cell(1, "minio", "list_objects", needs=("put_object",))
def minio_list(run: Run) -> None:
    items = list(run.minio.list_objects(bucket_name=run.bucket, prefix="minio/"))  # с «/»
    common.lacks("minio/sub/" not in [i.object_name for i in items if i.is_dir], "без папок")
    common.lacks("minio/object.txt" not in [i.object_name for i in items], "не тот список")


@cell(1, "minio", "get_range", needs=("put_object",))
def minio_range(run: Run) -> None:
    reply = run.minio.get_object(bucket_name=run.bucket, object_name="minio/object.txt",
                                 offset=2, length=4)
    part = reply.read()
    reply.close()
    common.lacks(part == BODY, "нет Range")
    common.lacks(part != BODY[2:6], "не те байты")


@cell(1, "minio", "copy_object", needs=("put_object",))
def minio_copy(run: Run) -> None:
    key = "minio/object.txt"
    run.minio.copy_object(bucket_name=run.bucket, object_name=key,
                          source=CopySource(bucket_name=run.bucket, object_name=key),
                          metadata={"Content-Type": TEXT, "client": "minio", "copied": "yes"},
                          metadata_directive=REPLACE)
    stat = run.minio.stat_object(bucket_name=run.bucket, object_name=key)
    copied = common.user_metadata(stat.metadata)
    common.lacks(copied != {"client": "minio", "copied": "yes"}, "не заменил")


@cell(1, "minio", "tagging")
def minio_tagging(run: Run) -> None:
    tags = Tags.new_object_tags()
    tags.update(TAGS)
    run.wrote("minio", "minio/tagged.txt")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/tagged.txt",
                         data=io.BytesIO(BODY), length=len(BODY), tags=tags)
    kept = run.minio.get_object_tags(bucket_name=run.bucket, object_name="minio/tagged.txt")
    common.lacks(dict(kept or {}) != TAGS, "без тегов")


@cell(1, "minio", "presigned")
def minio_presigned(run: Run) -> None:
    place = {"bucket_name": run.bucket, "object_name": "minio/link.txt"}
    put_url = run.minio.presigned_put_object(**place)
    get_url = run.minio.presigned_get_object(**place)
    soon_url = run.minio.presigned_get_object(**place, expires=timedelta(seconds=SOON))
    run.soon["minio"] = (soon_url, time.monotonic())
    run.wrote("minio", "minio/link.txt")
    through_links(run, put_url, get_url)


@cell(1, "minio", "multipart", seconds=SECONDS + len(BIG) / SLOWEST)
def minio_multipart(run: Run) -> None:
    run.wrote("minio", "minio/multipart.bin")
    run.minio.put_object(bucket_name=run.bucket, object_name="minio/multipart.bin",
                         data=io.BytesIO(BIG), length=len(BIG), part_size=PART)
    reply = run.minio.get_object(bucket_name=run.bucket, object_name="minio/multipart.bin")
    body = reply.read()
    reply.close()
    common.lacks(body != BIG, "не те байты")


# ── DuckDB ──

@cell(1, "duckdb", "put_object")
def duckdb_put(run: Run) -> None:
    run.wrote("duckdb", "duckdb/data.parquet", "duckdb/sub/data.parquet")
    written = run.duckdb.execute("COPY (SELECT * FROM range(3) t(n)) TO $url "
                                 "(FORMAT parquet, RETURN_STATS)",
                                 {"url": run.url("duckdb/data.parquet")})
    run.parquet_size = written.fetchone()[2]  # filename, count, file_size_bytes…
    run.duckdb.execute("COPY (SELECT * FROM range(3) t(n)) TO $url (FORMAT parquet)",
                       {"url": run.url("duckdb/sub/data.parquet")})


@cell(1, "duckdb", "head_object", needs=("put_object",))
def duckdb_head(run: Run) -> None:
    answer = run.duckdb.execute("SELECT size FROM read_blob($url)",  # без content — только HEAD
                                {"url": run.url("duckdb/data.parquet")})
    common.lacks(answer.fetchone()[0] != run.parquet_size, "не те байты")


@cell(1, "duckdb", "list_objects", needs=("put_object",))
def duckdb_list(run: Run) -> None:
    listing = run.duckdb.execute("SELECT file FROM glob($pattern)",
                                 {"pattern": run.url("duckdb/*")})  # ListObjectsV2 с префиксом
    common.lacks(listing.fetchall() != [(run.url("duckdb/data.parquet"),)], "не тот список")


@cell(1, "duckdb", "get_range", needs=("put_object",))
def duckdb_range(run: Run) -> None:
    rows = run.duckdb.execute("SELECT n FROM read_parquet($url) ORDER BY n",
                              {"url": run.url("duckdb/data.parquet")})
    common.lacks(rows.fetchall() != [(0,), (1,), (2,)], "не те байты")


# ── pandas (s3fs) ──

@cell(1, "pandas", "put_object")
def pandas_put(run: Run) -> None:
    run.wrote("pandas", "pandas/data.parquet", "pandas/sub/data.csv")
    frame().to_parquet(run.url("pandas/data.parquet"), index=False, storage_options=run.options)
    frame().to_csv(run.url("pandas/sub/data.csv"), index=False, storage_options=run.options)


@cell(1, "pandas", "head_object", needs=("put_object",))
def pandas_head(run: Run) -> None:
    info = run.fs.info(f"{run.bucket}/pandas/data.parquet")  # HEAD
    common.lacks(info["size"] != len(frame().to_parquet(index=False)), "не те байты")


@cell(1, "pandas", "list_objects", needs=("put_object",))
def pandas_list(run: Run) -> None:
    names = run.fs.ls(f"{run.bucket}/pandas/", detail=False, refresh=True)  # ListObjectsV2 с «/»
    expected = [f"{run.bucket}/pandas/data.parquet", f"{run.bucket}/pandas/sub"]
    common.lacks(sorted(names) != expected, "не тот список")


@cell(1, "pandas", "get_range", needs=("put_object",))
def pandas_range(run: Run) -> None:
    import pandas as pd

    from_parquet = pd.read_parquet(run.url("pandas/data.parquet"), storage_options=run.options)
    from_csv = pd.read_csv(run.url("pandas/sub/data.csv"), storage_options=run.options)
    common.lacks(not (from_parquet.equals(frame()) and from_csv.equals(frame())), "не те байты")


# ── политика бакета: анонимный GET без неё, с ней и после неё ──

@cell(2, "boto3", "policy")
def boto3_policy(run: Run) -> None:
    anonymous_read(run, "boto3",
                   lambda: run.s3.put_bucket_policy(Bucket=run.bucket, Policy=policy(run.bucket)),
                   lambda: run.s3.delete_bucket_policy(Bucket=run.bucket))


@cell(2, "minio", "policy")
def minio_policy(run: Run) -> None:
    anonymous_read(run, "minio",
                   lambda: run.minio.set_bucket_policy(bucket_name=run.bucket,
                                                       policy=policy(run.bucket)),
                   lambda: run.minio.delete_bucket_policy(bucket_name=run.bucket))


# ── срок ссылок: выданы в фазе 1 на секунду, проверяются здесь ──

@cell(3, "boto3", "expiry", needs=("presigned",))
def boto3_expiry(run: Run) -> None:
    expired_link(run, "boto3")


@cell(3, "minio", "expiry", needs=("presigned",))
def minio_expiry(run: Run) -> None:
    expired_link(run, "minio")


# ── DeleteObject: каждый клиент удаляет своё ──

@cell(4, "boto3", "delete_object", needs=("put_object",))
def boto3_delete(run: Run) -> None:
    for key in [key for key, client in run.objects.items() if client == "boto3"]:
        run.s3.delete_object(Bucket=run.bucket, Key=key)
        del run.objects[key]
    gone = run.missing(lambda: run.s3.head_object(Bucket=run.bucket, Key="boto3/object.txt"))
    common.lacks(not gone, "не удалён")


@cell(4, "minio", "delete_object", needs=("put_object",))
def minio_delete(run: Run) -> None:
    for key in [key for key, client in run.objects.items() if client == "minio"]:
        run.minio.remove_object(bucket_name=run.bucket, object_name=key)
        del run.objects[key]
    gone = run.missing(lambda: run.minio.stat_object(bucket_name=run.bucket,
                                                     object_name="minio/object.txt"))
    common.lacks(not gone, "не удалён")


# ── версии: на пустом бакете, после уборки объектов ──

@cell(5, "boto3", "versioning")
def boto3_versioning(run: Run) -> None:
    key = "boto3/versioned.txt"
    run.s3.put_bucket_versioning(Bucket=run.bucket, VersioningConfiguration={"Status": "Enabled"})
    first = run.s3.put_object(Bucket=run.bucket, Key=key, Body=b"version 1")
    run.wrote_version(key, first.get("VersionId"))
    second = run.s3.put_object(Bucket=run.bucket, Key=key, Body=b"version 2")
    run.wrote_version(key, second.get("VersionId"))
    ids = kept_versions(run, "boto3", first.get("VersionId"), second.get("VersionId"))
    old = run.s3.get_object(Bucket=run.bucket, Key=key, VersionId=ids[0])
    common.lacks(old["Body"].read() != b"version 1", "не та версия")


@cell(5, "boto3", "list_versions", needs=("versioning",))
def boto3_list_versions(run: Run) -> None:
    answer = run.s3.list_object_versions(Bucket=run.bucket, Prefix="boto3/versioned.txt")
    listed = {version["VersionId"] for version in answer.get("Versions", [])}
    common.lacks(not set(run.version_ids["boto3"]) <= listed, "не все версии")


@cell(5, "minio", "versioning")
def minio_versioning(run: Run) -> None:
    key = "minio/versioned.txt"
    run.minio.set_bucket_versioning(bucket_name=run.bucket, config=VersioningConfig(ENABLED))
    first = run.minio.put_object(bucket_name=run.bucket, object_name=key,
                                 data=io.BytesIO(b"version 1"), length=9)
    run.wrote_version(key, first.version_id)
    second = run.minio.put_object(bucket_name=run.bucket, object_name=key,
                                  data=io.BytesIO(b"version 2"), length=9)
    run.wrote_version(key, second.version_id)
    ids = kept_versions(run, "minio", first.version_id, second.version_id)
    reply = run.minio.get_object(bucket_name=run.bucket, object_name=key, version_id=ids[0])
    old = reply.read()
    reply.close()
    common.lacks(old != b"version 1", "не та версия")


@cell(5, "minio", "list_versions", needs=("versioning",))
def minio_list_versions(run: Run) -> None:
    items = run.minio.list_objects(bucket_name=run.bucket, prefix="minio/versioned.txt",
                                   include_version=True)
    listed = {item.version_id for item in items}
    common.lacks(not set(run.version_ids["minio"]) <= listed, "не все версии")


@cell(6, "boto3", "delete_bucket")
def boto3_delete_bucket(run: Run) -> None:
    run.s3.delete_bucket(Bucket=run.bucket)  # S3 удаляет только пустой бакет
    run.created = False


# ── minio создаёт и удаляет тот же бакет — в конце: если облако не даст сразу создать бакет
# с именем, которое только что удалили (OperationAborted), это будет видно лишь в этих клетках ──

@cell(7, "minio", "create_bucket", bucket=False)
def minio_create_bucket(run: Run) -> None:
    run.minio.make_bucket(bucket_name=run.bucket, location=run.endpoint.region)
    run.created = True


@cell(7, "minio", "delete_bucket", needs=("create_bucket",))
def minio_delete_bucket(run: Run) -> None:
    run.minio.remove_bucket(bucket_name=run.bucket)
    run.created = False


# ── общие куски клеток ──────────────────────────────────────────────────────────────────────────

def through_links(run: Run, put_url: str, get_url: str) -> None:
    """Ссылки без ключей: urllib пишет по одной и читает по другой."""
    body = b"written by a presigned link"
    put_status, _ = common.plain_http("PUT", put_url, run.endpoint, body)
    common.lacks(put_status != 200, f"HTTP {put_status}")
    get_status, data = common.plain_http("GET", get_url, run.endpoint)
    common.lacks(get_status != 200, f"HTTP {get_status}")
    common.lacks(data != body, "не те байты")


def expired_link(run: Run, client: str) -> None:
    url, issued = run.soon[client]
    time.sleep(max(0.0, issued + SOON + 1 - time.monotonic()))  # срок точно истёк
    status, _ = common.plain_http("GET", url, run.endpoint)
    common.lacks(status == 200, "без срока")
    common.lacks(status != 403, f"HTTP {status}")


def anonymous_read(run: Run, client: str, allow: Callable, revoke: Callable) -> None:
    key = f"{client}/public.txt"
    url = object_url(run.endpoint, run.bucket, key)  # без подписи: так объект видит весь мир
    run.wrote(client, key)
    run.s3.put_object(Bucket=run.bucket, Key=key, Body=BODY)
    closed, _ = common.plain_http("GET", url, run.endpoint)
    allow()
    try:
        opened, body = common.plain_http("GET", url, run.endpoint)
    finally:
        revoke()
    closed_again, _ = common.plain_http("GET", url, run.endpoint)
    common.lacks(closed == 200, "открыт всем")
    common.lacks(opened == 403, "не открыл")
    common.lacks(opened != 200, f"HTTP {opened}")
    common.lacks(body != BODY, "не те байты")
    common.lacks(closed_again == 200, "не закрыл")


def kept_versions(run: Run, client: str, first: str | None, second: str | None) -> list[str]:
    common.lacks(not first or not second or "null" in (first, second) or first == second,
                 "версий нет")
    run.version_ids[client] = [first, second]
    return [first, second]


def frame():
    import pandas as pd

    return pd.DataFrame({"n": [1, 2, 3], "word": ["S3", "как", "стандарт"]})


# ── Эндпоинт: проверка, уборка ──────────────────────────────────────────────────────────────────

def check(endpoint: common.Endpoint) -> Run:
    """Все клетки эндпоинта по фазам, между фазами — уборка; Ctrl-C тоже убирает записанное."""
    run = Run(endpoint)
    started = time.monotonic()
    try:
        if not vacant(run):
            return run
        run.started = True
        for phase in range(8):
            if phase == 1 and not run.created:
                run.trouble = f"бакет {run.bucket} создать не удалось — остальное не проверено"
            if phase in (5, 6):
                remove(run)  # версии включаются на пустом бакете, а удалить можно только пустой
            for stage, client, operation, needs, function, options in CELLS:
                if stage == phase:
                    run.attempt(client, operation, lambda f=function: f(run), needs, **options)
    except KeyboardInterrupt:
        remove(run, bucket=True)
        common.fail(f"{endpoint.name}: прервано (Ctrl-C)")
        raise SystemExit(deadline.INTERRUPTED) from None
    except SystemExit:  # Ctrl-C между операциями: строку уже напечатал deadline
        remove(run, bucket=True)
        raise
    finally:
        wire.flush()
        if "duckdb" in run.__dict__:
            run.duckdb.close()
        wire.forget_duckdb()
    remove(run, bucket=True)
    if run.lost:
        run.trouble = "связь пропала посреди проверки — остальное не проверено"
    run.seconds = time.monotonic() - started
    return run


def vacant(run: Run) -> bool:
    """Бакета <бакет>-compat нет — можно начинать. Это и первый запрос к эндпоинту."""
    watch = None
    try:
        with deadline.limit(SECONDS, run.endpoint.port) as watch:
            run.s3.head_bucket(Bucket=run.bucket)  # HEAD /<бакет>: 404 — бакета нет
    except (Exception, deadline.Expired) as error:
        failure = explain(run, error, watch)
        if failure.code in NOT_FOUND:
            return True
        run.trouble = failures.describe(failure, run.endpoint)
        return False
    run.trouble = (f"бакет {run.bucket} уже есть: его создали не сейчас, не трогаю "
                   "(если его оставил прошлый запуск — python cleanup.py --yes)")
    return False


def explain(run: Run, error: BaseException, watch, seen: str | None = None) -> failures.Failure:
    """Что случилось: код S3, статус, сеть, истёкший срок; seen — что показали ответы сервера
    («нет Range»); иначе — тип исключения и его текст."""
    expired = watch.seconds if watch is not None and watch.expired else None
    failure = failures.explain(error, run.endpoint, expired, seen)
    if failure is None:
        text = str(error).strip()
        failure = failures.Failure(type(error).__name__, "", text.splitlines()[0] if text else "")
    return failure


def remove(run: Run, bucket: bool = False) -> None:
    """Убрать записанное этим запуском и ещё не удалённое: ключи, версии (по VersionId),
    незавершённые загрузки (по UploadId); bucket — и сам бакет. Не вышло — остаётся в списках."""
    uploads = wire.own_uploads(run.endpoint)
    if uploads:  # у отмены свой срок
        wire.abort_uploads(run.endpoint, uploads, run.s3, common.READ_TIMEOUT)
    if not (run.objects or run.versions or (bucket and run.created)):
        return
    try:
        with deadline.limit(SECONDS, run.endpoint.port):
            for key in list(run.objects):
                if quietly(lambda k=key: run.s3.delete_object(Bucket=run.bucket, Key=k)):
                    del run.objects[key]
            for key, version in list(run.versions):
                place = {"Bucket": run.bucket, "Key": key}
                if version:
                    place["VersionId"] = version
                if quietly(lambda p=place: run.s3.delete_object(**p)):
                    run.versions.remove((key, version))
            if bucket and run.created:
                run.s3.delete_bucket(Bucket=run.bucket)
                run.created = False
    except (Exception, deadline.Expired):  # уборка после сбоя не порождает второй сбой
        pass
    left = len(run.objects) + len(run.versions) + len(wire.own_uploads(run.endpoint))
    if bucket and (left or run.created):
        common.warn(f"{run.endpoint.name}: не всё записанное удалось убрать (бакет {run.bucket}): "
                    "остаток уберёт python cleanup.py --yes")


def quietly(call: Callable) -> bool:
    try:
        call()
    except Exception:  # noqa: BLE001 — не удалось: останется в списке, о нём скажет warn
        return False
    return True


# ── Таблица ─────────────────────────────────────────────────────────────────────────────────────

USED = {(operation, client) for _, client, operation, *_ in CELLS}
STYLE = {OK: "green", UNUSED: "dim", SKIPPED: "dim", UNCHECKED: "bold red"}


def grid(runs: list[Run]) -> list[list[str]]:
    """Строки таблицы: подпись операции и клетки эндпоинт × клиент."""
    rows = []
    for operation, label in OPERATIONS.items():
        row = [label]
        for run in runs:
            for client in CLIENTS:
                if (operation, client) not in USED:
                    row.append(UNUSED)
                elif not run.started:
                    row.append(UNCHECKED)  # эндпоинт не проверялся: почему — в строке ✗ над таблицей
                else:
                    row.append(run.cells.get((operation, client), SKIPPED))
        rows.append(row)
    return rows


def legend(rows: list[list[str]]) -> list[str]:
    initials = ", ".join(f"{initial} — {NAMES[client]}" for client, initial in CLIENTS.items())
    lines = [f"Клиенты: {initials}. ✓ — работает, как обещает S3; «—» — этот клиент в лекции "
             "так не делает; · — не проверялось: не удалась операция, без которой эта "
             "не имеет смысла."]
    if any(UNCHECKED in row[1:] for row in rows):
        lines.append("«✗» в клетках — эндпоинт не проверен: почему, сказано в строке ✗ над таблицей.")
    seen = {cell for row in rows for cell in row[1:]}
    words = [f"«{word}» — {meaning}" for word, meaning in WORDS.items() if word in seen]
    if words:
        lines.append("; ".join(words) + ".")
    return lines


NAMES = {"boto3": "boto3", "minio": "minio", "duckdb": "DuckDB", "pandas": "pandas (s3fs)"}


def view(runs: list[Run]):
    """Таблица для терминала: имя эндпоинта над первым из его столбцов, под ним буквы клиентов."""
    from rich import box
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold cyan", pad_edge=False)
    table.add_column("Операция", no_wrap=True)
    for run in runs:
        for number, initial in enumerate(CLIENTS.values()):
            name = run.endpoint.name if number == 0 else ""
            table.add_column(f"{name}\n{initial}", justify="center", overflow="fold")
    for row in grid(runs):
        table.add_row(row[0], *(Text(cell, style=STYLE.get(cell, "bold yellow")) for cell in row[1:]))
    return table


def show(runs: list[Run]) -> None:
    """Таблица в терминал — по стольку эндпоинтов, сколько помещается в ширину экрана, строки те же."""
    from rich.measure import Measurement

    rows = grid(runs)
    wire.flush()
    group: list[Run] = []
    for run in runs:
        unbounded = common.console.options.update(max_width=10_000)  # иначе мера обрезана шириной экрана
        wider = Measurement.get(common.console, unbounded, view([*group, run])).maximum
        if group and wider > common.console.width:
            common.console.print(view(group))
            group = []
        group.append(run)
    common.console.print(view(group))
    for line in legend(rows):
        common.note(line)
    problems: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        for operation, client, text in run.problems:
            place = f"{run.endpoint.name}·{CLIENTS[client]}"
            problems.setdefault((OPERATIONS[operation], text), []).append(place)
    for (label, text), places in problems.items():
        common.warn(f"{label} ({', '.join(places)}): {text}")


def markdown(runs: list[Run]) -> str:
    """Та же таблица в Markdown: у каждого столбца имя целиком (эндпоинт·клиент)."""
    rows = grid(runs)
    header = ["Операция"] + [f"{run.endpoint.name}·{initial}"
                             for run in runs for initial in CLIENTS.values()]
    lines = ["| " + " | ".join(header) + " |", "|---|" + ":-:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + "\n\n".join(legend(rows)) + "\n"  # абзац на строку легенды


def main() -> int:
    parser = argparse.ArgumentParser(description="Матрица совместимости: операции S3 на каждом "
                                                 "эндпоинте каждым клиентом")
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="та же таблица в Markdown")
    args = parser.parse_args()
    if args.markdown and not args.markdown.parent.is_dir():
        common.config_error(f"--markdown {args.markdown}: нет каталога {args.markdown.parent}")
    endpoints = common.endpoints()
    common.header(f"Матрица совместимости: {len(OPERATIONS)} операций × "
                  f"{common.plural(len(endpoints), 'эндпоинт', 'эндпоинта', 'эндпоинтов')} × "
                  f"{len(CLIENTS)} клиента")
    runs = []
    for endpoint in endpoints:
        run = check(endpoint)
        runs.append(run)
        if run.trouble:
            common.fail(f"{endpoint.name}: {run.trouble}")
        else:
            common.ok(f"{endpoint.name}: проверен за {common.number(run.seconds)} с")
    show(runs)
    if args.markdown:
        args.markdown.write_text(markdown(runs), encoding="utf-8")
        common.note(f"Markdown: {args.markdown}")
    return 1 if any(run.trouble for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(common.run(main))
