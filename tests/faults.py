"""Неисправные серверы для тестов: молчащий сокет и TCP-прокси, который тормозит или рвёт соединения.

Всё слушает только 127.0.0.1 и живёт, пока жив тест.
"""

from __future__ import annotations

import socket
import threading
import time


class _Listener:
    """Слушает случайный порт на 127.0.0.1 и отдаёт каждое принятое соединение в on_connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.on_connection(conn)

    def on_connection(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self):
        self.closed = True
        self.sock.close()


class HungServer(_Listener):
    """Принимает соединения и никогда не отвечает — как зависший провайдер."""

    def __init__(self):
        self.held: list[socket.socket] = []
        super().__init__()

    def on_connection(self, conn):
        self.held.append(conn)

    def close(self):
        super().close()
        for conn in self.held:
            conn.close()


class Proxy(_Listener):
    """TCP-прокси к серверу: rate — байт в секунду от клиента к серверу, cut_after — разорвать
    соединение после стольких байт от клиента (None — не рвать); считает байты от сервера."""

    def __init__(self, target_port: int, rate: float | None = None, cut_after: int | None = None):
        self.target_port, self.rate, self.cut_after = target_port, rate, cut_after
        self.downstream = 0  # байт от сервера к клиенту
        super().__init__()

    def on_connection(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
        threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, upstream: bool):
        sent = 0
        try:
            while data := source.recv(64 * 1024):
                if upstream and self.cut_after is not None and sent + len(data) > self.cut_after:
                    break
                target.sendall(data)
                sent += len(data)
                if not upstream:
                    self.downstream += len(data)
                if upstream and self.rate:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

