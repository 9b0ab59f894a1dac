"""Клетки DuckDB (COPY, glob, read_blob, read_parquet): те же вызовы, что в шагах лекции, —
с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

from functools import partial

from lecture.compat import runner
from lecture.compat.runner import Run
from lecture.failures import lacks

CELLS: list = []
cell = partial(runner.cell, CELLS)


@cell("objects", "duckdb", "put_object")
def duckdb_put(run: Run) -> None:
    run.wrote("duckdb", "duckdb/data.parquet", "duckdb/sub/data.parquet")
    written = run.duckdb.execute("COPY (SELECT * FROM range(3) t(n)) TO $url "
                                 "(FORMAT parquet, RETURN_STATS)",
                                 {"url": run.url("duckdb/data.parquet")})
    run.parquet_size = written.fetchone()[2]  # filename, count, file_size_bytes…
    run.duckdb.execute("COPY (SELECT * FROM range(3) t(n)) TO $url (FORMAT parquet)",
                       {"url": run.url("duckdb/sub/data.parquet")})


@cell("objects", "duckdb", "head_object", needs=("put_object",))
def duckdb_head(run: Run) -> None:
    answer = run.duckdb.execute("SELECT size FROM read_blob($url)",  # без content — только HEAD
                                {"url": run.url("duckdb/data.parquet")})
    lacks(answer.fetchone()[0] != run.parquet_size, "не те байты")


@cell("objects", "duckdb", "list_objects", needs=("put_object",))
def duckdb_list(run: Run) -> None:
    listing = run.duckdb.execute("SELECT file FROM glob($pattern)",
                                 {"pattern": run.url("duckdb/*")})  # ListObjectsV2 с префиксом
    lacks(listing.fetchall() != [(run.url("duckdb/data.parquet"),)], "не тот список")


@cell("objects", "duckdb", "get_range", needs=("put_object",))
def duckdb_range(run: Run) -> None:
    rows = run.duckdb.execute("SELECT n FROM read_parquet($url) ORDER BY n",
                              {"url": run.url("duckdb/data.parquet")})
    lacks(rows.fetchall() != [(0,), (1,), (2,)], "не те байты")
