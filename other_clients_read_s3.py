"""Шаг 20. Другие языки читают то же самое.

S3 — протокол, а не библиотека. CSV, который записал boto3, Parquet и hive-разбиение, которые
записал DuckDB, читают клиенты на других языках: pyarrow (C++, AWS SDK for C++), polars (Rust,
object_store), а если они установлены — rclone (Go) и AWS CLI. Эталон — boto3: SHA-256 байтов
CSV, число строк и выживаемость по классу. Настройки всех клиентов строит common.py из одной
записи эндпоинта: адрес, стиль адреса, регион, свой CA, таймауты. --trace показывает запросы
boto3: у других клиентов свои журналы.

Запуск: poetry run python other_clients_read_s3.py [--trace]
"""

import csv
import hashlib
import io
import shutil
import subprocess
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace

import common

CSV = "boto3/titanic.csv"
PARQUET = "titanic.parquet"
PARTS = "titanic_by_class"
TOOLS = ("rclone", "aws")
ROWS = ("строка", "строки", "строк")


def read_errors() -> tuple:
    """Так клиент сообщает, что прочитать не смог: ответ сервера, сеть, TLS,
    битый файл, сбой программы."""
    import polars as pl
    import pyarrow as pa

    return (OSError, pa.ArrowException, pl.exceptions.PolarsError,
            subprocess.SubprocessError)


def by_pyarrow(endpoint, read) -> None:
    """C++: у pyarrow свой клиент S3 (не s3fs); Parquet он читает запросами Range, как DuckDB."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    fs = common.pyarrow_filesystem(endpoint)
    bucket, duckdbs = endpoint.bucket, endpoint.derived("duckdb")
    with read("C++", "pyarrow.fs", CSV) as got, fs.open_input_stream(f"{bucket}/{CSV}") as stream:
        got.data = stream.read()
    with read("C++", "pyarrow.parquet", PARQUET) as got:
        got.table = pq.read_table(f"{duckdbs}/{PARQUET}", filesystem=fs)
    with read("C++", "pyarrow.dataset", f"{PARTS}/") as got:
        # Столбца Pclass в файлах нет: он берётся из ключа …/Pclass=1/data_0.parquet.
        parts = ds.dataset(f"{duckdbs}/{PARTS}", filesystem=fs, format="parquet",
                           partitioning="hive")
        got.table = parts.to_table()


def by_polars(endpoint, read) -> None:
    """Rust: polars и его object_store; свой CA — только через окружение (common.polars_trust)."""
    import polars as pl

    bucket, duckdbs = endpoint.bucket, endpoint.derived("duckdb")
    options = common.polars_options(endpoint, bucket)
    with common.polars_trust(endpoint), read("Rust", "polars", CSV) as got:
        got.table = pl.read_csv(f"s3://{bucket}/{CSV}", storage_options=options)
    options = common.polars_options(endpoint, duckdbs)
    with common.polars_trust(endpoint), read("Rust", "polars", PARQUET) as got:
        got.table = pl.read_parquet(f"s3://{duckdbs}/{PARQUET}", storage_options=options)
    with common.polars_trust(endpoint), read("Rust", "polars", f"{PARTS}/") as got:
        lazy = pl.scan_parquet(f"s3://{duckdbs}/{PARTS}/**/*.parquet", hive_partitioning=True,
                               storage_options=options)
        got.table = lazy.collect()


def by_programs(endpoint, read, tools: list[str]) -> None:
    """Go и Python отдельными процессами: настройки — только их собственные переменные и флаги."""
    if "rclone" in tools:
        with common.rclone_cli(endpoint) as rclone, read("Go", "rclone cat", CSV) as got:
            source = f"{rclone.remote}:{endpoint.bucket}/{CSV}"
            result = subprocess.run([*rclone.command, "cat", source], env=rclone.env,
                                    capture_output=True, timeout=common.TOOL_TIMEOUT)
            got.data = output(result)
    if "aws" in tools:
        with common.aws_cli(endpoint) as aws, read("Python", "aws s3 cp", CSV) as got:
            source = f"s3://{endpoint.bucket}/{CSV}"
            result = subprocess.run([*aws.command, "s3", "cp", source, "-"], env=aws.env,
                                    capture_output=True, timeout=common.TOOL_TIMEOUT)
            got.data = output(result)


def main() -> int:
    common.header("Другие языки читают то, что записали boto3 и DuckDB")
    tools = [tool for tool in TOOLS if not skipped(tool)]
    seconds = common.DEADLINE + common.TOOL_TIMEOUT * len(tools)  # программе — свой срок
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint, seconds=seconds):
            s3 = common.boto3_client(endpoint)
            bucket, duckdbs = endpoint.bucket, endpoint.derived("duckdb")

            # Эталон — байты, которые записал boto3 (шаг 3), и посчитанное по ним.
            answer = s3.get_object(Bucket=bucket, Key=CSV)
            original = answer["Body"].read()
            records = list(csv.DictReader(io.StringIO(original.decode())))
            reference = SimpleNamespace(
                sha256=hashlib.sha256(original).hexdigest(),
                survival=survival([r["Pclass"] for r in records], [r["Survived"] for r in records]))
            s3.head_object(Bucket=duckdbs, Key=PARQUET)  # Parquet от DuckDB на месте (шаг 8)

            rows = [["Python", "boto3", CSV, f"{len(records)} · {reference.sha256[:8]}…", "эталон"]]
            problems: list[str] = []
            read = partial(reading, rows, problems, reference)
            by_pyarrow(endpoint, read)
            by_polars(endpoint, read)
            by_programs(endpoint, read, tools)

            common.table(f"{endpoint.name}: {bucket} и {duckdbs} глазами других клиентов",
                         ["Язык", "Библиотека", "Что прочитано", "Строк / SHA-256", "Как boto3"],
                         rows)
            for problem in problems:
                common.note(f"  {common.mask_secrets(problem, endpoint)}")
            classes = ", ".join(f"{c}-й {s} из {n}" for c, (n, s) in reference.survival.items())
            total = common.plural(len(records), *ROWS)
            common.note(f"boto3: {total}; выжило по классам: {classes}")
            differ = [f"{row[1]} ({row[2]})" for row in rows[1:] if row[4] is not True]
            common.check(not differ, f"все {len(rows) - 1} чтений совпали с boto3: "
                                     "CSV байт в байт, Parquet строка в строку",
                         f"не совпало с boto3: {', '.join(differ)}")
    return common.summary()


def survival(classes, survived) -> dict[int, tuple[int, int]]:
    """Класс → (пассажиров, выжило). Арифметика одна на всех: различаться могут только данные."""
    result: dict[int, tuple[int, int]] = {}
    for pclass, alive in zip(classes, survived, strict=True):
        passengers, saved = result.get(int(pclass), (0, 0))
        result[int(pclass)] = (passengers + 1, saved + int(alive))
    return dict(sorted(result.items()))


@contextmanager
def reading(rows: list, problems: list, reference, language: str, library: str, what: str):
    """Одно чтение — строка таблицы. got.data (байты) сверяется по SHA-256, got.table (pyarrow
    или polars) — по выживаемости. Не прочитал — ✗ в таблице и причина под ней."""
    got = SimpleNamespace(data=None, table=None)
    try:
        yield got
    except read_errors() as error:
        first = (str(error).strip().splitlines() or [""])[0]
        problems.append(f"{library}, {what}: {type(error).__name__}: {first[:100]}")
        rows.append([language, library, what, "не прочитано", False])
        return
    if got.data is not None:
        digest = hashlib.sha256(got.data).hexdigest()
        rows.append([language, library, what, digest[:8] + "…", digest == reference.sha256])
    else:
        table = got.table
        counted = survival(table["Pclass"].to_numpy(), table["Survived"].to_numpy())
        shown = common.plural(len(table), *ROWS)
        rows.append([language, library, what, shown, counted == reference.survival])


def skipped(tool: str) -> bool:
    """Программы нет в PATH или она не запускается (прослойка pyenv без самой программы):
    строка «·», и шаг идёт без неё."""
    reason = None
    if shutil.which(tool) is None:
        reason = "нет в PATH"
    else:
        try:
            probe = subprocess.run([tool, "--version"], capture_output=True,
                                   timeout=common.TOOL_TIMEOUT)
            reason = None if probe.returncode == 0 else f"не запускается (код {probe.returncode})"
        except (OSError, subprocess.SubprocessError) as error:
            reason = f"не запускается ({type(error).__name__})"
    if reason:
        common.note(f"· {tool} {reason} — пропускаю")
    return reason is not None


def output(result: subprocess.CompletedProcess) -> bytes:
    """Вывод программы; ненулевой код — ошибка чтения с последней строкой её stderr."""
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["—"]
        raise subprocess.SubprocessError(f"код {result.returncode}: {lines[-1]}")
    return result.stdout


if __name__ == "__main__":
    raise SystemExit(common.run(main))
