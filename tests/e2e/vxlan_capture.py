#!/usr/bin/python3
"""e2e vxlan_capture: what crosses the lab's underlay between two Linux nodes, captured with
tcpdump on the underlay bridge and decoded by tshark as VXLAN on a non-default port (Flannel's
8472) with a non-default VNI: outer addresses are the nodes' VTEPs, the VNI is the configured
one, the inner frame goes between the nodes' VTEP MACs and carries the pods' packet intact, and
the outer packet is exactly 50 bytes longer than the inner one."""
import sys

import lablib
from lablib import UnderlayCapture, check, check_eq

VNI = 4242
PORT = 8472
PINGS = 3
PATTERN = "6e706c6162"  # "nplab", in every echo request's payload


def test(lab):
    n1, n2 = lab.node("node1"), lab.node("node2")
    check_eq((n1["vni"], n1["vxlan_port"]), (str(VNI), str(PORT)), "the lab recorded VNI and port")
    a = lab.pod_add("node1", "default/a")
    b = lab.pod_add("node2", "default/b")

    with UnderlayCapture(lab, PORT) as cap:
        r = lab.exec("default/a", "ping", "-c", PINGS, "-i", 0.2, "-W", 2, "-s", 1400 - 28,
                     "-p", PATTERN, b["ip"], check=False)
        check(f"{PINGS} received" in r.stdout, f"ping a -> b over VNI {VNI} port {PORT}",
              f"'{PINGS} received'", r.stdout.strip().splitlines()[-2:])
    packets = cap.packets()
    for p in packets:
        lablib.log("    " + UnderlayCapture.describe(p))

    requests = UnderlayCapture.matching(packets, "10.77.0.11", "10.77.0.12", a["ip"], b["ip"])
    replies = UnderlayCapture.matching(packets, "10.77.0.12", "10.77.0.11", b["ip"], a["ip"])
    check_eq(len(requests), PINGS, "echo requests on the underlay, node1's VTEP -> node2's")
    check_eq(len(replies), PINGS, "echo replies on the underlay, node2's VTEP -> node1's")
    for what, pkts, src, dst in (("request", requests, n1, n2), ("reply", replies, n2, n1)):
        p = pkts[0]
        check_eq(p["vxlan.vni"], [str(VNI)], f"{what}: tshark decodes VXLAN with VNI {VNI}")
        check_eq(p["udp.dstport"][:1], [str(PORT)], f"{what}: outer UDP destination port {PORT}")
        check_eq(p["vxlan.flags"], ["0x0800"], f"{what}: VXLAN flags: only I (VNI valid), RFC 7348")
        check_eq(p["eth.src"][1:2], [src["vtep_mac"]], f"{what}: inner source MAC is the sender's VTEP MAC")
        check_eq(p["eth.dst"][1:2], [dst["vtep_mac"]], f"{what}: inner destination MAC is the peer's VTEP MAC")
        check_eq(p["icmp.type"], ["8" if what == "request" else "0"], f"{what}: inner ICMP echo {what}")
        check_eq(p["ip.len"], ["1450", "1400"], f"{what}: outer IPv4 = inner 1400 bytes + 50")
    check(any(PATTERN in "".join(p["data.data"]) for p in requests),
          "the inner payload is the pod's, intact", PATTERN, requests[0]["data.data"])


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=0, linux_nodes=2, vni=VNI, vxlan_port=PORT))
