"""Надёжность вживую: кластер Ceph теряет узел, а данные остаются.

Демонстрация к разделу «Надёжность и доступ». Скрипт поднимает на этой машине одноразовый
кластер Ceph — монитор, менеджер, три OSD (диски кластера; здесь они держат данные в памяти)
и шлюз S3 (RADOS Gateway) — и показывает на нём репликацию:

1. Пул данных шлюза хранит каждый объект в трёх копиях на трёх разных OSD (size 3)
   и принимает запись, пока живы две из них (min_size 2).
2. boto3 загружает titanic.csv; по карте самого кластера видно, в какой группе
   размещения (PG) и на каких трёх OSD лежит объект.
3. Один из этих OSD останавливается по-настоящему (процесс завершается): кластер
   в HEALTH_WARN, PG «degraded», а minio и DuckDB читают объект — те же байты, те же строки.
4. Запись без одного узла тоже проходит.
5. OSD возвращается, догоняет пропущенное — снова HEALTH_OK, все PG active+clean.
6. С --erasure всё то же ещё и для пула с кодом стирания (k=2, m=1: два куска данных
   и кусок чётности) и цена избыточности по `ceph df`: три копии занимают ≈3× данных,
   код стирания — ≈1,5×.

Всё живёт во временном каталоге, слушает только 127.0.0.1 и удаляется при выходе,
ошибке и Ctrl-C. Кластер запускает lecture/ceph.py, его карты и отчёты читает
lecture/ceph_view.py. Нужен Linux с пакетами Ceph:
apt-get install ceph-mon ceph-osd ceph-mgr radosgw ceph-common
Данные: TITANIC_CSV или titanic.csv в корне проекта.

Запуск: poetry run python cluster_demo.py [--erasure]
"""

import argparse
import hashlib
import resource
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import common
from lecture.ceph import CephCluster, CephError, install_command, missing
from lecture.ceph_view import (
    DemoFailed,
    mib,
    osd_list,
    seconds,
    show_cost,
    show_health,
    show_placement,
    size,
    wait_degraded,
    wait_healthy,
)

OSDS = 3
BUCKET = "reliability"
USER = "lecturer"
DATA_POOL = "default.rgw.buckets.data"  # сюда шлюз по умолчанию кладёт данные объектов
EC_POOL = "lecture.ec"
EC_PROFILE = "lecture-k2m1"
EC_CLASS = "STANDARD_IA"  # класс хранения S3, данные которого шлюз кладёт в пул EC

# Сроки ожиданий, секунды: зависшее ожидание стоит секунд, а не всей лекции.
START_SECONDS = 40
DEGRADED_SECONDS = 30
RECOVERY_SECONDS = 45

# Два способа хранить одно и то же: три копии и код стирания (только с --erasure).
REPLICATED = SimpleNamespace(title="3 копии", pool=DATA_POOL, prefix="", storage_class=None)
ERASURE = SimpleNamespace(title="код стирания 2+1", pool=EC_POOL, prefix="ec/",
                          storage_class=EC_CLASS)
INTERRUPTED: list[int] = []


def main() -> int:
    parser = argparse.ArgumentParser(description="Кластер Ceph теряет узел, а данные остаются")
    parser.add_argument("--erasure", action="store_true",
                        help="ещё пул с кодом стирания (k=2, m=1) и цена избыточности")
    args = parser.parse_args()
    if sys.platform != "linux":
        common.fail("нужен Linux: демонстрация запускает кластер Ceph из пакетов Debian/Ubuntu")
        return 2
    if absent := missing(mgr=True):
        common.fail(f"нужен Ceph: {install_command(absent)}")
        return 2
    source = common.data_file(download=True)  # как шаг 3: нет файла — скачать
    kinds = [REPLICATED, ERASURE] if args.erasure else [REPLICATED]

    # Ctrl-C — KeyboardInterrupt в любом месте; kill и закрытый терминал — выход с кодом
    # 128+сигнал. Уборка в finally срабатывает и так, и так.
    signal.signal(signal.SIGINT, on_ctrl_c)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, lambda number, _: sys.exit(128 + number))
    base = Path(tempfile.mkdtemp(prefix="ceph-demo-"))
    cluster = CephCluster(base, osds=OSDS, mgr=True, osd_bytes=256 << 20)
    timings: list[tuple[str, float]] = []
    code, problem = 0, ""
    try:
        run(cluster, source, kinds, timings)
    except KeyboardInterrupt:
        code, problem = 130, "прервано (Ctrl-C)"
    except Exception as error:
        if INTERRUPTED:  # Ctrl-C посреди запроса DuckDB приходит его собственным исключением
            code, problem = 130, "прервано (Ctrl-C)"
        elif not expected(error):
            raise  # ошибка в самой демонстрации: пусть видна трассировка (уборка — ниже)
        else:
            code, problem = 1, one_line(error)
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, signal.SIG_IGN)  # второй Ctrl-C не помешает уборке
        started = time.monotonic()
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
        timings.append(("Остановка и уборка", time.monotonic() - started))
    if code:
        common.fail(f"{problem}: кластер остановлен и удалён")
        return code
    common.ok(f"кластер остановлен, каталог {base} удалён")
    report(cluster, timings)
    return 0


def run(cluster: CephCluster, source: Path, kinds: list, timings: list) -> None:
    data = source.read_bytes()
    with phase(timings, "1. Кластер: монитор, менеджер, три OSD, шлюз S3"):
        endpoint = start(cluster, erasure=ERASURE in kinds)
    s3 = common.boto3_client(endpoint)

    with phase(timings, "2. Объект и где он лежит"):
        s3.create_bucket(Bucket=BUCKET)
        places = {}
        for kind in kinds:
            key = kind.prefix + "titanic.csv"
            extra = {"StorageClass": kind.storage_class} if kind.storage_class else {}
            s3.put_object(Bucket=BUCKET, Key=key, Body=data, **extra)
            common.ok(f"boto3 загрузил {key} ({size(len(data))}) — {kind.title}")
            places[key] = show_placement(cluster, kind, BUCKET, key)
        wait_healthy(cluster, "до отказа", RECOVERY_SECONDS)

    victim = places["titanic.csv"]["acting_primary"]  # первичный OSD объекта
    with phase(timings, f"3. Отказ: останавливаю osd.{victim}"):
        pid = cluster.stop_daemon(f"osd.{victim}")
        common.ok(f"процесс osd.{victim} (pid {pid}) завершён — как выключенный сервер")
        wait_degraded(cluster, DEGRADED_SECONDS)
        show_health(cluster)
        for kind in kinds:
            read_back(endpoint, kind.prefix + "titanic.csv", data, source)

    with phase(timings, "4. Запись без одного узла"):
        for kind in kinds:
            key = kind.prefix + "degraded/titanic.csv"
            extra = {"StorageClass": kind.storage_class} if kind.storage_class else {}
            s3.put_object(Bucket=BUCKET, Key=key, Body=data, **extra)
            common.ok(f"boto3 записал {key}")
            places[key] = show_placement(cluster, kind, BUCKET, key, down=victim)
            read_back(endpoint, key, data)

    with phase(timings, f"5. osd.{victim} возвращается"):
        cluster.start_osd(victim)
        common.ok(f"osd.{victim} запущен снова: догоняет то, что пропустил")
        wait_healthy(cluster, "после возвращения", RECOVERY_SECONDS)
        rows = []
        for kind in kinds:
            key = kind.prefix + "degraded/titanic.csv"
            where = cluster.ceph_json("osd", "map", kind.pool, places[key]["objname"])
            rows.append([key, osd_list(where["acting"], kind, where["acting_primary"])])
        common.table(f"Записанное без osd.{victim} — теперь и на нём", ["Объект", "OSD"], rows)

    if ERASURE in kinds:
        with phase(timings, "6. Цена избыточности (ceph df)"):
            # в каждом пуле два объекта: titanic.csv и degraded/titanic.csv
            show_cost(cluster, kinds, 2 * len(data))
    cluster.sample_memory()


# ── 1. Кластер ──────────────────────────────────────────────────────────────────────────
def start(cluster: CephCluster, erasure: bool) -> common.Endpoint:
    """Монитор, менеджер, OSD; пулы данных; пользователь S3; шлюз. Возвращает эндпоинт."""
    deadline = time.monotonic() + START_SECONDS
    started = time.monotonic()
    cluster.start_rados(deadline)
    # Пул данных шлюза; size и min_size — из ceph.conf кластера (3 и 2 при трёх OSD).
    cluster.ceph("osd", "pool", "create", DATA_POOL, "8", "8", "replicated")
    cluster.ceph("osd", "pool", "application", "enable", DATA_POOL, "rgw")
    if erasure:
        # Код стирания: объект режется на k=2 куска данных, к ним m=1 кусок чётности;
        # каждый кусок — на своём OSD, любые два из трёх восстанавливают объект. При m=1
        # Ceph сам ставит min_size = k = 2: без одного OSD пул работает, но без запаса.
        cluster.ceph("osd", "erasure-code-profile", "set", EC_PROFILE, "k=2", "m=1",
                     "crush-failure-domain=osd")
        cluster.ceph("osd", "pool", "create", EC_POOL, "8", "8", "erasure", EC_PROFILE)
        cluster.ceph("osd", "pool", "application", "enable", EC_POOL, "rgw")
    access_key, secret_key = cluster.keys(USER)  # заодно создаёт зону шлюза по умолчанию
    if erasure:
        # Класс хранения STANDARD_IA: данные таких объектов — в пул EC (шлюз читает при старте).
        cluster.admin("zonegroup", "placement", "add", "--rgw-zonegroup", "default",
                      "--placement-id", "default-placement", "--storage-class", EC_CLASS)
        cluster.admin("zone", "placement", "add", "--rgw-zone", "default",
                      "--placement-id", "default-placement", "--storage-class", EC_CLASS,
                      "--data-pool", EC_POOL)
    cluster.start_gateway(deadline)
    common.ok(f"кластер запущен за {seconds(time.monotonic() - started)} в {cluster.base}")

    roles = {"mon.a": "монитор: карта кластера", "mgr.x": "менеджер: состояние PG, место",
             "client.rgw": f"шлюз S3: {cluster.url}"}
    rows = [[name, process.pid, roles.get(name, "OSD: хранит данные (в памяти)")]
            for name, process in cluster.processes.items()]
    common.table("Процессы кластера", ["Демон", "pid", "Роль"], rows)
    pools = {pool["pool_name"]: pool for pool in cluster.ceph_json("osd", "pool", "ls", "detail")}
    rows = [[DATA_POOL, f"{pools[DATA_POOL]['size']} копии", pools[DATA_POOL]["min_size"]]]
    if erasure:
        profile = cluster.ceph_json("osd", "erasure-code-profile", "get", EC_PROFILE)
        how = f"k={profile['k']} данных + m={profile['m']} чётности"
        rows.append([EC_POOL, how, pools[EC_POOL]["min_size"]])
    common.table("Пулы данных шлюза", ["Пул", "Как хранит", "Пишет, пока живы"], rows)
    return common.Endpoint(name="ceph", url=cluster.url, region="us-east-1", bucket=BUCKET,
                           access_key=access_key, secret_key=secret_key)


# ── 3–4. Чтение и запись без одного узла ────────────────────────────────────────────────
def read_back(endpoint: common.Endpoint, key: str, data: bytes,
              source: Path | None = None) -> None:
    """minio читает объект и сверяет байты с файлом; DuckDB (если дан source) считает строки."""
    minio = common.minio_client(endpoint)
    response = minio.get_object(bucket_name=BUCKET, object_name=key)
    try:
        body = response.read()
    finally:
        response.close()
        response.release_conn()
    digest = hashlib.sha256(body).hexdigest()[:12]
    if body != data:
        raise DemoFailed(f"minio прочитал {key} иначе: {size(len(body))}, sha256 {digest}…")
    common.ok(f"minio: {key}, sha256 {digest}… — байт в байт как файл")
    if source is None:
        return
    con = common.duckdb_connect(endpoint)
    in_s3 = con.execute(f"SELECT count(*) FROM read_csv('s3://{BUCKET}/{key}')").fetchone()[0]
    local = str(source).replace("'", "''")
    in_file = con.execute(f"SELECT count(*) FROM read_csv('{local}')").fetchone()[0]
    con.close()
    if in_s3 != in_file:
        raise DemoFailed(f"DuckDB насчитал в {key} строк: {in_s3}, а в файле — {in_file}")
    common.ok(f"DuckDB: в {key} строк: {in_s3} — как в исходном файле")


# ── Вывод и мелочи ──────────────────────────────────────────────────────────────────────
def on_ctrl_c(number, frame) -> None:
    INTERRUPTED.append(number)
    raise KeyboardInterrupt


@contextmanager
def phase(timings: list, title: str):
    common.header(title)
    started = time.monotonic()
    try:
        yield
    finally:
        timings.append((title.split(". ", 1)[-1], time.monotonic() - started))


def report(cluster: CephCluster, timings: list) -> None:
    rows = [[title, seconds(spent)] for title, spent in timings]
    rows.append(["Всего", seconds(sum(spent for _, spent in timings))])
    common.table("Время по фазам", ["Фаза", "Время"], rows)
    peak = cluster.peak_rss
    osds = sum(rss for name, rss in peak.items() if name.startswith("osd."))
    others = ", ".join(f"{name} {mib(rss)}" for name, rss in peak.items() if name[:4] != "osd.")
    script = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # в Linux — КиБ
    common.console.print(f"Пик памяти процессов Ceph: {mib(sum(peak.values()))} МиБ\n"
                         f"  {others}, три OSD {mib(osds)}; сам скрипт {mib(script)}")


def expected(error: BaseException) -> bool:
    """Ожидаемый сбой (кластер, сеть, S3-сервер, клиент) — одна строка, а не трассировка."""
    clients = {"botocore", "boto3", "s3transfer", "minio", "urllib3", "duckdb", "_duckdb"}
    return (isinstance(error, (CephError, DemoFailed, OSError))
            or type(error).__module__.split(".")[0] in clients)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if isinstance(error, (CephError, DemoFailed)) else f"{type(error).__name__}: {text}"


if __name__ == "__main__":
    raise SystemExit(common.run(main))
