"""Клетки polars: его клиент S3 на Rust (object_store) через storage_options — те же чтения, что в шаге 20,
и запись; с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

from functools import partial

from lecture.compat import pieces, runner
from lecture.compat.runner import Run
from lecture.failures import lacks

CELLS: list = []
cell = partial(runner.cell, CELLS)


def frame(words: tuple[str, ...] = ("S3", "как", "стандарт")):
    import polars as pl

    return pl.DataFrame({"word": list(words)})


@cell("objects", "polars", "put_object")
def polars_put(run: Run) -> None:
    run.wrote("polars", "polars/data.parquet", "polars/sub/data.csv")
    with run.kit.polars_trust(run.endpoint):
        frame().write_parquet(run.url("polars/data.parquet"), storage_options=run.polars)
        frame().write_csv(run.url("polars/sub/data.csv"), storage_options=run.polars)


@cell("objects", "polars", "list_objects", needs=("put_object",))
def polars_list(run: Run) -> None:
    import polars as pl

    with run.kit.polars_trust(run.endpoint):  # шаблон раскрывает ListObjectsV2 с префиксом
        found = pl.scan_parquet(run.url("polars/*.parquet"), storage_options=run.polars,
                                include_file_paths="file").select("file").unique().collect()
    lacks(found["file"].to_list() != [run.url("polars/data.parquet")], "не тот список")


@cell("objects", "polars", "get_range", needs=("put_object",))
def polars_range(run: Run) -> None:
    import polars as pl

    with run.kit.polars_trust(run.endpoint):
        from_parquet = pl.read_parquet(run.url("polars/data.parquet"),  # конец файла и столбцы — по Range
                                       storage_options=run.polars)
        from_csv = pl.read_csv(run.url("polars/sub/data.csv"), storage_options=run.polars)  # весь объект
    lacks(not (from_parquet.equals(frame()) and from_csv.equals(frame())), "не те байты")


@cell("objects", "polars", "partitioned")
def polars_partitioned(run: Run) -> None:
    import polars as pl

    keys = {n: f"polars/parts/n={n}/data.parquet" for n in pieces.PARTS}
    run.wrote("polars", *keys.values())
    with run.kit.polars_trust(run.endpoint):
        for n, words in pieces.PARTS.items():
            frame(tuple(words)).write_parquet(run.url(keys[n]), storage_options=run.polars)
        # Столбец n — из ключей …/n=1/data.parquet, как Pclass в шаге 20.
        parts = pl.scan_parquet(run.url("polars/parts/**/*.parquet"), hive_partitioning=True,
                                storage_options=run.polars).collect()
    read = sorted(zip(parts["n"].to_list(), parts["word"].to_list(), strict=True))
    lacks(read != sorted((int(n), word) for n, words in pieces.PARTS.items() for word in words), "не те байты")
