"""Клетки pandas (s3fs и pyarrow): те же вызовы, что в шагах лекции, — с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

from functools import partial

from lecture.compat import runner
from lecture.compat.runner import Run
from lecture.failures import lacks

CELLS: list = []
cell = partial(runner.cell, CELLS)


def frame():
    import pandas as pd

    return pd.DataFrame({"n": [1, 2, 3], "word": ["S3", "как", "стандарт"]})


@cell("objects", "pandas", "put_object")
def pandas_put(run: Run) -> None:
    run.wrote("pandas", "pandas/data.parquet", "pandas/sub/data.csv")
    frame().to_parquet(run.url("pandas/data.parquet"), index=False, storage_options=run.options)
    frame().to_csv(run.url("pandas/sub/data.csv"), index=False, storage_options=run.options)


@cell("objects", "pandas", "head_object", needs=("put_object",))
def pandas_head(run: Run) -> None:
    info = run.fs.info(f"{run.bucket}/pandas/data.parquet")  # HEAD
    lacks(info["size"] != len(frame().to_parquet(index=False)), "не те байты")


@cell("objects", "pandas", "list_objects", needs=("put_object",))
def pandas_list(run: Run) -> None:
    names = run.fs.ls(f"{run.bucket}/pandas/", detail=False, refresh=True)  # ListObjectsV2 с «/»
    expected = [f"{run.bucket}/pandas/data.parquet", f"{run.bucket}/pandas/sub"]
    lacks(sorted(names) != expected, "не тот список")


@cell("objects", "pandas", "get_range", needs=("put_object",))
def pandas_range(run: Run) -> None:
    import pandas as pd

    from_parquet = pd.read_parquet(run.url("pandas/data.parquet"), storage_options=run.options)
    from_csv = pd.read_csv(run.url("pandas/sub/data.csv"), storage_options=run.options)
    lacks(not (from_parquet.equals(frame()) and from_csv.equals(frame())), "не те байты")
