"""Шаг 17. Аналитика читает только нужные байты.

Parquet хранит данные по столбцам и группам строк, а в конце файла — статистику (min/max
каждого столбца в каждой группе). DuckDB запрашивает у S3 диапазоны байтов (HTTP Range):
подвал файла, затем только нужные столбцы только тех групп, где может быть ответ.
EXPLAIN ANALYZE показывает, сколько байт DuckDB на самом деле скачал.

Запуск: poetry run python duckdb_pushdown.py [строк, по умолчанию 1000000]
"""

import re
import sys

import common

UNITS = {"bytes": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
QUERY = "SELECT count(*) AS строк, round(avg(amount), 2) AS среднее FROM '{url}' WHERE id BETWEEN 500000 AND 509999"


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    common.header(f"DuckDB: выборочный запрос к Parquet в S3 ({rows:,} строк)".replace(",", " "))
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint):
            con, s3 = common.duckdb_connect(endpoint), common.boto3_client(endpoint)
            key = f"pushdown/events-{rows}.parquet"
            url = f"s3://{endpoint.duckdb_bucket}/{key}"
            existing = con.execute(f"SELECT file FROM glob('s3://{endpoint.duckdb_bucket}/pushdown/*')").fetchall()
            if (url,) not in existing:  # файл уже есть — не пишем заново
                con.execute(f"""COPY (SELECT range AS id, random() * 1000 AS amount, md5(range::VARCHAR) AS note
                                      FROM range({rows})) TO '{url}' (FORMAT parquet, ROW_GROUP_SIZE 100000)""")
            size = s3.head_object(Bucket=endpoint.duckdb_bucket, Key=key)["ContentLength"]

            con.execute("SET enable_external_file_cache = false")  # считаем каждый байт из S3, не из кэша
            answer = con.execute(QUERY.format(url=url)).fetchone()
            plan = con.execute("EXPLAIN ANALYZE " + QUERY.format(url=url)).fetchall()[0][1]
            amount, unit = re.search(r"in: ([\d.]+) (bytes|KiB|MiB|GiB)", plan).groups()
            fetched = float(amount) * UNITS[unit]
            gets = re.search(r"#GET: (\d+)", plan).group(1)
            common.table(f"{endpoint.name}: {url}", ["Объект", "Скачано DuckDB", "Доля", "GET-запросов", "Ответ"],
                         [[common.human_size(size), common.human_size(int(fetched)), f"{100 * fetched / size:.1f} %",
                           gets, f"{answer[0]} строк, среднее {answer[1]}"]])
            common.check(0 < fetched < size / 4, f"прочитано {100 * fetched / size:.1f} % объекта: только нужные "
                         "столбцы и группы строк", "DuckDB скачал почти весь объект")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(main())
