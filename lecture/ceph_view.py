"""Что кластер Ceph говорит о своих данных — его же картами и отчётами, строками и таблицами для зала.

- где лежит объект S3: RADOS-объект по манифесту шлюза, его PG и OSD (ceph osd map);
- здоровье: строка ceph status на каждую перемену, пока кластер не придёт к HEALTH_OK или к «degraded»
  без одного OSD, и проверки ceph health;
- цена избыточности: записано в пул и занято на дисках (ceph df).
Кластер повёл себя не так, как обещано, — DemoFailed с одной строкой по-русски; ожидания ограничены сроком.
"""

from __future__ import annotations

import json
import time

from lecture import screen
from lecture.ceph import CephCluster

NO_OSD = 2147483647  # так карта кластера обозначает пустое место в наборе OSD


class DemoFailed(Exception):
    """Кластер повёл себя не так, как обещает демонстрация; текст — одна строка по-русски."""


def size(n: int) -> str:
    if n < 10240:
        return f"{n:,} Б".replace(",", " ")
    return f"{n / 1024:.1f} КиБ".replace(".", ",")


def mib(n: int) -> str:
    return f"{n / (1 << 20):.0f}"


def seconds(value: float) -> str:
    return f"{value:.1f} с".replace(".", ",")


# ── Где лежит объект ──────────────────────────────────────────────────────────────────────────────
def show_placement(cluster: CephCluster, kind, bucket: str, key: str, down: int | None = None) -> dict:
    """RADOS-объект с данными S3-объекта, его PG и OSD — по карте кластера (ceph osd map).
    kind — способ хранения: title, pool и storage_class (None — копии, иначе код стирания)."""
    stat = json.loads(cluster.admin("object", "stat", "--bucket", bucket, "--object", key))
    manifest = stat["manifest"]
    marker = manifest["tail_placement"]["bucket"]["marker"]  # начало имён объектов бакета
    if manifest["head_size"] > 0:
        # Маленький объект целиком в «голове»: RADOS-объект <маркер бакета>_<ключ>.
        name, shown = f"{marker}_{key}", f"<маркер>_{key}"
    else:
        # Класс хранения с другим пулом: голова (метаданные) осталась в основном пуле,
        # данные — в «хвосте» <маркер>__shadow_<префикс>0 в пуле этого класса.
        tail = manifest["begin_iter"]["location"]["obj"]["key"]
        name = f"{marker}__{tail['ns']}_{tail['name']}"
        shown = f"<маркер>__{tail['ns']}_{tail['name'][:6]}…"
    stored = cluster.rados("-p", kind.pool, "stat", name)  # «…, size 2995»: объект есть
    where = cluster.ceph_json("osd", "map", kind.pool, name)
    acting = where["acting"]
    screen.table(f"{key} в RADOS ({kind.title})", ["Что", "Значение"], [
        ["маркер бакета", marker],
        ["RADOS-объект", shown],
        ["размер", size(int(stored.rsplit("size", 1)[1]))],
        ["пул", kind.pool],
        ["PG", where["pgid"]],
        ["OSD", osd_list(acting, kind, where["acting_primary"])],
    ])
    held = [osd for osd in acting if osd != NO_OSD]
    if down is not None:
        screen.ok(f"записан на {len(held)} OSD из {cluster.osds}: osd.{down} недоступен, "
                  "свою часть получит позже")
    elif len(set(held)) == cluster.osds:
        what = "три копии" if kind.storage_class is None else "три куска"
        screen.ok(f"{what} на трёх разных OSD: " + ", ".join(f"osd.{osd}" for osd in held))
    else:
        raise DemoFailed(f"{key}: ожидались три разных OSD, а по карте — {acting}")
    return where


def osd_list(acting: list[int], kind, primary: int | None = None) -> str:
    """«osd.1 (первичный), osd.2, osd.0»; у кода стирания роль куска — по месту в наборе."""
    names = []
    for position, osd in enumerate(acting):
        name = "—" if osd == NO_OSD else f"osd.{osd}"
        if kind.storage_class is not None:
            name += " (данные)" if position < 2 else " (чётность)"
        elif osd == primary:
            name += " (первичный)"
        names.append(name)
    return ", ".join(names)


# ── Здоровье кластера ─────────────────────────────────────────────────────────────────────────────
def states(status: dict) -> dict[str, int]:
    return {item["state_name"]: item["count"] for item in status["pgmap"].get("pgs_by_state", [])}


def summary(status: dict, osds: int) -> str:
    clean = states(status).get("active+clean", 0)
    return (f"{status['health']['status']:<11} OSD в строю {status['osdmap']['num_up_osds']}/{osds}"
            f"   PG active+clean {clean}/{status['pgmap']['num_pgs']}")


def watch(cluster: CephCluster, done, limit: float, what: str) -> dict:
    """Печатает состояние кластера (ceph status) при каждой перемене, пока не done(status)."""
    started = time.monotonic()
    last = ""
    while True:
        status = cluster.ceph_json("status")
        line = summary(status, cluster.osds)
        if line != last and status["pgmap"]["num_pgs"]:  # без отчёта менеджера показать нечего
            screen.console.print(f"  {seconds(time.monotonic() - started):>6}  {line}")
            last = line
        if done(status):
            return status
        if time.monotonic() - started > limit:  # последнее состояние уже напечатано выше
            raise DemoFailed(f"{what} за {seconds(limit)}")
        time.sleep(0.3)


def healthy(status: dict, osds: int, pools_pgs: int) -> bool:
    """HEALTH_OK, все OSD в строю и все PG (не меньше, чем в пулах по карте) — active+clean."""
    pgs = states(status)
    return (status["health"]["status"] == "HEALTH_OK"
            and status["osdmap"]["num_up_osds"] == osds
            and set(pgs) == {"active+clean"} and pgs["active+clean"] >= pools_pgs)


def degraded(status: dict, osds: int) -> bool:
    """Один OSD лежит, менеджер пересчитал PG: все активны (работают), данные — degraded."""
    pgs = states(status)
    working = all("active" in state and "stale" not in state and "peering" not in state
                  for state in pgs)
    return (status["osdmap"]["num_up_osds"] == osds - 1
            and "PG_DEGRADED" in status["health"]["checks"] and bool(pgs) and working)


def wait_degraded(cluster: CephCluster, limit: float) -> dict:
    """Ждать, пока кластер заметит потерю одного OSD и пересчитает PG."""
    return watch(cluster, lambda status: degraded(status, cluster.osds), limit, "кластер не заметил отказ")


def wait_healthy(cluster: CephCluster, when: str, limit: float) -> None:
    pools = cluster.ceph_json("osd", "pool", "ls", "detail")
    pools_pgs = sum(pool["pg_num"] for pool in pools)
    started = time.monotonic()
    status = watch(cluster, lambda s: healthy(s, cluster.osds, pools_pgs), limit,
                   "кластер не пришёл к HEALTH_OK")
    screen.ok(f"{when}: HEALTH_OK за {seconds(time.monotonic() - started)}, "
              f"все {status['pgmap']['num_pgs']} PG active+clean")


def show_health(cluster: CephCluster) -> None:
    """Что говорит кластер: проверки здоровья (ceph health) и состояния PG."""
    status = cluster.ceph_json("status")
    checks = [[code, check["summary"]["message"]]
              for code, check in status["health"]["checks"].items()]
    health = status["health"]["status"]
    screen.table(f"ceph health: {health}", ["Проверка", "Что говорит Ceph"], checks)
    pgs = [[state, count] for state, count in states(status).items()]
    screen.table("Состояния PG", ["Состояние", "PG"], pgs)
    screen.console.print("  undersized — копий меньше, чем нужно; degraded — есть данные без"
                         " копии;\n  active — PG работает: читать и писать можно.")


# ── Цена избыточности ─────────────────────────────────────────────────────────────────────────────
def show_cost(cluster: CephCluster, kinds: list, written: int) -> None:
    """Записано в пул и занято на OSD — из ceph df (stored и stored_raw); written — байт в каждом пуле."""
    # Менеджер узнаёт о записанном раз в секунду — ждём, пока его учёт догонит.
    deadline = time.monotonic() + 15
    while True:
        report_df = cluster.ceph_json("df", "detail")
        pools = {pool["name"]: pool["stats"] for pool in report_df["pools"]}
        if all(pools[kind.pool]["stored"] >= written for kind in kinds):
            break
        if time.monotonic() > deadline:
            raise DemoFailed("ceph df так и не показал записанные объекты")
        time.sleep(0.5)
    # memstore не ведёт учёт места по пулам, поэтому «на дисках» — stored_raw: столько
    # сырого места занимают данные пула по его правилу (×size или ×(k+m)/k).
    rows = []
    for kind in kinds:
        stats = pools[kind.pool]
        ratio = f"×{stats['stored_raw'] / stats['stored']:.1f}".replace(".", ",")
        rows.append([f"{kind.title}\n{kind.pool}", size(stats["stored"]),
                     size(stats["stored_raw"]), ratio])
    screen.table("Одни и те же данные — разная цена",
                 ["Пул", "Записано", "На дисках", "Во сколько"], rows)
    screen.console.print("  Три копии переживают отказ двух OSD из трёх, код 2+1 — одного,\n"
                         "  зато стоит вдвое дешевле по месту.")
