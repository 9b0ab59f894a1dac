"""Другие программы читают тот же S3 (шаг о других языках): rclone (Go) и AWS CLI (Python, свой botocore).

Те же знания, что у клиентов common, на языке каждой программы: схема и host:port, стиль адреса,
регион, свой CA, короткие таймауты и мало повторов. Проверку TLS не выключает ни одна.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from lecture.settings import Endpoint

TOOL_TIMEOUT = 10  # секунд на программу (rclone, aws): запуск и одно чтение; сам aws стартует 1–3 с
RCLONE_REMOTE = "lecture"  # имя хранилища rclone: lecture:бакет/ключ ← RCLONE_CONFIG_LECTURE_*


def _tool_env() -> dict[str, str]:
    """Окружение программы без чужих настроек S3 и TLS: только то, что нужно запуску.
    rclone, например, падает с LoadCustomCABundleError, если в окружении есть AWS_CA_BUNDLE."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT", "PYENV_ROOT", "PYENV_VERSION")
    return {name: value for name, value in os.environ.items() if name in keep}


@contextmanager
def rclone_cli(endpoint: Endpoint, connect: float, read: float) -> Iterator:
    """rclone (Go): хранилище lecture: целиком из переменных RCLONE_CONFIG_LECTURE_*, без файла настроек.
    Даёт command (rclone с флагами) и env."""

    import certifi

    config = {
        "TYPE": "s3", "PROVIDER": "Other",  # Other: обычный S3 без причуд AWS, Ceph или MinIO
        "ENDPOINT": endpoint.url, "REGION": endpoint.region,
        "ACCESS_KEY_ID": endpoint.access_key, "SECRET_ACCESS_KEY": endpoint.secret_key,
        "FORCE_PATH_STYLE": str(endpoint.url_style != "vhost").lower(),
    }
    env = _tool_env() | {f"RCLONE_CONFIG_{RCLONE_REMOTE.upper()}_{name}": value for name, value in config.items()}
    env["RCLONE_CONFIG"] = os.devnull  # файл настроек пользователя не участвует
    command = ["rclone", "--contimeout", f"{connect}s", "--timeout", f"{read}s",
               "--retries", "1", "--low-level-retries", "1"]  # по умолчанию 3 и 10 попыток
    if endpoint.secure:  # --ca-cert заменяет системные CA: те же, что у boto3
        command += ["--ca-cert", endpoint.ca_bundle or certifi.where()]
    yield SimpleNamespace(command=command, env=env, remote=RCLONE_REMOTE)


@contextmanager
def aws_cli(endpoint: Endpoint, connect: float, read: float, attempts: int) -> Iterator:
    """AWS CLI (Python, свой botocore): адрес и CA — флагами, ключи и поведение — переменными AWS_*.
    Стиль адреса переменной не задать — только файлом настроек: он временный, у каждого вызова свой.
    Даёт command (aws с флагами) и env."""
    import certifi

    with tempfile.TemporaryDirectory(prefix="s3-lecture-aws-") as folder:
        config = Path(folder, "config")
        style = "virtual" if endpoint.url_style == "vhost" else "path"
        config.write_text(f"[default]\ns3 =\n    addressing_style = {style}\n")
        env = _tool_env() | {
            "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": os.devnull,  # без профилей пользователя
            "AWS_ACCESS_KEY_ID": endpoint.access_key, "AWS_SECRET_ACCESS_KEY": endpoint.secret_key,
            "AWS_DEFAULT_REGION": endpoint.region,
            # Как у boto3: контрольные суммы — только когда их требует API (boto/boto3#4392).
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
            "AWS_MAX_ATTEMPTS": str(attempts), "AWS_RETRY_MODE": "standard",
        }
        command = ["aws", "--endpoint-url", endpoint.url, "--cli-connect-timeout", str(connect),
                   "--cli-read-timeout", str(read)]
        if endpoint.secure:
            command += ["--ca-bundle", endpoint.ca_bundle or certifi.where()]
        yield SimpleNamespace(command=command, env=env)
