#!/usr/bin/env bash
# perf/pod_ports/compare.sh: pod-to-pod throughput and latency through nodeplaned, once per kind of
# pod port (--pod-port tap | af_packet), so the faster one can be chosen as the default.
#
# Each run and type gets a fresh setup: a node netns with one nodeplaned (one lcore, full-speed
# polling, no uplink, no exception port) and two pod netns attached to it. Pod a sends to pod b:
# iperf3 TCP, iperf3 UDP with 64-byte payloads at an unlimited offered rate, then ping. Types are
# interleaved run by run, so a disturbance on the machine hits both alike. Medians over the runs.
# Run as root. See README.md beside this file for the results.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$HERE/../.." && pwd)
PROG=compare.sh
PY=/usr/bin/python3

BIN=${NP_BUILD_DIR:-$REPO_ROOT/build/bin}
PREFIX=${NP_PERF_PREFIX:-nppp$$}
TYPES="tap af_packet"
RUNS=3
TCP_SECONDS=5
UDP_SECONDS=5
UDP_RATE=0        # iperf3 -b: 0 = as fast as the sender can
UDP_PAYLOAD=64
PINGS=200
GEN_CPU=1         # CPU for iperf3 and ping; the daemon's lcore 0 is CPU 0. "none": no pinning.
MEMORY=(--no-huge)  # same memory for every run: free hugepages come and go on a shared machine
START_TIMEOUT=30
STOP_TIMEOUT=10

POD_A_IP=10.244.1.2
POD_B_IP=10.244.1.3

usage() {
  cat <<EOF
usage: $PROG [--types "tap af_packet"] [--runs N] [--tcp-seconds N] [--udp-seconds N]
             [--udp-rate RATE] [--pings N] [--gen-cpu N|none] [--huge] [--keep]

Measures pod-to-pod traffic through nodeplaned for each pod port type and prints a table of
medians over the runs, then one JSON line. Defaults: --runs $RUNS, --tcp-seconds $TCP_SECONDS,
--udp-seconds $UDP_SECONDS, --udp-rate $UDP_RATE (iperf3 -b; 0 = unlimited), --pings $PINGS
(ping -i 0.01), --gen-cpu $GEN_CPU (taskset CPU of iperf3/ping; nodeplaned runs on lcore 0).
nodeplaned runs with --no-huge unless --huge is given (then it uses hugepages when enough are
free). --keep keeps the work directory (raw iperf3 JSON, ping output, daemon logs) in /tmp.

Environment: NP_BUILD_DIR (nodeplaned, nodeplanectl; default $REPO_ROOT/build/bin),
NP_PERF_PREFIX (names of namespaces and files; default nppp<pid>). Needs root, iperf3, ping.
EOF
}

die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}
info() { printf '%s: %s\n' "$PROG" "$*" >&2; }

KEEP=0
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --types) TYPES=${2:?--types needs a list}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --tcp-seconds) TCP_SECONDS=${2:?}; shift 2 ;;
    --udp-seconds) UDP_SECONDS=${2:?}; shift 2 ;;
    --udp-rate) UDP_RATE=${2:?}; shift 2 ;;
    --pings) PINGS=${2:?}; shift 2 ;;
    --gen-cpu) GEN_CPU=${2:?}; shift 2 ;;
    --huge) MEMORY=(); shift ;;
    --keep) KEEP=1; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done

[[ $(id -u) == 0 ]] || die "run as root (namespaces, DPDK)"
for tool in ip iperf3 ping taskset "$PY"; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install iperf3 iputils-ping)"
done
for b in nodeplaned nodeplanectl; do
  [[ -x $BIN/$b ]] || die "$BIN/$b not found: build first or set NP_BUILD_DIR"
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
for t in $TYPES; do
  [[ $t == tap || $t == af_packet ]] || die "unknown pod port type '$t'"
done

GEN=()
[[ $GEN_CPU == none ]] || GEN=(taskset -c "$GEN_CPU")

WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
NODE_NS=$PREFIX-node
POD_A_NS=$PREFIX-a
POD_B_NS=$PREFIX-b
SOCK=/run/$PREFIX.sock
DAEMON_PID=
IPERF_PIDFILE=$WORK/iperf3.pid
FILE_PREFIX=

ctl() { "$BIN/nodeplanectl" --socket "$SOCK" "$@"; }
in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# Stops what one setup started; safe to call twice and on a half-built setup.
teardown() {
  if [[ -n $DAEMON_PID ]]; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    local waited=0
    while kill -0 "$DAEMON_PID" 2>/dev/null && ((waited < STOP_TIMEOUT * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
      info "nodeplaned did not stop within ${STOP_TIMEOUT}s, killing it"
      kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
  fi
  if [[ -s $IPERF_PIDFILE ]]; then
    kill "$(cat "$IPERF_PIDFILE")" 2>/dev/null || true
    rm -f "$IPERF_PIDFILE"
  fi
  local ns
  for ns in "$POD_A_NS" "$POD_B_NS" "$NODE_NS"; do
    [[ -e /run/netns/$ns ]] && ip netns del "$ns" 2>/dev/null || true
  done
  rm -f "$SOCK"
  [[ -n $FILE_PREFIX ]] && rm -rf "/var/run/dpdk/$FILE_PREFIX"
  FILE_PREFIX=
}

on_exit() {
  local rc=$?
  teardown
  if ((KEEP)) || ((rc != 0)); then
    info "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# Pod netns with IPv6 off (its ND/MLD chatter would only add noise); attach brings lo and eth0 up.
add_pod_ns() {
  ip netns add "$1"
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# setup TYPE LOG: node + daemon + two attached pods + iperf3 server in pod b.
setup() {
  local type=$1 log=$2
  FILE_PREFIX=$PREFIX-$type
  ! ctl status >/dev/null 2>&1 || die "$SOCK is already served by another nodeplaned"
  ip netns add "$NODE_NS"
  add_pod_ns "$POD_A_NS"
  add_pod_ns "$POD_B_NS"
  # Not through a function: $! must be the daemon itself (ip netns exec execs it, same pid).
  ip netns exec "$NODE_NS" "$BIN/nodeplaned" --pod-port "$type" --idle-sleep-us 0 --lcores 0 \
    --file-prefix "$FILE_PREFIX" --host-iface none --socket "$SOCK" "${MEMORY[@]}" \
    >>"$log" 2>&1 </dev/null &
  DAEMON_PID=$!
  local waited=0
  until ctl status >/dev/null 2>&1; do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null || ((waited >= START_TIMEOUT * 10)); then
      tail -n 20 "$log" >&2
      die "nodeplaned ($type) exited or did not answer within ${START_TIMEOUT}s"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  ctl node set --name n1 --address 10.77.0.11/24 --pod-cidr 10.244.1.0/24 >/dev/null
  ctl attach default/a --netns "/run/netns/$POD_A_NS" --ip "$POD_A_IP" >/dev/null
  ctl attach default/b --netns "/run/netns/$POD_B_NS" --ip "$POD_B_IP" >/dev/null
  # Measure what we think we measure: both pod ports are of this type's DPDK driver.
  local driver=net_tap_
  [[ $type == af_packet ]] && driver=net_af_packet_
  local ports
  ports=$(ctl stats | grep -c " $driver" || true)
  [[ $ports == 2 ]] || die "expected 2 $driver ports, stats shows $ports"
  in_ns "$POD_B_NS" "${GEN[@]}" iperf3 -s -D --pidfile "$IPERF_PIDFILE" >/dev/null
  waited=0
  until [[ -s $IPERF_PIDFILE ]] || ((waited > 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  # Warm up: neighbour entries on both sides, and a check that traffic flows at all.
  in_ns "$POD_A_NS" ping -c 3 -i 0.2 -W 2 "$POD_B_IP" >/dev/null ||
    die "$type: pod a cannot ping pod b"
}

# UDP datagrams that reached pod b's UDP layer (queued, or dropped because the socket was full).
udp_arrived() {
  in_ns "$POD_B_NS" awk '/^Udp:/ { n++; if (n == 1) { for (i = 2; i <= NF; i++) col[$i] = i; next }
    print $col["InDatagrams"] + $col["RcvbufErrors"] }' /proc/net/snmp
}

# measure TYPE RUN DIR: writes tcp.json, udp.json, ping.txt, udp_arrived, stats.json into DIR.
measure() {
  local type=$1 run=$2 dir=$3
  info "run $run/$RUNS, $type: TCP ${TCP_SECONDS}s"
  in_ns "$POD_A_NS" "${GEN[@]}" iperf3 -c "$POD_B_IP" -t "$TCP_SECONDS" -J >"$dir/tcp.json" ||
    die "$type: iperf3 TCP failed (see $dir/tcp.json)"
  info "run $run/$RUNS, $type: UDP ${UDP_PAYLOAD}-byte payloads, ${UDP_SECONDS}s"
  local before after
  before=$(udp_arrived)
  in_ns "$POD_A_NS" "${GEN[@]}" iperf3 -c "$POD_B_IP" -u -l "$UDP_PAYLOAD" -b "$UDP_RATE" \
    -t "$UDP_SECONDS" -J >"$dir/udp.json" || die "$type: iperf3 UDP failed (see $dir/udp.json)"
  sleep 0.5  # let the last datagrams land
  after=$(udp_arrived)
  echo $((after - before)) >"$dir/udp_arrived"
  info "run $run/$RUNS, $type: ping -c $PINGS -i 0.01"
  in_ns "$POD_A_NS" "${GEN[@]}" ping -c "$PINGS" -i 0.01 "$POD_B_IP" >"$dir/ping.txt" ||
    die "$type: ping lost packets (see $dir/ping.txt)"
  ctl -o json stats >"$dir/stats.json" 2>/dev/null || true
}

# One JSON object per run and type, from the files measure wrote.
summarize_run() {
  local type=$1 run=$2 dir=$3
  "$PY" - "$type" "$run" "$dir" <<'EOF'
import json, sys
type_, run, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tcp = json.load(open(f"{d}/tcp.json"))["end"]
udp = json.load(open(f"{d}/udp.json"))["end"]
sent, recv = udp["sum_sent"], udp["sum_received"]
rtts = sorted(float(l.split("time=")[1].split()[0]) * 1000
              for l in open(f"{d}/ping.txt") if "time=" in l)
def pct(p):  # nearest rank
    return rtts[max(0, min(len(rtts) - 1, -(-len(rtts) * p // 100) - 1))] if rtts else None
arrived = int(open(f"{d}/udp_arrived").read())
ready = [l for l in open(f"{d}/nodeplaned.log") if "nodeplaned: ready:" in l]
memory = ("no hugepages" if "no hugepages" in ready[0] else "hugepages") if ready else "unknown"
print(json.dumps({
    "type": type_, "run": run,
    "tcp_gbps": round(tcp["sum_received"]["bits_per_second"] / 1e9, 3),
    "tcp_retransmits": tcp["sum_sent"].get("retransmits"),
    "udp_offered_kpps": round(sent["packets"] / sent["seconds"] / 1e3, 1),
    "udp_rx_kpps": round((recv["packets"] - recv["lost_packets"]) / recv["seconds"] / 1e3, 1),
    "udp_loss_pct": round(recv["lost_percent"], 2),
    "udp_arrived_kpps": round(arrived / recv["seconds"] / 1e3, 1),
    "udp_path_loss_pct": round(100 * max(0, 1 - arrived / sent["packets"]), 2),
    "ping_p50_us": round(pct(50)), "ping_p99_us": round(pct(99)),
    "ping_replies": len(rtts),
    "memory": memory,
    "loadavg_before": open(f"{d}/loadavg_before").read().strip(),
}))
EOF
}

RESULTS=$WORK/runs.jsonl
: >"$RESULTS"
for ((run = 1; run <= RUNS; run++)); do
  for type in $TYPES; do
    dir=$WORK/$type-$run
    mkdir -p "$dir"
    cut -d' ' -f1-3 /proc/loadavg >"$dir/loadavg_before"
    setup "$type" "$dir/nodeplaned.log"
    measure "$type" "$run" "$dir"
    teardown
    summarize_run "$type" "$run" "$dir" | tee -a "$RESULTS" >&2
  done
done

"$PY" - "$RESULTS" "$GEN_CPU" "$(nproc)" "$UDP_PAYLOAD" <<'EOF'
import json, statistics, sys
path, gen_cpu, cpus, payload = sys.argv[1:5]
runs = [json.loads(l) for l in open(path)]
mem = " / ".join(sorted({r["memory"] for r in runs}))
types = list(dict.fromkeys(r["type"] for r in runs))
metrics = [("tcp_gbps", "TCP Gbit/s"), ("tcp_retransmits", "TCP retransmits"),
           ("udp_offered_kpps", "UDP offered kpps"), ("udp_arrived_kpps", "UDP arrived kpps"),
           ("udp_path_loss_pct", "UDP path loss %"), ("udp_rx_kpps", "UDP rx kpps"),
           ("udp_loss_pct", "UDP loss %"), ("ping_p50_us", "ping p50 us"),
           ("ping_p99_us", "ping p99 us")]
med = {t: {m: statistics.median(r[m] for r in runs if r["type"] == t) for m, _ in metrics}
       for t in types}
print(f"\nmedians of {len(runs) // max(1, len(types))} runs; {cpus} CPUs shared by nodeplaned "
      f"(lcore 0) and iperf3/ping (CPU {gen_cpu}); {mem}; UDP payload {payload} bytes")
print(f"{'metric':<18}" + "".join(f"{t:>12}" for t in types))
for m, label in metrics:
    print(f"{label:<18}" + "".join(f"{med[t][m]:>12g}" for t in types))
better = {}
if len(types) == 2:
    a, b = types
    for m, higher_is_better in (("tcp_gbps", True), ("udp_rx_kpps", True),
                                ("udp_arrived_kpps", True), ("ping_p50_us", False),
                                ("ping_p99_us", False)):
        x, y = med[a][m], med[b][m]
        if x == y:
            better[m] = "same"
        else:
            better[m] = a if (x > y) == higher_is_better else b
print(json.dumps({"benchmark": "pod_ports", "cpus": int(cpus), "generator_cpu": gen_cpu,
                  "memory": mem, "runs": runs, "medians": med, "better": better}))
EOF
