"""Крючки botocore (boto3 и s3fs): адрес эндпоинта один, и ответ 200 — настоящий XML S3.

Без них botocore на 301/307 ищет регион бакета (RecursionError, TypeError), оборванный XML выдаёт
за ошибку 500 и повторяет запрос, а пустое тело ListBuckets разбирает как ответ без бакетов.
"""

from __future__ import annotations

from lecture import failures, gaps

# Ответ S3 на эти запросы — всегда XML-документ (пустой список — тоже <ListBucketResult>). Не здесь
# GetBucketVersioning: пустой ответ 200 на него — сервер без версий, это «!» шага versioning.py.
XML_ANSWERS = {"ListBuckets", "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads",
               "ListParts", "CreateMultipartUpload", "CompleteMultipartUpload", "CopyObject", "UploadPartCopy",
               "DeleteObjects", "GetObjectTagging", "GetBucketTagging", "GetBucketLocation"}


def s3_answers_only(events) -> None:
    """Крючки botocore (boto3 и s3fs): адрес эндпоинта один, и ответ 200 — настоящий XML S3.

    Перенаправление: на 301 и 307 botocore ищет регион бакета — HEAD бакета, на который снова 307
    (RecursionError), а у ListBuckets бакета нет вовсе (TypeError). У S3-совместимого эндпоинта
    регионов-адресов нет: запрос помечен «уже перенаправлен», и 3xx остаётся ошибкой с Location —
    failures называет адрес из неё.
    Тело 200: botocore выдаёт оборванный XML за ошибку 500 и повторяет запрос, а пустое тело
    ListBuckets разбирает как ответ без бакетов (потом KeyError: 'Buckets'). Его крючок заменён своим:
    <Error> в ответе 200 (сбой CopyObject посреди копирования) — по-прежнему 500, а тело, которого не
    разобрать, — failures.NotS3 до всяких повторов."""
    from botocore.handlers import _handle_200_error

    events.register_first("needs-retry.s3", _no_region_redirect)
    events.unregister("before-parse.s3.*", _handle_200_error)
    events.register_first("before-parse.s3.*", _xml_or_not_s3)


def _no_region_redirect(request_dict, **_) -> None:
    request_dict["context"].setdefault("s3_redirect", {})["redirected"] = True


def _xml_or_not_s3(operation_model, response_dict, **_) -> None:
    from xml.etree import ElementTree

    shape = operation_model.output_shape
    body = response_dict["body"]
    if isinstance(body, bytes):
        gaps.parsing(operation_model.name, response_dict["status_code"], body, response_dict["headers"])
    if response_dict["status_code"] != 200 or shape is None or operation_model.has_event_stream_output:
        return
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].type_name in ("blob", "string"):  # тело — сами данные (GetObject)
        return
    if not body:
        if operation_model.name in XML_ANSWERS:
            raise failures.NotS3(f"{operation_model.name}: 200 с пустым телом")
        return
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise failures.NotS3(f"{operation_model.name}: 200, а XML не разобрать") from None
    if root.tag == "Error":
        response_dict["status_code"] = 500
    elif root.tag.rsplit("}", 1)[-1].lower() == "html":  # страница прокси — тоже XML, но не ответ S3
        raise failures.NotS3(f"{operation_model.name}: 200 с HTML-страницей")


def drop_expect_header(request, **_) -> None:  # None: ответ before-send иначе считается ответом сервера
    request.headers.pop("Expect", None)
