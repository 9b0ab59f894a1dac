"""Матрица совместимости: одни и те же операции S3 — на каждом эндпоинте, каждым клиентом.

Лекция утверждает, что один код работает с любым S3. Здесь это проверяется целиком: каждую
операцию, которую делают шаги лекции и дополнительные шаги, выполняет каждый клиент, которым
её делает лекция (boto3, minio, DuckDB, pandas через s3fs, а чтения шага 20 — pyarrow и polars),
на каждом эндпоинте из S3_ENDPOINTS.
И не только «ответил 200»: прочитанные байты, метаданные, теги, версии сверяются с записанным.

Как читать таблицу. Строки — операции, столбцы — эндпоинт × клиент: имя эндпоинта стоит над
первым из шести его столбцов, буква под ним — клиент: b — boto3, m — minio, d — DuckDB,
p — pandas (s3fs), a — pyarrow (свой клиент на C++), r — polars (Rust, object_store).
В Markdown у каждого столбца имя целиком: «moto·b». В клетке:
  ✓  операция сделала то, что обещает S3;
  —  этот клиент в лекции такой операции не делает;
  ·  не проверялось: не удалась операция, без которой эта не имеет смысла;
  иначе — что случилось: код S3 (NotImplemented, AccessDenied), статус HTTP (HTTP 500),
  сеть (таймаут) или короткие слова, если сервер ответил «да», но сделал не то
  («нет Range», «без тегов», «без срока», «версий нет»…) — их смысл написан под таблицей.
DuckDB пишет объект командой COPY, листает бакет через glob, делает HEAD в read_blob и читает
диапазоны байтов в read_parquet; pandas пишет to_parquet и to_csv, читает read_parquet
и read_csv, а HEAD и список (fs.info, fs.ls) делает его s3fs. pyarrow (pyarrow.fs.S3FileSystem)
и polars (storage_options) — с настройками шага 20 из common.py: пишут, листают, читают объект
целиком и по Range и читают hive-разбиение (…/n=1/data.parquet) одной таблицей.

Всё пишется в свой бакет <бакет>-compat: boto3 создаёт его для всех проверок и в конце удаляет,
затем minio создаёт и удаляет его ещё раз (его CreateBucket и DeleteBucket). Удаляется ровно то,
что записал этот запуск: ключи, версии по VersionId из ответов сервера, незавершённые загрузки
по UploadId. Если бакет <бакет>-compat уже есть, он не наш: эндпоинт пропускается строкой ✗.
У каждой операции свой срок: зависший сервер стоит секунды, а не минуты.

Ограничения сервера — сведения, а не сбой. Код выхода: 0 — таблица построена; 1 — какой-то
эндпоинт проверен не весь (недоступен, бакет уже был или не создался, связь пропала: строка ✗
над таблицей); 2 — ошибка настройки.
--markdown FILE — та же таблица в Markdown, без времени и случайных имён: её вставляют в docs/testing.md.

Запуск: poetry run python compat.py [--markdown FILE] [--trace]
"""

import argparse
from pathlib import Path

import common
from lecture import compat
from lecture.compat import render, runner


def main() -> int:
    parser = argparse.ArgumentParser(description="Матрица совместимости: операции S3 на каждом "
                                                 "эндпоинте каждым клиентом")
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="та же таблица в Markdown")
    args = parser.parse_args()
    if args.markdown and not args.markdown.parent.is_dir():
        common.config_error(f"--markdown {args.markdown}: нет каталога {args.markdown.parent}")
    endpoints = common.endpoints()
    common.header(f"Матрица совместимости: {len(render.OPERATIONS)} операций × "
                  f"{common.plural(len(endpoints), 'эндпоинт', 'эндпоинта', 'эндпоинтов')} × "
                  f"{common.plural(len(runner.CLIENTS), 'клиент', 'клиента', 'клиентов')}")
    cells = compat.cells()
    runs = []
    for endpoint in endpoints:
        run = runner.check(endpoint, common, cells)
        runs.append(run)
        if run.trouble:
            common.fail(f"{endpoint.name}: {run.trouble}")
        else:
            common.ok(f"{endpoint.name}: проверен за {common.number(run.seconds)} с")
    render.show(runs, cells)
    if args.markdown:
        args.markdown.write_text(render.markdown(runs, cells), encoding="utf-8")
        common.note(f"Markdown: {args.markdown}")
    return 1 if any(run.trouble for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(common.run(main))
