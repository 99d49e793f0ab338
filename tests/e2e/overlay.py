#!/usr/bin/python3
"""e2e overlay: pods on different nodeplane nodes reach each other over VXLAN, and reach pods
behind a plain-Linux node using the kernel's VXLAN (interoperability), both directions.

Lab: node1 and node2 run nodeplaned, node3 is a Linux node; VNI 4242 on port 4789; every node
knows the others (`nodeplanectl remote-node set`, or FDB/neighbour/route entries on Linux).

- pod on node1 <-> pod on node2: ICMP, TCP, UDP; 1400-byte and exactly-MTU packets with DF; a
  DF packet too big for the tunnel gets ICMP fragmentation-needed with the tunnel's MTU (1450),
  after which TCP from that pod still works (path MTU discovery);
- nodeplane pod <-> Linux-node pod, both directions, the same traffic;
- the underlay carries VXLAN that tshark decodes with VNI 4242, the nodes' VTEP addresses and
  MACs, and the pods' packet inside (50 bytes of outer headers);
- node1's own address answers ping and TCP from the underlay (exception path) while a pod-to-pod
  UDP stream across nodes keeps flowing.
"""
import sys
import time

import lablib
from lablib import LineReader, UnderlayCapture, check, check_eq, poll, u64

VNI = 4242
PORT = 4789
UNDERLAY_MTU = 1500
TUNNEL_MTU = UNDERLAY_MTU - 50
PINGS = 5
UDP_DATAGRAMS = 5
TCP_BYTES = 20000
PATTERN = "6e706c6162"


def ping_ok(lab, src, dst_ip, what, count=PINGS, size=None, df=False):
    args = ["ping", "-c", count, "-i", 0.2, "-W", 2]
    if df:
        args += ["-M", "do"]
    if size is not None:
        args += ["-s", size - 28]
    r = lab.exec(src, *args, dst_ip, check=False, timeout=count * 0.2 + 15)
    check(f"{count} received" in r.stdout, what, f"'{count} received'",
          (r.stdout + r.stderr).strip().splitlines()[-3:])


def traffic(lab, src, dst, label):
    """ICMP, TCP, UDP and the two sizes from src to dst (a pod record)."""
    ping_ok(lab, src, dst["ip"], f"{label}: ping, {PINGS} replies")
    t = lab.nettool(src, "tcp", dst["ip"], 8080, "--size", TCP_BYTES)
    check(t["echoed"], f"{label}: TCP, {TCP_BYTES} bytes echoed", "echoed", t)
    u = lab.nettool(src, "udp", dst["ip"], 9090, "--count", UDP_DATAGRAMS)
    check_eq(u["echoed"], UDP_DATAGRAMS, f"{label}: UDP, every datagram echoed")
    u = lab.nettool(src, "udp", dst["ip"], 9090, "--count", 3, "--size", 1400 - 28)
    check_eq(u["echoed"], 3, f"{label}: UDP, 1400-byte IP datagrams echoed")
    ping_ok(lab, src, dst["ip"], f"{label}: 1400-byte DF ping", count=2, size=1400, df=True)
    ping_ok(lab, src, dst["ip"], f"{label}: exactly-MTU ({TUNNEL_MTU}-byte) DF ping", count=2,
            size=TUNNEL_MTU, df=True)


def vxlan_drops(lab, node):
    return {k: v for k, v in lab.drops(node).items() if "vxlan" in (k or "")}


def test(lab):
    nodes = {n: lab.node(n) for n in ("node1", "node2", "node3")}
    check_eq([nodes[n]["kind"] for n in nodes], ["nodeplane", "nodeplane", "linux"], "node kinds")

    # What the lab told node1.
    state = lab.ctl_json("node1", "state")
    node = state.get("node", {})
    # The daemon reads back only what differs from the defaults: "" means the first address.
    vtep = node.get("vtep_address") or node.get("addresses", [""])[0].split("/")[0]
    check_eq(vtep, "10.77.0.11", "node1's VTEP address is its underlay address")
    check_eq(node.get("vxlan", {}).get("vni"), VNI, f"node1's VNI is {VNI}")
    remotes = {r["name"]: r for r in lab.ctl_json("node1", "remote-nodes").get("remote_nodes", [])}
    check_eq(sorted(remotes), ["node2", "node3"], "node1 knows node2 and node3")
    for name in ("node2", "node3"):
        r, n = remotes[name], nodes[name]
        check_eq((r["underlay_address"], r["pod_cidrs"], r["vni"], r["udp_port"], r["vtep_mac"]),
                 (n["vtep_address"], [n["pod_cidr"]], VNI, PORT, n["vtep_mac"]),
                 f"node1's record of {name}")

    a = lab.pod_add("node1", "default/a")
    b = lab.pod_add("node2", "default/b")
    c = lab.pod_add("node3", "default/c")
    big = lab.pod_add("node1", "default/big", None, "--mtu", UNDERLAY_MTU)
    mtu = lab.exec("default/a", "cat", "/sys/class/net/eth0/mtu").stdout.strip()
    check_eq(mtu, str(TUNNEL_MTU), "a nodeplane pod's MTU defaults to the uplink's minus 50")
    for pod in ("default/a", "default/b", "default/c"):
        lab.serve(pod, tcp=8080, udp=9090)
    drops_before = {n: vxlan_drops(lab, n) for n in ("node1", "node2")}

    # node1 <-> node2.
    traffic(lab, "default/a", b, "node1 pod -> node2 pod")
    traffic(lab, "default/b", a, "node2 pod -> node1 pod")
    # Most of those packets crossed both nodes by their connection's remembered route (encapsulated
    # on the way out, delivered on the way in): dataplane/README.md, "The established fast path".
    for n in ("node1", "node2"):
        events = {e.get("name"): u64(e, "value") for e in lab.stats(n).get("events", [])}
        check(events.get("ct_fastpath", 0) > 0, f"{n}: established packets took the fast path",
              "ct_fastpath > 0", events)

    # Fragmentation needed: a pod whose MTU is the underlay's sends a DF packet that does not fit
    # the tunnel.
    r = lab.exec("default/big", "ping", "-c", 1, "-W", 2, "-M", "do", "-s", UNDERLAY_MTU - 28, b["ip"],
                 check=False)
    out = (r.stdout + r.stderr).strip()
    check("Frag needed" in out and f"mtu = {TUNNEL_MTU}" in out,
          f"an oversized DF packet gets fragmentation-needed (mtu {TUNNEL_MTU})",
          f"'Frag needed and DF set (mtu = {TUNNEL_MTU})'", out.splitlines()[-4:])
    route = lab.exec("default/big", "ip", "route", "get", b["ip"]).stdout
    check(f"mtu {TUNNEL_MTU}" in route, "the sender's kernel learned the path MTU",
          f"mtu {TUNNEL_MTU}", route.strip())
    t = lab.nettool("default/big", "tcp", b["ip"], 8080, "--size", TCP_BYTES)
    check(t["echoed"], "TCP from the MTU-1500 pod works after path MTU discovery", "echoed", t)
    r = lab.exec("default/big", "ping", "-c", 1, "-W", 2, "-M", "dont", "-s", UNDERLAY_MTU - 28,
                 b["ip"], check=False)
    lablib.log(f"  (information) a {UNDERLAY_MTU}-byte packet without DF: "
               f"{(r.stdout + r.stderr).strip().splitlines()[-2:]}")

    # nodeplane <-> Linux kernel VXLAN.
    traffic(lab, "default/a", c, "nodeplane pod -> Linux-node pod")
    traffic(lab, "default/c", a, "Linux-node pod -> nodeplane pod")
    traffic(lab, "default/c", b, "Linux-node pod -> node2 pod")

    # The wire: VXLAN with the VNI, the VTEPs' addresses and MACs, the pod's packet inside.
    with UnderlayCapture(lab, PORT) as cap:
        for dst in (b, c):
            lab.exec("default/a", "ping", "-c", 3, "-i", 0.2, "-W", 2, "-s", 1400 - 28, "-p", PATTERN,
                     dst["ip"], check=False)
    packets = cap.packets()
    for p in packets:
        lablib.log("    " + UnderlayCapture.describe(p))
    for dst, peer in ((b, "node2"), (c, "node3")):
        n1, np_ = nodes["node1"], nodes[peer]
        out = UnderlayCapture.matching(packets, n1["vtep_address"], np_["vtep_address"], a["ip"], dst["ip"])
        back = UnderlayCapture.matching(packets, np_["vtep_address"], n1["vtep_address"], dst["ip"], a["ip"])
        check_eq(len(out), 3, f"node1 -> {peer}: 3 encapsulated echo requests on the underlay")
        check_eq(len(back), 3, f"{peer} -> node1: 3 encapsulated echo replies on the underlay")
        for what, p, src_mac, dst_mac in (("request", out[0], n1["vtep_mac"], np_["vtep_mac"]),
                                          ("reply", back[0], np_["vtep_mac"], n1["vtep_mac"])):
            check_eq(p["vxlan.vni"], [str(VNI)], f"{peer} {what}: VXLAN with VNI {VNI}")
            check_eq(p["vxlan.flags"], ["0x0800"], f"{peer} {what}: VXLAN flags: only I")
            check_eq(p["udp.dstport"][:1], [str(PORT)], f"{peer} {what}: outer UDP port {PORT}")
            check_eq(p["eth.src"][1:2], [src_mac], f"{peer} {what}: inner source MAC = sender's VTEP MAC")
            check_eq(p["eth.dst"][1:2], [dst_mac], f"{peer} {what}: inner destination MAC = peer's VTEP MAC")
            check_eq(p["ip.len"], ["1450", "1400"], f"{peer} {what}: outer = inner + 50 bytes")
        check(any(PATTERN in "".join(p["data.data"]) for p in out),
              f"node1 -> {peer}: the pod's payload is inside, intact", PATTERN, out[0]["data.data"])

    # The node's own address, from the underlay, while pods keep flowing across nodes.
    host = lab.popen("node1", lablib.PYTHON, lablib.NETTOOL, "serve", "--tcp", 7070, "--lifetime", 60)
    if LineReader(host).wait_for(lambda l: '"ready"' in l, timeout=10) is None:
        raise lablib.CheckFailed("TCP server in node1's netns did not start")
    stream = lab.popen("default/a", lablib.PYTHON, lablib.NETTOOL, "stream", b["ip"], 9090,
                       "--interval", 0.02, "--duration", 6)
    reader = LineReader(stream)
    echoes = lambda: sum(1 for l in reader.snapshot() if '"recv"' in l)
    check(poll(lambda: echoes() >= 10, timeout=10), "a UDP stream node1 pod -> node2 pod flows",
          ">= 10 echoes", echoes())
    node_ip = nodes["node1"]["vtep_address"]
    for src in ("underlay", "node3"):
        ping_ok(lab, src, node_ip, f"{src} -> node1's address {node_ip}: ping answered", count=3)
    t = lab.nettool("underlay", "tcp", node_ip, 7070, "--size", 4000)
    check(t["echoed"], f"underlay -> node1's address {node_ip}: TCP echoed", "echoed", t)
    stream.wait(timeout=20)
    lines = reader.snapshot()
    sent = sum(1 for l in lines if '"ev": "sent"' in l)
    got = echoes()
    lablib.log(f"  stream: {sent} sent, {got} echoed")
    check(sent > 100 and got >= sent * 0.95, "the pod stream kept flowing (>= 95% echoed)",
          f">= {int(sent * 0.95)} of {sent}", got)

    after = {n: vxlan_drops(lab, n) for n in ("node1", "node2")}
    for n in ("node1", "node2"):
        grew = {k: v - drops_before[n].get(k, 0) for k, v in after[n].items()
                if v != drops_before[n].get(k, 0)}
        check_eq(grew, {}, f"{n}: no VXLAN drop counted for legitimate traffic")


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2, linux_nodes=1, vni=VNI, vxlan_port=PORT))
