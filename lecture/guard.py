"""Блок эндпоинта и весь скрипт под одной защитой: ожидаемая ошибка — одна строка ✗, ошибка лекции —
строка с отчётом в файле (код 4), Ctrl-C — «прервано» (код 130), у каждого блока свой срок.

После сбоя и Ctrl-C блок отменяет свои незавершённые составные загрузки (lecture/uploads.py);
в его конце читается журнал запросов DuckDB (lecture/duckdb_log.py) — до объяснения ошибки.
О шагах модуль не знает: подсказки для строк ✗ (какой шаг создаёт бакеты) даёт common.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from rich.text import Text

from lecture import deadline, duckdb_log, failures, journal, masking, report, uploads, wire
from lecture.screen import console, fail, warn
from lecture.words import plural

# Что печатать и куда смотреть: задаётся в run() из аргументов (--trace, --debug), а не при импорте.
flags = SimpleNamespace(trace=False, debug=False)
_results: list[tuple[str, bool, bool]] = []  # (эндпоинт, прошёл, работать с ним нельзя)
_bugs: list[str] = []  # эндпоинты, где случилась ошибка лекции: код выхода 4
_journal_warned: list[str] = []
_known: list = []  # эндпоинты, чьи ключи маскируются в любой строке об ошибке лекции


def known(found: list) -> None:
    _known[:] = found


def config_error(message: str) -> None:
    console.print(Text.assemble(("Ошибка настройки:", "bold red"), " ", message))  # путь и имена — как есть
    raise SystemExit(2)


@contextmanager
def endpoint_block(endpoint, seconds: float, client: Callable, patience: float,
                   hints: dict[str, str]) -> Iterator[None]:
    """Блок эндпоинта: заголовок, срок, и ожидаемая ошибка — одна строка ✗ вместо трассировки.
    client(endpoint) — клиент boto3 для отмены загрузок, patience — секунд на отмену,
    hints — подстановки в объяснения ({made_by} — кто создаёт бакеты лекции)."""
    console.rule(Text.assemble((endpoint.name, "bold"), f"  {endpoint.url}  ключ "
                               f"{masking.mask_key(endpoint.access_key)}"), style="cyan")
    failure = bug = None
    try:
        with deadline.limit(seconds, endpoint) as watch:
            yield
    except (Exception, KeyboardInterrupt, deadline.Expired) as error:
        failure, bug = _outcome(error, endpoint, watch)
    finally:
        try:
            duckdb_log.flush(stop_on_interrupt=False)  # Ctrl-C здесь не теряется: его проверяют ниже
            duckdb_log.forget()
        except journal.Unavailable as problem:
            failure = failure or failures.Failure("журнал", str(problem))
    aborted, leftovers = _abort_uploads(endpoint, failure, client, patience)
    for upload in aborted if leftovers else []:
        warn(f"отменена незавершённая загрузка прошлого запуска: {upload.bucket}/{upload.key}")
    tail = f"; незавершённых загрузок отменено: {len(aborted)}" if failure and aborted else ""
    if deadline.interrupted():
        fail(f"{endpoint.name}: прервано (Ctrl-C){tail}")
        raise SystemExit(deadline.INTERRUPTED)
    if failure and failure.code == "журнал":  # писать в S3 без журнала нельзя: остановиться, как при настройке
        config_error(failure.explanation)
    if bug:
        fail(f"{endpoint.name}: {bug}{tail}")
        _bugs.append(endpoint.name)
    elif failure:
        fail(f"{endpoint.name}: {failures.describe(failure, endpoint, **hints)}{tail}")
    _results.append((endpoint.name, failure is None and bug is None,
                     bool(failure) and failure.code in failures.UNUSABLE))


def _outcome(error: BaseException, endpoint, watch) -> tuple[failures.Failure | None, str | None]:
    """(ожидаемый сбой, строка об ошибке лекции) — одно из двух."""
    try:
        duckdb_log.flush(stop_on_interrupt=False)  # ответы DuckDB — до объяснения: «нет Range», таймауты
    except journal.Unavailable as problem:
        return failures.Failure("журнал", str(problem)), None
    if isinstance(error, journal.Unavailable):
        return failures.Failure("журнал", str(error)), None
    expired = watch.seconds if watch.expired else None
    if deadline.interrupted():  # DuckDB превращает Ctrl-C в RuntimeError («Query interrupted»)
        return failures.Failure("прервано", "Ctrl-C"), None
    failure = failures.explain(error, endpoint, expired, wire.seen(endpoint))
    if failure is not None:
        return failure, None
    return None, unexpected(error, endpoint)


def unexpected(error: BaseException, endpoint=None) -> str:
    """Ошибка лекции: отчёт в файл, строка для зала (с --debug — и трассировка)."""
    def masked(text: str) -> str:
        for item in {*_known, *([endpoint] if endpoint else [])}:
            text = masking.mask(text, item.secret_key, item.access_key)
        return text

    if flags.debug:
        import traceback

        console.print(Text(masked("".join(traceback.format_exception(error))), style="red"))
    path = report.write(error, sys.argv[0], endpoint, masked)
    return report.line(error, path, masked)


def _abort_uploads(endpoint, failure, client: Callable, patience: float) -> tuple[list, list]:
    """Отменить незавершённые загрузки этого процесса, а если блок прошёл — и брошенные прошлыми запусками.
    Журнал не прочитать — загрузки прошлых запусков подождут (строка «!» — один раз)."""
    leftovers = []
    if not failure:
        try:
            leftovers = uploads.abandoned_uploads(endpoint)
        except journal.Unavailable as problem:
            if not _journal_warned:
                _journal_warned.append(str(problem))
                warn(str(problem))
    pending = uploads.own_uploads(endpoint) + leftovers
    if not pending:
        return [], leftovers
    # После истёкшего срока на отмену — 2 с: сервер уже показал, что медлит; остаток отменит следующий запуск.
    seconds = 2 if failure and failure.code == "таймаут" else patience
    try:
        return uploads.abort_uploads(endpoint, pending, client(endpoint), seconds), leftovers
    except journal.Unavailable:
        return [], leftovers


def summary() -> int:
    """Итог шага. Код выхода: 0 — все эндпоинты прошли, 1 — хотя бы один нет,
    3 — ни с одним работать нельзя: нет связи, ключи или TLS (лекцию вести не на чем),
    4 — ошибка самой лекции (строка с путём к отчёту уже напечатана)."""
    failed = [name for name, good, _ in _results if not good]
    total = plural(len(_results), "эндпоинта", "эндпоинтов", "эндпоинтов")
    if not failed:
        console.print(f"\n[bold green]{len(_results)} из {total}: ОК[/]")
        return 0
    console.print(Text.assemble((f"\n{len(_results) - len(failed)} из {total}: ОК", "bold red"),
                                f" (ошибки: {', '.join(failed)})"))
    if _bugs:
        return report.BUG
    return 3 if all(unreachable for _, _, unreachable in _results) else 1


def take_flags(argv: list[str], printer: Callable[[str], None]) -> None:
    """--trace и --debug за любой скрипт: забрать из argv (шаги читают свои аргументы после них)."""
    from lecture import trace

    for flag in ("--trace", "--debug"):
        if flag in argv:
            argv.remove(flag)
            setattr(flags, flag.removeprefix("--"), True)
    if flags.trace:
        trace.start(printer)


def run(main: Callable[[], int], ctrl_c: bool = True) -> int:
    """Весь скрипт под одной защитой: Ctrl-C где угодно — «прервано» и код 130, ошибка лекции вне
    эндпоинта — одна строка с отчётом и код 4. После main поздний Ctrl-C уже ничего не меняет:
    итог шага — его собственный. Сигнал может прийти и посреди выхода из блока эндпоинта (тогда
    его срок ещё взведён): сначала всё гасим, потом говорим. ctrl_c=False — обработчик Ctrl-C
    лекции не ставится: Ctrl-C остаётся обычным KeyboardInterrupt (run_demo.py, local_s3.py)."""
    if ctrl_c:
        deadline.install()
    try:
        try:
            code = main()
        finally:
            _settle()
    except (KeyboardInterrupt, deadline.Expired) as stop:
        _settle()
        if not (deadline.interrupted() or isinstance(stop, KeyboardInterrupt)):
            fail("срок эндпоинта истёк при завершении шага")  # блок эндпоинта уже не мог его объяснить
            return 1
        sys.stdout.write("\n✗ прервано (Ctrl-C)\n")
        sys.stdout.flush()
        return deadline.INTERRUPTED
    except Exception as error:  # noqa: BLE001 — ошибка лекции: строка и отчёт, а не трассировка
        fail(unexpected(error))
        return report.BUG
    return code


def _settle() -> None:
    """Погасить срок и Ctrl-C. Каждый из них прерывает не больше одного раза: повтор — и больше нечему."""
    for _ in range(3):
        try:
            deadline.finished()
            return
        except (KeyboardInterrupt, deadline.Expired):
            continue
