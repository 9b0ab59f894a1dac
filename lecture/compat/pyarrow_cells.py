"""Клетки pyarrow: его собственный клиент S3 на C++ (pyarrow.fs.S3FileSystem, AWS SDK for C++), не s3fs, —
те же чтения, что в шаге 20, и запись; с проверкой, что сервер сделал обещанное."""

from __future__ import annotations

from functools import partial

from lecture.compat import pieces, runner
from lecture.compat.runner import Run
from lecture.failures import lacks

CELLS: list = []
cell = partial(runner.cell, CELLS)


def table(words: list[str]):
    import pyarrow as pa

    return pa.table({"word": words})


@cell("objects", "pyarrow", "put_object")
def pyarrow_put(run: Run) -> None:
    run.wrote("pyarrow", "pyarrow/object.txt", "pyarrow/sub/object.txt")
    for key in ("pyarrow/object.txt", "pyarrow/sub/object.txt"):
        with run.arrow.open_output_stream(f"{run.bucket}/{key}") as stream:  # один PutObject
            stream.write(pieces.BODY)


@cell("objects", "pyarrow", "list_objects", needs=("put_object",))
def pyarrow_list(run: Run) -> None:
    from pyarrow import fs

    listing = run.arrow.get_file_info(fs.FileSelector(f"{run.bucket}/pyarrow/"))  # ListObjectsV2 с «/»
    kinds = {info.path: info.type for info in listing}
    lacks(kinds.get(f"{run.bucket}/pyarrow/sub") != fs.FileType.Directory, "без папок")
    lacks(kinds.get(f"{run.bucket}/pyarrow/object.txt") != fs.FileType.File, "не тот список")


@cell("objects", "pyarrow", "get_range", needs=("put_object",))
def pyarrow_range(run: Run) -> None:
    path = f"{run.bucket}/pyarrow/object.txt"
    with run.arrow.open_input_stream(path) as stream:  # весь объект
        whole = stream.read()
    with run.arrow.open_input_file(path) as file:  # read_at — GET с Range: bytes=2-5
        part = file.read_at(4, 2)
    lacks(whole != pieces.BODY, "не те байты")
    lacks(part == pieces.BODY, "нет Range")
    lacks(part != pieces.BODY[2:6], "не те байты")


@cell("objects", "pyarrow", "partitioned")
def pyarrow_partitioned(run: Run) -> None:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    keys = {n: f"pyarrow/parts/n={n}/data.parquet" for n in pieces.PARTS}
    run.wrote("pyarrow", *keys.values())
    for n, words in pieces.PARTS.items():
        pq.write_table(table(words), f"{run.bucket}/{keys[n]}", filesystem=run.arrow)
    # Столбца n в файлах нет: он берётся из ключа …/n=1/data.parquet, как Pclass в шаге 20.
    parts = ds.dataset(f"{run.bucket}/pyarrow/parts", filesystem=run.arrow, format="parquet",
                       partitioning="hive").to_table()
    read = sorted(zip(parts["n"].to_pylist(), parts["word"].to_pylist(), strict=True))
    lacks(read != sorted((int(n), word) for n, words in pieces.PARTS.items() for word in words), "не те байты")
