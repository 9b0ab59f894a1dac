"""Прогон матрицы на одном эндпоинте: клетки по фазам, у каждой свой срок, между фазами — уборка.

Клетка — одна операция одним клиентом (их объявляют *_cells.py декоратором cell). Исход клетки —
✓, код ошибки (lecture/failures.py) или слово: сервер ответил «да», но сделал не то (Lacking).
Срок — lecture/deadline.py, загрузки — lecture/uploads.py; удаляется ровно записанное этим прогоном.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property

from lecture import deadline, duckdb_log, failures, gaps, masking, uploads, wire
from lecture.screen import fail, warn

OK, UNUSED, SKIPPED, UNCHECKED = "✓", "—", "·", "✗"
CLIENTS = {"boto3": "b", "minio": "m", "duckdb": "d", "pandas": "p", "pyarrow": "a", "polars": "r"}
INSTEAD = "другая операция"  # клетка: сервер выполнил не ту операцию (lecture/gaps.py)
NOT_FOUND = {"HTTP 404", "NoSuchKey", "NoSuchBucket"}
# Фазы по порядку: бакет; объекты; политика; срок ссылок; DeleteObject; (уборка объектов) версии —
# на пустом бакете; (уборка версий) DeleteBucket; бакет у minio — в конце.
PHASES = ("bucket", "objects", "policy", "expiry", "delete", "versions", "delete_bucket", "minio_bucket")
CLEAN_BEFORE = {"versions", "delete_bucket"}


def cell(registry: list, phase: str, client: str, operation: str, needs=(), **options):
    """Декоратор клетки: в registry — (фаза, клиент, операция, без чего не имеет смысла, функция, настройки)."""
    def register(function: Callable) -> Callable:
        registry.append((phase, client, operation, needs, function, options))
        return function
    return register


class Run:
    """Один эндпоинт: клетки его столбцов и всё, что этот запуск в нём записал."""

    def __init__(self, endpoint, kit):
        self.endpoint, self.kit = endpoint, kit  # kit — строители клиентов (common)
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
        return self.kit.boto3_client(self.endpoint)

    @cached_property
    def minio(self):
        return self.kit.minio_client(self.endpoint)

    @cached_property
    def duckdb(self):
        con = self.kit.duckdb_connect(self.endpoint, writes=True)
        con.execute("SET enable_external_file_cache = false")  # каждое чтение — запрос к S3
        return con

    @cached_property
    def options(self) -> dict:
        return self.kit.storage_options(self.endpoint)

    @cached_property
    def fs(self):
        import s3fs

        return s3fs.S3FileSystem(**self.options)  # та же s3fs, что у pandas

    @cached_property
    def arrow(self):
        return self.kit.pyarrow_filesystem(self.endpoint, writes=True)  # свой клиент pyarrow на C++, как в шаге 20

    @cached_property
    def polars(self) -> dict:
        """storage_options polars для бакета матрицы; свой CA — в run.kit.polars_trust на время вызова."""
        return self.kit.polars_options(self.endpoint, self.bucket)

    # ── одна клетка ───────────────────────────────────────────────────────────────────────────

    def attempt(self, client: str, operation: str, action: Callable, needs=(), slack: float = 0,
                bucket: bool = True) -> None:
        """Выполнить action со сроком и записать клетку: ✓, код ошибки или слово из WORDS.
        bucket: True — нужен созданный бакет, False — бакета быть не должно (его создаёт action);
        slack — секунд сверх обычного срока (составная загрузка)."""
        if self.lost or bucket != self.created or any(
                self.cells.get((need, client)) != OK for need in needs):
            self.cells[operation, client] = SKIPPED
            return
        watch, seen = None, wire.seen(self.endpoint)
        gaps.start()  # что сервер сделал вместо подресурса — только в этой клетке
        try:
            with deadline.limit(self.kit.DEADLINE + slack, self.endpoint) as watch:
                action()
            cell = OK
        except (Exception, deadline.Expired) as error:
            # wire.seen копит увиденное за весь запуск: к этой клетке относится только новое
            fresh = wire.seen(self.endpoint) if wire.seen(self.endpoint) != seen else None
            cell = self.verdict(error, watch, fresh, operation, client)
        finally:
            duckdb_log.flush()  # запросы DuckDB — в журнал и в --trace
        if deadline.interrupted():  # Ctrl-C, который DuckDB превратил в RuntimeError
            raise KeyboardInterrupt  # («Query interrupted») и который иначе стал бы клеткой
        self.cells[operation, client] = cell

    def verdict(self, error: BaseException, watch, seen: str | None, operation: str,
                client: str) -> str:
        if isinstance(error, failures.Lacking):  # сервер ответил «да», но сделал не то
            self.streak = 0
            return str(error)
        if instead := gaps.instead():  # на ?policy, ?tagging… сервер ответил другой операцией
            self.streak = 0
            self.problems.append((operation, client, f"сервер {instead}"))
            return INSTEAD
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
            keys = self.endpoint.secret_key, self.endpoint.access_key
            return f"{failure.code} — {masking.mask(failure.message, *keys)}"
        return failures.describe(failure, self.endpoint, **self.kit.HINTS)

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


# ── Эндпоинт: фазы по порядку, уборка ──────────────────────────────────────────────────────────────────

def check(endpoint, kit, cells: list) -> Run:
    """Все клетки эндпоинта по фазам, между фазами — уборка; Ctrl-C тоже убирает записанное.
    kit — строители клиентов и сроки (common), cells — клетки всех клиентов."""
    run = Run(endpoint, kit)
    order = sorted(cells, key=lambda item: (PHASES.index(item[0]), list(CLIENTS).index(item[1])))
    started = time.monotonic()
    try:
        if not vacant(run):
            return run
        run.started = True
        for phase in PHASES:
            if phase == "objects" and not run.created:
                run.trouble = f"бакет {run.bucket} создать не удалось — остальное не проверено"
            if phase in CLEAN_BEFORE:
                remove(run)  # версии включаются на пустом бакете, а удалить можно только пустой
            for stage, client, operation, needs, function, options in order:
                if stage == phase:
                    run.attempt(client, operation, lambda f=function: f(run), needs, **options)
    except KeyboardInterrupt:
        remove(run, bucket=True)
        fail(f"{endpoint.name}: прервано (Ctrl-C)")
        raise SystemExit(deadline.INTERRUPTED) from None
    except SystemExit:  # Ctrl-C между операциями: строку уже напечатал deadline
        remove(run, bucket=True)
        raise
    finally:
        duckdb_log.flush()
        if "duckdb" in run.__dict__:
            run.duckdb.close()
        duckdb_log.forget()
    remove(run, bucket=True)
    if run.lost:
        run.trouble = "связь пропала посреди проверки — остальное не проверено"
    run.seconds = time.monotonic() - started
    return run


def vacant(run: Run) -> bool:
    """Бакета <бакет>-compat нет — можно начинать. Это и первый запрос к эндпоинту."""
    watch = None
    try:
        with deadline.limit(run.kit.DEADLINE, run.endpoint) as watch:
            run.s3.head_bucket(Bucket=run.bucket)  # HEAD /<бакет>: 404 — бакета нет
    except (Exception, deadline.Expired) as error:
        failure = explain(run, error, watch)
        if failure.code in NOT_FOUND:
            return True
        run.trouble = failures.describe(failure, run.endpoint, **run.kit.HINTS)
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
    pending = uploads.own_uploads(run.endpoint)
    if pending:  # у отмены свой срок
        uploads.abort_uploads(run.endpoint, pending, run.s3, run.kit.READ_TIMEOUT)
    if not (run.objects or run.versions or (bucket and run.created)):
        return
    try:
        with deadline.limit(run.kit.DEADLINE, run.endpoint):
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
    left = len(run.objects) + len(run.versions) + len(uploads.own_uploads(run.endpoint))
    if bucket and (left or run.created):
        warn(f"{run.endpoint.name}: не всё записанное удалось убрать (бакет {run.bucket}): "
                    "остаток уберёт python cleanup.py --yes")


def quietly(call: Callable) -> bool:
    try:
        call()
    except Exception:  # noqa: BLE001 — не удалось: останется в списке, о нём скажет warn
        return False
    return True
