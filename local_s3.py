"""Локальный S3 без Docker: встроенный сервер moto на 127.0.0.1:9000.

Отвечает на те же запросы S3 API, что MinIO, с основным бакетом «lecture» — поэтому
.env.example работает без изменений. Данные живут в памяти до Ctrl-C. Ключи встроенный
сервер не проверяет: для ошибок «неверный ключ» нужен MinIO или облако.

Запуск: poetry run python local_s3.py [--port 9000] [--bucket lecture]
"""

import argparse
import logging
import socket
import time

import boto3
from moto.server import ThreadedMotoServer

import common


def start_server(port: int, bucket: str, log_requests: bool = True) -> ThreadedMotoServer:
    """Запускает сервер в фоне этого процесса и создаёт основной бакет.

    log_requests: печатать каждый HTTP-запрос («PUT /lecture/boto3/titanic.csv 200») —
    в отдельном окне это наглядно показывает, что S3 — просто HTTP."""
    logging.getLogger("werkzeug").setLevel(logging.INFO if log_requests else logging.WARNING)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            common.config_error(f"порт {port} уже занят — S3 уже запущен? Другой порт: --port 9100")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    s3.create_bucket(Bucket=bucket)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description="Встроенный S3-сервер для лекции")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--bucket", default="lecture")
    args = parser.parse_args()
    server = start_server(args.port, args.bucket)
    common.ok(f"S3 на http://127.0.0.1:{args.port}, бакет «{args.bucket}». Остановить: Ctrl-C")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
        common.ok("S3 остановлен, данные в памяти удалены")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run(main, ctrl_c=False))  # Ctrl-C здесь — обычная остановка сервера
