"""Запросы DuckDB: он сам событий не шлёт, а пишет каждый свой HTTP-запрос в журнал duckdb_logs.

Журнал читается в явных точках — в конце блока эндпоинта и перед объяснением его ошибки (flush),
а не при каждой строке вывода: печать строки не выполняет SQL и не может упасть.
"""

from __future__ import annotations

from lecture import deadline, trace, uploads, wire

_connections: list[list] = []  # [соединение, эндпоинт, сколько строк журнала DuckDB уже разобрано]


def observe(con, endpoint) -> None:
    """DuckDB пишет каждый свой HTTP-запрос в журнал duckdb_logs; разбираем его в flush()."""
    con.execute("CALL enable_logging('HTTP')")
    _connections.append([con, endpoint, 0])
    deadline.also_interrupt(interrupt)  # Ctrl-C и срок прерывают и запросы DuckDB


def connections() -> list:
    return [con for con, _, _ in _connections]


def interrupt() -> None:
    """Прервать запросы DuckDB: они идут в его C++-коде, Ctrl-C и срок до них сами не доходят."""
    for con in connections():
        con.interrupt()


def flush(stop_on_interrupt: bool = True) -> None:
    """Новые запросы DuckDB: строки трассировки и записи журнала.
    Ctrl-C во время этого запроса DuckDB превращает в обычный RuntimeError — его поднимаем снова
    как KeyboardInterrupt (stop_on_interrupt), иначе шаг шёл бы дальше, будто ничего не было."""
    for entry in _connections:
        con, endpoint, seen = entry
        try:
            rows = con.execute(f"""
                SELECT request.type, request.url, response.status, response.headers,
                       request.request_body_length, request.headers['Range'] IS NOT NULL,
                       request.duration_ms >= 900 * current_setting('http_timeout')::BIGINT
                FROM duckdb_logs_parsed('HTTP') ORDER BY timestamp OFFSET {int(seen)}""").fetchall()
        except Exception:  # noqa: BLE001 — соединение уже закрыто: читать нечего
            if stop_on_interrupt and deadline.interrupted():
                raise KeyboardInterrupt from None
            continue
        entry[2] += len(rows)
        for method, url, status, headers, sent, ranged, waited in rows:
            if waited:  # запрос длился весь http_timeout: curl оборвал его по сроку, даже если статус пришёл
                wire.saw_timeout(endpoint)
            code = str(status).rsplit("_", 1)[-1]  # OK_200 → 200; без ответа — INVALID
            if not code.isdigit():
                trace.line("duckdb", method, url, "нет ответа", sent, None)
                continue
            wire.exchange("duckdb", endpoint, method, url, int(code), headers or {}, {}, sent, bool(ranged))


def forget() -> None:
    """Конец блока: соединения DuckDB забыты; загрузки, UploadId которых клиент так и не показал, —
    в журнал без UploadId: их найдёт ListMultipartUploads по ключу и времени."""
    _connections.clear()
    uploads.settle_unnamed()
