"""Сроки и Ctrl-C: ни одно ожидание не длится вечно, прерывание — одна строка.

Таймауты клиентов ограничивают каждое чтение из сокета, но сервер, который отдаёт по байту
раз в две секунды, их никогда не превысит. Поэтому у блока эндпоинта есть общий срок:
когда он истёк, сторож (1) прерывает главный поток сигналом SIGALRM, (2) прерывает запросы
DuckDB (con.interrupt), (3) обрывает все соединения процесса с портом эндпоинта — на них
могут ждать рабочие потоки boto3 и minio при составной загрузке.

Ctrl-C: первый прерывает шаг (внутри эндпоинта — с отменой своих загрузок), следующие
не мешают уборке. Вне эндпоинта (импорт библиотек, подготовка файла) — одна строка и код 130.
"""

from __future__ import annotations

import gc
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

INTERRUPTED = 130  # код выхода после Ctrl-C, как у оболочки


class Expired(BaseException):  # noqa: N818 — не Exception: библиотеки не должны её перехватывать
    """Срок эндпоинта истёк."""


_state = SimpleNamespace(interrupted=False, inside=False, armed=False, interrupt=lambda: None, abandoned=False)


def interrupted() -> bool:
    return _state.interrupted


def also_interrupt(callback) -> None:
    """Что прервать по Ctrl-C и по сроку кроме главного потока: запросы DuckDB идут в его C++-коде."""
    _state.interrupt = callback


def finished() -> None:
    """Скрипт закончил: поздний Ctrl-C не меняет его итог и не убивает процесс, пока Python завершается."""
    _state.inside = _state.armed = False
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_sigint(signum, frame) -> None:
    # Следующие Ctrl-C шаг пропускает мимо: он уже останавливается и убирает за собой. SIG_IGN, а не
    # обработчик: при завершении Python возвращает обработчикам действие по умолчанию, и поздний Ctrl-C убил бы процесс.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state.interrupted = _state.abandoned = True
    _state.interrupt()
    if not _state.inside:
        sys.stdout.write("\n✗ прервано (Ctrl-C)\n")
        sys.stdout.flush()
        raise SystemExit(INTERRUPTED)
    raise KeyboardInterrupt


def _on_alarm(signum, frame) -> None:
    if _state.armed:
        _state.armed = False  # срок прерывает один раз
        raise Expired


@contextmanager
def limit(seconds: float, port: int, alarm: bool = True) -> Iterator[SimpleNamespace]:
    """Срок на блок: по его истечении — прерывание (alarm) и обрыв соединений с портом port."""
    watch = SimpleNamespace(expired=False, seconds=seconds)
    done = threading.Event()
    main = threading.main_thread().ident

    def watchdog():
        if done.wait(seconds):
            return
        watch.expired = _state.abandoned = True
        _state.interrupt()
        if alarm:
            signal.pthread_kill(main, signal.SIGALRM)
        while not done.is_set():  # рабочие потоки могут открыть новое соединение — обрываем и его
            cut_connections(port)
            done.wait(0.2)

    _state.inside, _state.armed = True, alarm
    threading.Thread(target=watchdog, daemon=True).start()
    try:
        yield watch
    finally:
        _state.armed = False  # сигнал, пришедший после этой строки, уже ничего не прервёт
        done.set()
        _state.inside = False


def cut_connections(port: int) -> None:
    """Обрывает TCP-соединения этого процесса с портом port: ждущий на них поток сразу получит ошибку.

    Сокеты ищем среди живых объектов: библиотеки не дают к ним другого доступа."""
    for item in gc.get_objects():
        if isinstance(item, socket.socket) and item.fileno() >= 0:
            try:
                if item.type == socket.SOCK_STREAM and item.getpeername()[1] == port:
                    item.shutdown(socket.SHUT_RDWR)
            except OSError:  # не соединён или уже закрыт
                continue


def _quiet_threads(args) -> None:
    """Брошенные после срока или Ctrl-C запросы доживают в фоновых потоках (s3fs, пулы загрузки) и падают
    на оборванных соединениях: их ошибки — не новость, строка ✗ уже напечатана. Остальные — как обычно."""
    if not _state.abandoned:
        _default_excepthook(args)


_default_excepthook = threading.excepthook
threading.excepthook = _quiet_threads

# Обработчики ставятся при импорте: common импортирует этот модуль раньше тяжёлых библиотек.
signal.signal(signal.SIGINT, _on_sigint)
signal.signal(signal.SIGALRM, _on_alarm)
