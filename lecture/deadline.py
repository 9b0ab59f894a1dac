"""Сроки и Ctrl-C: ни одно ожидание не длится вечно, прерывание — одна строка.

Таймауты клиентов ограничивают каждое чтение из сокета, но сервер, который отдаёт по байту
раз в две секунды, их никогда не превысит. Поэтому у блока эндпоинта есть общий срок:
когда он истёк, сторож (1) прерывает главный поток, (2) прерывает запросы DuckDB (con.interrupt),
(3) обрывает соединения процесса с адресом и портом эндпоинта (и его прокси) — на них могут ждать
рабочие потоки boto3 и minio при составной загрузке.

Главный поток прерывается сигналом SIGALRM (pthread_kill), где он есть (Linux, macOS). Где его нет
(Windows) — _thread.interrupt_main: тот же обработчик Ctrl-C узнаёт, что это срок, и поднимает
Expired. Такой вызов не будит поток из системного вызова, но его будят обрыв соединения и
собственные таймауты клиентов (чтение — 4 с): срок держится с запасом в секунды.

Ctrl-C: первый прерывает шаг (внутри эндпоинта — с отменой своих загрузок), следующие
не мешают уборке. Вне эндпоинта — одна строка и код 130.
Импорт ничего не меняет в процессе: обработчики ставятся при первом сроке или в install().
"""

from __future__ import annotations

import _thread
import gc
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.request import getproxies, proxy_bypass

INTERRUPTED = 130  # код выхода после Ctrl-C, как у оболочки


class Expired(BaseException):  # noqa: N818 — не Exception: библиотеки не должны её перехватывать
    """Срок эндпоинта истёк."""


class Block:
    """Состояние одного блока со сроком: истёк ли, взведён ли, какие потоки брошены."""

    def __init__(self, seconds: float, alarm: bool):
        self.seconds, self.alarm = seconds, alarm
        self.expired = self.firing = False
        self.armed = alarm
        self.done = threading.Event()


class _Process:
    """То, что у процесса одно: Ctrl-C, стек открытых блоков, брошенные потоки, свои обработчики."""

    def __init__(self):
        self.interrupted = False
        self.blocks: list[Block] = []
        self.callbacks: list[Callable[[], object]] = []
        self.abandoned: set[int] = set()  # потоки, брошенные после срока или Ctrl-C
        self.installed = False
        self.default_excepthook = threading.excepthook


_process = _Process()


def interrupted() -> bool:
    return _process.interrupted


def also_interrupt(callback: Callable[[], object]) -> None:
    """Что прервать по Ctrl-C и по сроку кроме главного потока (запросы DuckDB идут в его C++-коде).
    Добавляет к уже заданным."""
    if callback not in _process.callbacks:
        _process.callbacks.append(callback)


def _interrupt_others() -> None:
    for callback in list(_process.callbacks):
        try:
            callback()
        except Exception:  # noqa: BLE001 — прервать то, что уже закрыто, нечем
            continue


def _can_alarm() -> bool:
    return hasattr(signal, "SIGALRM") and hasattr(signal, "pthread_kill")


def install() -> None:
    """Свои обработчики Ctrl-C и срока — при первом использовании, в главном потоке."""
    if _process.installed or threading.current_thread() is not threading.main_thread():
        return
    _process.installed = True
    signal.signal(signal.SIGINT, _on_sigint)
    if _can_alarm():
        signal.signal(signal.SIGALRM, _on_alarm)
    _process.default_excepthook = threading.excepthook
    threading.excepthook = _quiet_threads


def finished() -> None:
    """Скрипт закончил: поздний Ctrl-C не меняет его итог и не убивает процесс, пока Python завершается."""
    for block in _process.blocks:
        block.armed = False
    _process.blocks.clear()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_sigint(signum, frame) -> None:
    current = _process.blocks[-1] if _process.blocks else None
    if current is not None and current.firing:  # срок без SIGALRM (Windows): interrupt_main
        current.firing = False
        if current.armed:
            current.armed = False
            raise Expired
        return
    # Следующие Ctrl-C шаг пропускает мимо: он уже останавливается и убирает за собой. SIG_IGN, а не
    # обработчик: при завершении Python возвращает обработчикам действие по умолчанию, и поздний Ctrl-C убил бы процесс.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _process.interrupted = True
    _abandon()
    _interrupt_others()
    if current is None:
        sys.stdout.write("\n✗ прервано (Ctrl-C)\n")
        sys.stdout.flush()
        raise SystemExit(INTERRUPTED)
    raise KeyboardInterrupt


def _on_alarm(signum, frame) -> None:
    current = _process.blocks[-1] if _process.blocks else None
    if current is not None and current.armed:
        current.armed = False  # срок прерывает один раз
        raise Expired


def _abandon() -> None:
    """Потоки, живые сейчас, брошены: их поздние ошибки на оборванных соединениях — не новость."""
    main = threading.main_thread()
    _process.abandoned |= {thread.ident for thread in threading.enumerate() if thread is not main}


@contextmanager
def limit(seconds: float, endpoint, alarm: bool = True) -> Iterator[Block]:
    """Срок на блок: по его истечении — прерывание главного потока (alarm) и обрыв соединений
    с адресом и портом эндпоинта endpoint (у него есть hostname, port, secure)."""
    install()
    block = Block(seconds, alarm)
    main = threading.main_thread()

    def watchdog():
        if block.done.wait(seconds):
            return
        block.expired = True
        _abandon()
        _interrupt_others()
        if alarm:
            _interrupt_main(block, main.ident)
        peers = _peers(endpoint)
        while not block.done.is_set():  # рабочие потоки могут открыть новое соединение — обрываем и его
            cut_connections(peers)
            _abandon()
            block.done.wait(0.2)

    _process.blocks.append(block)
    threading.Thread(target=watchdog, daemon=True).start()
    try:
        yield block
    finally:
        block.armed = False  # сигнал, пришедший после этой строки, уже ничего не прервёт
        block.done.set()
        if block in _process.blocks:
            _process.blocks.remove(block)
        if block.expired or interrupted():
            forget_half_imported()


def forget_half_imported() -> None:
    """Срок истёк посреди импорта (шаги импортируют s3fs, pyarrow, polars при первой нужде): пакет
    Python убрал из sys.modules, а его уже загруженные модули остались. Следующий эндпоинт импортирует
    пакет заново, и его атрибуты-подмодули (aiohttp.http_exceptions) не появятся — AttributeError.
    Убираем и эти осиротевшие модули: следующий импорт пройдёт с нуля."""
    for name in sorted((name for name in sys.modules if "." in name), key=lambda name: name.count(".")):
        if name.rpartition(".")[0] not in sys.modules:
            sys.modules.pop(name, None)


def _interrupt_main(block: Block, main: int | None) -> None:
    if _can_alarm() and main is not None:
        signal.pthread_kill(main, signal.SIGALRM)
        return
    block.firing = True
    _thread.interrupt_main(signal.SIGINT)


def _peers(endpoint) -> set[tuple[str, int]]:
    """Адреса и порт эндпоинта — и его прокси, если запрос идёт через HTTPS_PROXY или HTTP_PROXY."""
    from urllib.parse import urlsplit

    places = [(endpoint.hostname, endpoint.port)]
    proxy = getproxies().get("https" if endpoint.secure else "http")
    if proxy and not proxy_bypass(endpoint.hostname):
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if parts.hostname:
            places.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    peers = set()
    for host, port in places:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:  # имя не разрешается: соединений с ним и нет
            continue
        peers |= {(info[4][0], port) for info in found}
    return peers


def cut_connections(peers: set[tuple[str, int]]) -> None:
    """Обрывает TCP-соединения этого процесса с этими адресами и портами: ждущий на них поток сразу
    получит ошибку. Сокеты ищем среди живых объектов: библиотеки не дают к ним другого доступа."""
    for item in gc.get_objects():
        if isinstance(item, socket.socket) and item.fileno() >= 0:
            try:
                if item.type == socket.SOCK_STREAM and tuple(item.getpeername()[:2]) in peers:
                    item.shutdown(socket.SHUT_RDWR)
            except (OSError, TypeError):  # не соединён или уже закрыт
                continue


def _quiet_threads(args) -> None:
    """Брошенные после срока или Ctrl-C запросы доживают в фоновых потоках (s3fs, пулы загрузки) и падают
    на оборванных соединениях: их ошибки — не новость, строка ✗ уже напечатана. Остальные — как обычно."""
    thread = args.thread
    if thread is None or thread.ident not in _process.abandoned:
        _process.default_excepthook(args)
