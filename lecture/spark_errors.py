"""Ошибка Java из S3A → исключение Python того же смысла, которое понимает failures.

Смысл берётся из классов Java в цепочке причин (getCause), статуса HTTP и кода S3 в ответе AWS SDK —
никогда из слов сообщения: ответ S3 становится ClientError botocore, сеть и TLS — ConnectionRefusedError,
TimeoutError, ConnectionResetError, ssl.SSLError.
"""

from __future__ import annotations


def _java_chain(error: BaseException) -> list:
    """Исключения Java за ошибкой pyspark: сама и её причины (getCause) — объекты py4j."""
    from py4j.protocol import Py4JJavaError

    top = getattr(error, "java_exception", None) if isinstance(error, Py4JJavaError) else None
    top = top or getattr(error, "_origin", None)
    chain, seen = [], 0
    while top is not None and seen < 20:
        chain.append(top)
        top, seen = top.getCause(), seen + 1
    return chain


def python_error(error: BaseException) -> BaseException | None:
    """Ошибка Java из S3A → исключение Python того же смысла (по классам Java, статусу и коду S3, не по
    словам сообщения); None — не ошибка S3A (пусть будет ошибкой лекции с отчётом)."""
    if not isinstance(error, Exception):
        return None
    try:
        chain = _java_chain(error)
    except Exception:  # noqa: BLE001 — JVM не отвечает: сказать о Java больше нечего
        return None
    for java in chain:
        name = java.getClass().getName()
        if name.endswith("S3Exception") or name == "software.amazon.awssdk.services.s3.model.NoSuchBucketException":
            return s3_answer(java)
    for java in chain:
        family = _family(java)
        if family is not None:
            return family(f"{java.getClass().getSimpleName()}: {java.getMessage()}")
    return None


JAVA_FAMILIES = (
    # Проверка сертификата не прошла (свой CA не указан или не тот).
    ({"javax.net.ssl.SSLHandshakeException", "javax.net.ssl.SSLException",
      "sun.security.validator.ValidatorException", "java.security.cert.CertPathValidatorException"}, "ssl"),
    ({"java.net.ConnectException", "java.net.UnknownHostException", "java.net.NoRouteToHostException",
      "org.apache.http.conn.HttpHostConnectException"}, "refused"),
    ({"java.net.SocketTimeoutException", "org.apache.http.conn.ConnectTimeoutException",
      "org.apache.hadoop.net.ConnectTimeoutException", "org.apache.http.conn.ConnectionPoolTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException"}, "timeout"),
    ({"org.apache.http.NoHttpResponseException", "java.net.SocketException",
      "org.apache.http.ConnectionClosedException", "org.apache.http.TruncatedChunkException"}, "cut"),
)


def _family(java):
    import ssl

    types = {"ssl": ssl.SSLError, "refused": ConnectionRefusedError, "timeout": TimeoutError,
             "cut": ConnectionResetError}
    name = java.getClass().getName()
    for names, family in JAVA_FAMILIES:
        if name in names:
            return types[family]
    return None


def s3_answer(java) -> BaseException:
    """Ответ S3 из исключения AWS SDK — как ClientError botocore: код S3, сообщение и статус HTTP."""
    from botocore.exceptions import ClientError

    status = int(java.statusCode())
    details = java.awsErrorDetails()
    code = (details.errorCode() if details is not None else None) or f"HTTP {status}"
    message = (details.errorMessage() if details is not None else None) or ""
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "S3A")
