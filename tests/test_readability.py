"""Лекцию читают с экрана и слушают (issue 11): код шагов читается вслух, вывод помещается в 80 колонок,
числа и слова — по-русски, как говорит лектор, а README и .env.example не расходятся с кодом.

Статические проверки разбирают шаги модулем ast; проверки вывода запускают шаги на двух moto.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
from dataclasses import dataclass
from itertools import zip_longest
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, base_env, documentation, run_step
from dotenv import dotenv_values
from rich.cells import cell_len

sys.path.insert(0, str(ROOT))
from lecture import words  # noqa: E402


def lecture_steps() -> dict[str, list[int]]:
    """Скрипт → номера шагов из run_demo.STEPS и EXTRAS (без импорта run_demo: он тянет common)."""
    tree = ast.parse((ROOT / "run_demo.py").read_text())
    steps: dict[str, list[int]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] in (["STEPS"], ["EXTRAS"]):
            for number, script, _ in ast.literal_eval(node.value):
                steps.setdefault(script, []).append(number)
    return steps


STEPS = lecture_steps()
SCRIPTS = sorted(STEPS)
MAX_LINE = 100
BUILDERS = {"boto3_client", "minio_client", "duckdb_connect", "pyarrow_filesystem"}
PANDAS_WRITERS = {"to_parquet", "to_csv"}
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# ── 1. Код, который читается вслух ──────────────────────────────────────────────────────────────

@dataclass
class Call:
    line: int  # строка самого вызова
    statement: int  # строка, с которой начинается инструкция
    text: str  # s3.list_buckets, pd.read_csv, common.table
    in_comprehension: bool


def _is_builder(node: ast.AST | None) -> bool:
    """common.boto3_client(…), common.minio_client(…), common.duckdb_connect(…)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BUILDERS
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "common")


def _client_names(nodes: list[ast.AST]) -> set[str]:
    """Имена, которым присвоен клиент: s3 = common.boto3_client(…), with common.duckdb_connect(…) as con."""
    names = set()
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Assign) and _is_builder(node.value):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and _is_builder(node.value):
                names |= {node.target.id} if isinstance(node.target, ast.Name) else set()
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                names |= {item.optional_vars.id for item in node.items
                          if _is_builder(item.context_expr) and isinstance(item.optional_vars, ast.Name)}
    return names


class _Calls(ast.NodeVisitor):
    """Вызовы SDK и вызовы common.* шага; имена клиентов — свои у каждой функции."""

    def __init__(self, tree: ast.Module):
        self.pandas = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                       for alias in node.names if alias.name in ("pandas", "polars")}  # pd.read_*, pl.scan_*
        module_level = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        self.scopes = [_client_names(module_level)]
        self.statement = 0
        self.comprehensions = 0
        self.sdk: list[Call] = []
        self.common: list[Call] = []
        self.visit(tree)

    def visit_FunctionDef(self, node):
        self.scopes.append(self.scopes[0] | _client_names([node]))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def generic_visit(self, node):
        if isinstance(node, ast.stmt):
            outer, self.statement = self.statement, node.lineno
            super().generic_visit(node)
            self.statement = outer
        elif isinstance(node, COMPREHENSIONS):
            self.comprehensions += 1
            super().generic_visit(node)
            self.comprehensions -= 1
        else:
            super().generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            call = Call(node.lineno, self.statement, ast.unparse(func), self.comprehensions > 0)
            if owner == "common":
                self.common.append(call)
            elif (owner in self.scopes[-1] or func.attr in PANDAS_WRITERS
                  or (owner in self.pandas and func.attr.startswith(("read_", "scan_")))):
                self.sdk.append(call)
        self.generic_visit(node)


@functools.cache
def calls(script: str) -> _Calls:
    return _Calls(ast.parse((ROOT / script).read_text(), filename=script))


def test_steps_are_listed():
    """Список шагов разобран: без него остальные статические проверки ничего бы не проверили."""
    assert len(SCRIPTS) >= 16, SCRIPTS
    assert all((ROOT / script).is_file() for script in SCRIPTS), SCRIPTS


def test_sdk_calls_are_found_by_the_checker():
    """Сам разбор видит вызовы SDK в генераторе и два вызова в строке — иначе проверки ниже пусты."""
    source = ("import common\nimport pandas as pd\n\ndef main(endpoint):\n"
              "    s3 = common.boto3_client(endpoint)\n"
              "    names = [s3.head_bucket(Bucket=b) for b in 'ab']\n"
              "    both = s3.list_buckets(), pd.read_csv('x.csv')\n")
    found = _Calls(ast.parse(source))
    assert [(c.text, c.line, c.in_comprehension) for c in found.sdk] == [
        ("s3.head_bucket", 6, True), ("s3.list_buckets", 7, False), ("pd.read_csv", 7, False)]
    assert [c.text for c in found.common] == ["common.boto3_client"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_lines_fit_the_projector(script):
    too_long = [f"{script}:{n}: {len(line)} символов (не больше {MAX_LINE}): {line.strip()}"
                for n, line in enumerate((ROOT / script).read_text().splitlines(), start=1) if len(line) > MAX_LINE]
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("script", SCRIPTS)
def test_no_sdk_call_inside_a_comprehension(script):
    hidden = [f"{script}:{c.line}: вызов SDK {c.text}(…) внутри генератора или включения"
              for c in calls(script).sdk if c.in_comprehension]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("script", SCRIPTS)
def test_one_sdk_call_per_line(script):
    by_line: dict[int, list[str]] = {}
    for call in calls(script).sdk:
        by_line.setdefault(call.statement, []).append(call.text)
    crowded = [f"{script}:{line}: {len(texts)} вызова SDK в одной инструкции: {', '.join(texts)}"
               for line, texts in sorted(by_line.items()) if len(texts) > 1]
    assert not crowded, "\n".join(crowded)


# Рамка слайда — одна у всех шагов — и слова для зала (числа, размеры, даты): не обёртки над S3.
FRAME = {"endpoints", "endpoint_block", "boto3_client", "minio_client", "duckdb_connect", "storage_options", "header",
         "summary", "location", "human_size", "number", "plural", "short_etag", "moment", "pairs", "user_metadata",
         "mask_secrets", "literal", "run",
         "pyarrow_filesystem", "polars_options", "polars_trust", "rclone_cli", "aws_cli"}  # клиенты шага 20
# Запрос к S3 обычным HTTP-клиентом — тоже вызов S3 (шаги 14, 18, 19 о том, что S3 — это HTTP).
HTTP_REQUESTS = {"plain_http"}


@pytest.mark.parametrize("script", SCRIPTS)
def test_sdk_calls_outnumber_common_calls(script):
    """На экране — SDK, а не обёртки: вызовов SDK не меньше, чем вызовов common.* внутри слайда.
    Рамка, общая для всех шагов (эндпоинты, блок, клиенты, заголовок, итог), и слова для зала — не в счёт."""
    found = calls(script)
    content = [c for c in found.common if c.text.removeprefix("common.") not in FRAME | HTTP_REQUESTS]
    requests = found.sdk + [c for c in found.common if c.text.removeprefix("common.") in HTTP_REQUESTS]
    assert found.sdk, f"{script}: ни одного вызова SDK не найдено"
    assert len(requests) >= len(content), (
        f"{script}: вызовов SDK {len(requests)} < вызовов common.* {len(content)}\n"
        f"  SDK: {', '.join(f'{c.text}:{c.line}' for c in found.sdk)}\n"
        f"  common: {', '.join(f'{c.text}:{c.line}' for c in content)}")


@pytest.mark.parametrize("script", SCRIPTS)
def test_docstring_names_the_step_and_the_command(script):
    docstring = ast.get_docstring(ast.parse((ROOT / script).read_text())) or ""
    first = docstring.splitlines()[0] if docstring else ""
    assert re.search(r"[А-Яа-яЁё]", docstring), f"{script}: нет русского docstring модуля"
    assert first.startswith("Шаг"), f"{script}:1: первая строка docstring не начинается с «Шаг»: {first!r}"
    command = f"Запуск: poetry run python {script}"
    assert command in docstring, f"{script}: в docstring нет «{command}»"
    numbers = [int(n) for n in re.findall(r"\d+", re.match(r"Шаги? ([\d, и]+)", first).group(1))]
    assert numbers == STEPS[script], f"{script}:1: docstring называет шаги {numbers}, run_demo — {STEPS[script]}"


# ── 3. Слова и числа — как их говорит лектор ────────────────────────────────────────────────────

ENDPOINT = ("эндпоинт", "эндпоинта", "эндпоинтов")


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 эндпоинтов"), (1, "1 эндпоинт"), (2, "2 эндпоинта"), (4, "4 эндпоинта"), (5, "5 эндпоинтов"),
    (11, "11 эндпоинтов"), (12, "12 эндпоинтов"), (14, "14 эндпоинтов"), (21, "21 эндпоинт"),
    (22, "22 эндпоинта"), (25, "25 эндпоинтов"), (101, "101 эндпоинт"), (111, "111 эндпоинтов"),
    (112, "112 эндпоинтов"), (122, "122 эндпоинта"), (1001, "1001 эндпоинт"),
])
def test_plural(n, expected):
    assert words.plural(n, *ENDPOINT) == expected


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (58.94, 1, "58,9"), (2, 1, "2,0"), (0.25, 2, "0,25"), (1234.5, 1, "1234,5"), (-1.5, 1, "-1,5"), (160.4, 0, "160"),
])
def test_number_uses_a_decimal_comma(value, digits, expected):
    assert words.number(value, digits) == expected


@pytest.mark.parametrize(("size", "expected"), [
    (0, "0 Б"), (1023, "1023 Б"), (1024, "1,0 КиБ"), (60302, "58,9 КиБ"), (10 * 1024 ** 2, "10,0 МиБ"),
    (int(42.5 * 1024 ** 2), "42,5 МиБ"), (5 * 1024 ** 3, "5,0 ГиБ"),
])
def test_human_size(size, expected):
    assert words.human_size(size) == expected


@pytest.mark.parametrize("size", [1024 - 1, 1024 ** 2 - 1, 1024 ** 3 - 1])
def test_human_size_never_shows_1024_of_a_unit(size):
    """Перед единицей — меньше 1024: «1,0 МиБ», а не «1024,0 КиБ»."""
    shown = words.human_size(size)
    assert float(shown.split()[0].replace(",", ".")) < 1024, f"human_size({size}) = {shown!r}"


# ── 2. Вывод в 80 колонок и по-русски ───────────────────────────────────────────────────────────

PARTITIONS = [f"titanic_by_class/Pclass={n}/data_0.parquet" for n in (1, 2, 3)]
MAIN_KEYS = ["boto3/titanic.csv", "minio/titanic.csv"]
EXTRA_KEYS = ["extras/metadata.txt", "extras/multipart-boto3.bin", "extras/multipart-minio.bin"]
# Номер шага, скрипт, аргументы. Шаги 6 и 10 готовят данные для 8 и 11; list_objects (шаги 4 и 12) —
# в конце, когда записано всё, включая объекты шагов 13 и 15. Шаг 14 не здесь: moto с проверкой подписей
# отвечает на временные ссылки 500 (см. test_extras); шаг 17 долгий, 19 повторяет список шага 12.
RUN = [(3, "upload_object.py", ()), (5, "create_remove_bucket.py", ()), (6, "create_bucket.py", ()),
       (8, "duckdb_copy_to_s3.py", ()), (9, "duckdb_read_from_s3.py", ()), (10, "pandas_dataframe_to_s3.py", ()),
       (11, "pandas_dataframe_from_s3.py", ()), (13, "object_metadata.py", ()),
       (15, "multipart_upload.py", ("10",)), (18, "bucket_policy.py", ()), (12, "list_objects.py", ())]
BOX = "┏┓┗┛┡┩┢┪└┘┌┐├┤╭╮╰╯"
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
DECIMAL_COMMA = {3: r"\d,\d КиБ", 9: r"│ \d+,\d +│", 11: r"│ \d+,\d +│", 15: r"\d+,\d МиБ"}
# «✓ … — 0», «✓ …: Pclass=1: 13, Pclass=2: 14»: после ✓ только подпись и числа — это не проверка.
BARE_COUNT = re.compile(r"^✓ .*?[:—]\s*((\S+:\s*)?\d+(,\s*)?)+$")


def shown(step: int, bucket: str) -> list[str]:
    """Что шаг показывает на каждом эндпоинте: ключи, бакеты, пары метаданных."""
    return {
        3: [bucket, *MAIN_KEYS, "client=boto3", "client=minio", "dataset=titanic"],
        5: [f"{bucket}-tmp"],
        6: [bucket, f"{bucket}-duckdb", f"{bucket}-pandas"],
        8: [f"{bucket}-duckdb", "titanic.parquet", *PARTITIONS],
        10: [f"{bucket}-pandas", "titanic.parquet", "titanic.csv"],
        13: [bucket, "extras/metadata.txt", "course=s3", "version=1", "version=2", "kind=demo", "lecture=s3"],
        18: [f"{bucket}-pub", "hello.txt"],
        12: [bucket, f"{bucket}-duckdb", f"{bucket}-pandas", *MAIN_KEYS, "titanic.parquet", *PARTITIONS,
             "titanic.csv", *EXTRA_KEYS],
    }.get(step, [])


def sections(lines: list[str]) -> dict[str, list[str]]:
    """Строки вывода по эндпоинтам: от линейки «── first  http://… ──» до следующей."""
    parts: dict[str, list[str]] = {}
    current = ""
    for line in lines:
        rule = re.match(r"^─+ (\S+)  \S+://", line)
        current = rule.group(1) if rule else current
        parts.setdefault(current, []).append(line)
    return parts


def reading(lines: list[str]) -> list[str]:
    """Текст так, как его читает глаз: обычные строки подряд, столбец таблицы — сверху вниз.
    Ключ, разорванный переносом, в этом тексте снова целый."""
    pieces, plain, rows, border = [], [], [], ""

    def close_table():
        pieces.extend("".join(cell.strip() for cell in column) for column in zip_longest(*rows, fillvalue=""))
        rows.clear()

    for line in (line.rstrip() for line in lines):
        edge = line[:1]
        if edge in ("│", "┃"):
            if edge != border:
                close_table()
            border = edge
            rows.append(line.strip(edge).split(edge))
            continue
        close_table()
        border = ""
        if not line.strip() or edge in BOX:
            pieces.append("".join(plain))
            plain.clear()
        else:
            plain.append(line.strip())
    close_table()
    pieces.append("".join(plain))
    return pieces


def display_problems(step: int, script: str, output: str, width: int, buckets: dict[str, str]) -> list[str]:
    where = f"шаг {step} ({script}), COLUMNS={width}"
    lines = output.splitlines()
    problems = []
    for name, section in sections(lines).items():
        for token in shown(step, buckets[name]) if name in buckets else []:
            if not any(token in line for line in section):
                problems.append(f"{where}, {name}: «{token}» не виден целиком ни в одной строке")
    tokens = {token for bucket in buckets.values() for number, _, _ in RUN for token in shown(number, bucket)}
    pieces = reading(lines)
    for token in sorted(tokens):
        whole = sum(line.count(token) for line in lines)
        read = sum(piece.count(token) for piece in pieces)
        if read > whole:
            cut = [f"строка {n}: {line.strip()}" for n, line in enumerate(lines, start=1)
                   if any(cell.strip().endswith(token[:k]) for cell in re.split("[│┃]", line)
                          for k in range(3, len(token)))]
            problems.append(f"{where}: «{token}» разорван переносом между строками ({read - whole} раз): "
                            + "; ".join(cut))
    for n, line in enumerate(lines, start=1):
        text = line.rstrip()
        if cell_len(text) > width:
            problems.append(f"{where}, строка {n}: {cell_len(text)} колонок > {width}: {text}")
        for cut in re.findall(r"([^\s│┃/]\S*)…", text):
            if any(cut.endswith(token[:k]) for token in tokens for k in range(4, len(token))):
                problems.append(f"{where}, строка {n}: ключ или бакет сокращён многоточием: {text.strip()}")
        if DECIMAL_POINT.search(text):
            problems.append(f"{where}, строка {n}: дробное число с точкой, нужна запятая: {text.strip()}")
        if text.count(" — ") > 1:
            problems.append(f"{where}, строка {n}: два « — » в одной строке: {text.strip()}")
        if text.startswith("✓") and (BARE_COUNT.match(text) or "до записи" in text):
            problems.append(f"{where}, строка {n}: ✓ перед голым числом, а не перед проверкой: {text}")
    if step in DECIMAL_COMMA and not re.search(DECIMAL_COMMA[step], output):
        problems.append(f"{where}: нет ни одного числа с десятичной запятой (/{DECIMAL_COMMA[step]}/)")
    if step in (9, 11):
        sexes = [row.strip("│").split("│")[1].strip() for row in lines if re.match(r"│ \d ", row)]
        if sorted(set(sexes)) != ["ж", "м"] or re.search(r"\b(fe)?male\b", output):
            problems.append(f"{where}: пол не «ж»/«м»: {sorted(set(sexes))}")
    return problems


@pytest.mark.parametrize("width", [80, 120])
def test_output_is_readable_at(width, moto_servers, tmp_path):
    env = base_env(tmp_path)
    env.update(COLUMNS=str(width), S3_ENDPOINTS="first,second")
    buckets = {}
    for name, server in zip(("first", "second"), moto_servers, strict=True):
        buckets[name] = f"lecture-{name}-at-{width:03d}-columns"  # «lecture-» и ещё 20 знаков
        server.client().create_bucket(Bucket=buckets[name])
        env.update(server.endpoint_env(name, buckets[name]))
    problems = []
    for step, script, args in RUN:
        result = run_step(script, env, tmp_path, *args)
        output = result.stdout + result.stderr
        if result.returncode != 0 or "2 из 2 эндпоинтов: ОК" not in result.stdout or "Traceback" in output:
            pytest.fail(f"шаг {step} ({script}), COLUMNS={width}: код {result.returncode}\n{output}")
        problems += display_problems(step, script, output, width, buckets)
    assert not problems, "\n".join(problems)


def test_one_endpoint_is_singular(moto_servers, tmp_path):
    env = base_env(tmp_path)
    env.update(moto_servers[0].endpoint_env("first", "lecture-one-endpoint"), S3_ENDPOINTS="first", COLUMNS="80")
    result = run_step("list_bucket.py", env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 из 1 эндпоинта: ОК" in result.stdout, result.stdout


def test_reading_finds_a_key_split_by_a_wrap():
    """Проверка разрывов сама видит перенос внутри ячейки и в заголовке."""
    lines = ["first / lecture-x/extras/meta", "data.txt", "┏━━━━━━━━━━━━━━┓", "│ titanic_by_c │", "│ lass/Pclass= │"]
    text = reading(lines)
    assert "lecture-x/extras/metadata.txt" in "".join(text) and "titanic_by_class/Pclass=" in "".join(text)
    problems = display_problems(12, "list_objects.py", "\n".join(lines), 80, {"first": "lecture-x"})
    assert any("«extras/metadata.txt» разорван" in p for p in problems), problems


def test_display_checks_catch_each_problem():
    """Каждая проверка вывода срабатывает на своём нарушении — иначе зелёный прогон ничего не значит."""
    output = "\n".join(["───── first  http://127.0.0.1:1  ключ AKIA…X1 ─────", "Загрузка 2.9 КиБ — раз — два",
                        "✓ s3://b: объектов до записи — 0", "│ 1     │ female │ 2 │", "│ boto3/tita… │ x │", "x" * 81])
    problems = display_problems(9, "duckdb_read_from_s3.py", output, 80, {"first": "lecture-x"})
    expected = ["с точкой", "два « — »", "✓ перед голым числом", "сокращён многоточием", "81 колонок > 80",
                "десятичной запятой", "пол не «ж»/«м»"]
    assert [e for e in expected if not any(e in p for p in problems)] == [], problems
    missing = display_problems(3, "upload_object.py", output, 80, {"first": "lecture-x"})
    assert any("«boto3/titanic.csv» не виден целиком" in p for p in missing), missing


# ── 4. README и .env.example говорят то же, что код ─────────────────────────────────────────────

ENV_EXAMPLE = ROOT / ".env.example"
PROVIDERS = {  # префикс переменных: адрес, регион
    "YANDEX": ("https://storage.yandexcloud.net", "ru-central1"),
    "VK": ("https://hb.ru-msk.vkcloud-storage.ru", "ru-msk"),
    "SELECTEL": ("https://s3.ru-1.storage.selcloud.ru", "ru-1"),
    "AWS": ("https://s3.eu-central-1.amazonaws.com", "eu-central-1"),
}
# Флаги, которые common (lecture/guard.py) принимает за любой шаг, который его импортирует.
COMMON_FLAGS = {node.value for module in ("common.py", "lecture/guard.py")
                for node in ast.walk(ast.parse((ROOT / module).read_text()))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                and re.fullmatch(r"--[a-z][a-z-]*", node.value)}


def endpoint_urls_in_env_example() -> dict[str, tuple[int, str]]:
    """Адреса https из строк <ИМЯ>_ENDPOINT_URL=… (и закомментированных) — с номером строки."""
    urls = {}
    for n, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), start=1):
        found = re.match(r"^#?\s*([A-Z0-9_]+)_ENDPOINT_URL=(\S+)", line)
        if found and found.group(2).startswith("https://"):
            urls[found.group(2)] = (n, found.group(1))
    return urls


def endpoint_urls_in_readme() -> dict[str, str]:
    """Адреса https без пути (так задаётся эндпоинт) в README и docs/ — с файлом и номером первой строки."""
    urls = {}
    for name, text in documentation().items():
        for n, line in enumerate(text.splitlines(), start=1):
            for url in re.findall(r"https://[^\s`|)<>\"',]+", line):
                if urlsplit(url.rstrip("/.")).path == "":
                    urls.setdefault(url.rstrip("/."), f"{name}:{n}")
    return urls


def test_endpoint_urls_agree_between_readme_and_env_example():
    readme, env = endpoint_urls_in_readme(), endpoint_urls_in_env_example()
    assert readme and env, (readme, env)
    only_readme = [f"{where}: {url} — нет в .env.example" for url, where in readme.items() if url not in env]
    only_env = [f".env.example:{n}: {url} — нет ни в README.md, ни в docs/" for url, (n, _) in env.items()
                if url not in readme]
    assert not only_readme + only_env, "\n".join(only_readme + only_env)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_endpoint_and_region(provider):
    url, region = PROVIDERS[provider]
    # Блоки облаков в .env.example закомментированы: читаем их как настоящие строки.
    env = dotenv_values(stream=io.StringIO(re.sub(r"(?m)^# ?(?=[A-Z0-9_]+=)", "", ENV_EXAMPLE.read_text())))
    problems = []
    if env.get(f"{provider}_ENDPOINT_URL") != url:
        problems.append(f".env.example: {provider}_ENDPOINT_URL={env.get(f'{provider}_ENDPOINT_URL')}, нужно {url}")
    if env.get(f"{provider}_REGION") != region:
        problems.append(f".env.example: {provider}_REGION={env.get(f'{provider}_REGION')}, нужно {region}")
    lines = (ROOT / "docs" / "providers.md").read_text().splitlines()
    rows = [n for n, line in enumerate(lines, start=1) if url in line]
    if not rows:
        problems.append(f"docs/providers.md: нет адреса {url}")
    elif not any(re.search(rf"(?<![\w-]){re.escape(region)}(?![\w-])", lines[n - 1]) for n in rows):
        problems.append(f"docs/providers.md:{rows[0]}: рядом с {url} нет региона {region}")
    assert not problems, "\n".join(problems)


@dataclass
class Command:
    line: int
    text: str
    script: str
    args: list[str]


def commands_in(text: str) -> list[Command]:
    """`python X.py …` и `poetry run python X.py …` из блоков кода и из `…` в тексте Markdown."""
    snippets = []

    def line_of(position: int) -> int:
        return text.count("\n", 0, position) + 1

    for block in re.finditer(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S):
        snippets += [(line_of(block.start(1)) + i, line) for i, line in enumerate(block.group(1).splitlines())]
    outside = re.sub(r"^```[^\n]*\n.*?^```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.M | re.S)
    snippets += [(line_of(code.start()), code.group(1)) for code in re.finditer(r"`([^`\n]+)`", outside)]
    commands = []
    for line, snippet in sorted(snippets):
        for found in re.finditer(r"(?:poetry run )?python3? +([\w./-]+\.py)((?: +\S+)*)", snippet):
            args = []
            for token in found.group(2).split():
                if token in ("&&", "||", "|", ";", ">") or token.startswith("#"):
                    break
                args.append(token)
            command = found.group(0)[:found.start(2) - found.start()]
            commands.append(Command(line, " ".join([command, *args]), found.group(1), args))
    return commands


def accepted_flags(script: str, tmp_path) -> set[str]:
    """Флаги скрипта: из --help, если у него argparse, иначе — строки "--…" в его коде; плюс флаги common."""
    tree = ast.parse((ROOT / script).read_text())
    imports = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    flags = set(COMMON_FLAGS) if "common" in imports else set()
    if "argparse" in imports:
        result = run_step(script, base_env(tmp_path), tmp_path, "--help", timeout=60)
        assert result.returncode == 0, f"{script} --help: код {result.returncode}\n{result.stdout}{result.stderr}"
        return flags | set(re.findall(r"(?<![\w-])--[a-z][\w-]*", result.stdout))
    return flags | {node.value for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("--")}


def test_readme_commands_run_existing_scripts_with_accepted_flags(tmp_path):
    """Команды `python X.py --флаг` в README.md и docs/*.md: скрипт есть и флаг принимает."""
    commands = [(name, command) for name, text in documentation().items() for command in commands_in(text)]
    assert any(c.script == "run_demo.py" for _, c in commands), [c.text for _, c in commands]
    assert {name for name, _ in commands} >= {"README.md", "docs/running.md", "docs/testing.md"}, commands
    flags: dict[str, set[str]] = {}
    problems = []
    for name, command in commands:
        where = f"{name}:{command.line}: `{command.text}`"
        if not (ROOT / command.script).is_file():
            problems.append(f"{where}: нет скрипта {command.script}")
            continue
        if command.script not in flags:
            flags[command.script] = accepted_flags(command.script, tmp_path)
        for flag in (arg.split("=")[0] for arg in command.args if arg.startswith("--")):
            if flag not in flags[command.script]:
                problems.append(f"{where}: {command.script} не принимает {flag} "
                                f"(принимает: {', '.join(sorted(flags[command.script])) or 'ничего'})")
    assert not problems, "\n".join(problems)


def test_command_parser_sees_scripts_and_flags():
    """Разбор Markdown сам находит команды и флаги — иначе проверка выше пуста."""
    text = ("Запуск: `poetry run python a.py --one 5` и `python b.py`.\n\n```bash\n"
            "pip install poetry && poetry run python c.py --two  # комментарий --no\n```\n`d.py --three`\n")
    found = [(c.line, c.text, c.script, c.args) for c in commands_in(text)]
    assert found == [(1, "poetry run python a.py --one 5", "a.py", ["--one", "5"]), (1, "python b.py", "b.py", []),
                     (4, "poetry run python c.py --two", "c.py", ["--two"])], found
