"""Матрица совместимости (compat.py): клетки по клиентам (*_cells.py), прогон по фазам (runner),
таблица (render)."""

from lecture.compat import boto3_cells, duckdb_cells, minio_cells, pandas_cells, polars_cells, pyarrow_cells


def cells() -> list:
    """Клетки всех клиентов; порядок внутри фазы задаёт runner (boto3, minio, DuckDB, pandas, pyarrow, polars)."""
    return [*boto3_cells.CELLS, *minio_cells.CELLS, *duckdb_cells.CELLS, *pandas_cells.CELLS,
            *pyarrow_cells.CELLS, *polars_cells.CELLS]
