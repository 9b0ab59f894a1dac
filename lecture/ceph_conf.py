"""ceph.conf одноразового кластера (lecture/ceph.py): всё на 127.0.0.1, OSD в памяти, короткие сроки."""

from __future__ import annotations


def text(cluster, fsid: str) -> str:
    """ceph.conf кластера cluster (CephCluster): адреса, порты, память OSD, шлюз."""
    base = cluster.base
    return f"""
[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{cluster.mon_port}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
# Без cephx: кластер одноразовый и слушает только 127.0.0.1. Подписи S3 шлюз проверяет всё равно.
auth cluster required = none
auth service required = none
auth client required = none
# …поэтому предупреждение о «небезопасном global_id» (это про cephx) не мешает HEALTH_OK.
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
run dir = {base}/run
pid file = {base}/run/$name.pid
admin socket = {base}/run/$name.asok
log file = {base}/log/$name.log
mon data = {base}/mon/$name
osd data = {base}/$name
mgr data = {base}/mgr/$cluster-$id
# OSD держит объекты в памяти: диск не нужен; размер — лишь объявленная ёмкость.
osd objectstore = memstore
memstore device bytes = {cluster.osd_bytes}
# memstore сохраняет данные на диск только при аккуратной остановке: иначе OSD, остановленный
# и запущенный снова, вернулся бы пустым, а не «сервером после перезагрузки».
osd fast shutdown = false
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd pool default size = {cluster.size}
osd pool default min size = {cluster.min_size}
# Мало PG и без автоподбора: меньше работы при каждом отказе и возвращении OSD.
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
# Все OSD на одном хосте: копии раскладываются по разным OSD, а не по разным хостам.
osd crush chooseleaf type = 0
# Шлюз при первом старте создаёт пулы, по раунду консенсуса на каждый: без этого ~11 с, а не ~2 с.
paxos propose interval = 0.1
# Отказ OSD. Остановленный OSD сам говорит монитору, что уходит; упавший молча объявляется
# мёртвым через 10 с без ответа на сердцебиение (по умолчанию 20 с, проверка раз в 6 с).
# Короче не надо: на двух ядрах под нагрузкой ответ задерживается на секунды — и живой «умрёт».
osd heartbeat interval = 2
osd heartbeat grace = 10
mon osd adjust heartbeat grace = false
# Свидетеля отказа хватает одного: по умолчанию нужны двое, с разных хостов, а хост у нас один.
mon osd min down reporters = 1
mon osd reporter subtree level = osd
# Медленный ответ на сердцебиение (по умолчанию — 5 % отсрочки, 0,5 с) — не повод для
# HEALTH_WARN на нагруженной машине: предупреждать, если ответ шёл дольше 3 с.
mon warn on slow ping time = 3000
# Упавший OSD 10 минут остаётся «in»: кластер ждёт его возвращения, а не перекладывает данные.
mon osd down out interval = 600
# memstore для Ceph — «вращающийся диск», а на HDD восстановление спит 0,1 с после каждой записи.
osd recovery sleep hdd = 0
# Менеджер: состояния PG и место в пулах — раз в секунду (по умолчанию раз в 5 с), и без
# необязательных модулей (restful, iostat, nfs). Встроенные выключить нельзя: HEALTH_ERR.
mgr stats period = 1
mon mgr digest period = 1
mgr tick period = 1
mgr initial modules =

[client]
# Команды ceph, rados, radosgw-admin идут и параллельно: сокет управления им не нужен.
admin socket =

[client.rgw]
admin socket = {base}/run/$name.asok
# Встроенные умолчания шлюза требуют cephx и защищённую сессию с монитором — иначе он висит (-13).
auth client required = none
ms mon client mode = crc
rgw data = {base}/rgw
rgw frontends = {cluster.rgw_frontends()}
"""
