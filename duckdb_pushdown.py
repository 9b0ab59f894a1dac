"""Шаг 17. Аналитика читает только нужные байты.

Parquet хранит данные по столбцам и группам строк, а в конце файла — статистику (min/max
каждого столбца в каждой группе). DuckDB запрашивает у S3 диапазоны байтов (HTTP Range):
подвал файла, затем только нужные столбцы только тех групп, где может быть ответ.
EXPLAIN ANALYZE показывает, сколько байт DuckDB на самом деле скачал.

Запуск: poetry run python duckdb_pushdown.py [строк, по умолчанию 1000000] [--trace]
"""

import re
import sys

import common

ROWS = ("строка", "строки", "строк")
UNITS = {"bytes": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
GENERATE = """
    COPY (SELECT range AS id, random() * 1000 AS amount, md5(range::VARCHAR) AS note
          FROM range({rows})) TO {url} (FORMAT parquet, ROW_GROUP_SIZE 100000)
"""
QUERY = """
    SELECT count(*), avg(amount) FROM read_parquet({url}) WHERE id BETWEEN {low} AND {high}
"""


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    common.header(f"DuckDB: выборочный запрос к Parquet в S3 ({common.plural(rows, *ROWS)})")
    for endpoint in common.endpoints():
        with common.endpoint_block(endpoint, seconds=common.DEADLINE + rows / 50_000):
            con = common.duckdb_connect(endpoint, writes=True)
            s3 = common.boto3_client(endpoint)
            bucket, key = endpoint.derived("duckdb"), f"pushdown/events-{rows}.parquet"
            url = f"s3://{bucket}/{key}"

            pattern = common.literal(f"s3://{bucket}/pushdown/*")
            listing = con.execute(f"SELECT file FROM glob({pattern})")
            if (url,) not in listing.fetchall():  # файл уже есть — не пишем заново
                con.execute(GENERATE.format(rows=rows, url=common.literal(url)))
            head = s3.head_object(Bucket=bucket, Key=key)
            size = head["ContentLength"]

            con.execute("SET enable_external_file_cache = false")  # каждый байт — из S3, не из кэша
            low = rows // 2  # средний 1 % строк
            query = QUERY.format(url=common.literal(url), low=low, high=low + rows // 100 - 1)
            answer = con.execute(query).fetchone()
            plan = con.execute("EXPLAIN ANALYZE " + query).fetchall()[0][1]
            amount, unit = re.search(r"in: ([\d.]+) (bytes|KiB|MiB|GiB)", plan).groups()
            fetched = float(amount) * UNITS[unit]
            gets = re.search(r"#GET: (\d+)", plan).group(1)
            share = common.number(100 * fetched / size)

            common.table(f"{endpoint.name} / {bucket}/{key}",
                         ["Объект", "Скачано", "Доля", "GET за запрос", "Ответ"],
                         [[common.human_size(size), common.human_size(fetched), f"{share} %", gets,
                           common.plural(answer[0], *ROWS)]])
            common.check(0 < fetched < size / 4,
                         f"прочитано {share} % объекта: только нужные столбцы и группы строк",
                         "DuckDB скачал почти весь объект")
    return common.summary()


if __name__ == "__main__":
    raise SystemExit(common.run(main))
