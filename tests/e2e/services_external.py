#!/usr/bin/python3
"""e2e services_external: the same lab and Services as services.py, reached from outside the pod
network: from the underlay host (10.77.0.1) and from a pod to the *other* node's address.

- NodePort on both nodes, a LoadBalancer IP routed to node1 and an externalIP routed to node2,
  TCP and UDP, from the underlay host, with both backends (one on the node called, one on the
  other node, reached over VXLAN): served, and with externalTrafficPolicy Cluster the backend sees
  the called node's overlay address (its pod CIDR's network address, 10.244.k.0: SNAT);
- a pod to the other node's NodePort (over VXLAN to that node, served there);
- externalTrafficPolicy Local: node1 (the endpoint's node) serves and the backend sees 10.77.0.1;
  node2 (no local endpoint) drops and counts svc_no_local_endpoint;
- a NodePort whose Service has no endpoints refuses at once (TCP RST, ICMP port unreachable: the
  client sees "connection refused", never a timeout) a pod of the other node (the reply goes back
  over VXLAN) and the underlay host, and the called node counts svc_no_endpoints.
"""
import sys

import lablib
from lablib import check, check_eq
from services import (CLIENTS, EXTERNAL_IP, LB_IP, NODE_IP, NODEPORT_EMPTY, NODEPORT_LOCAL, NODEPORT_WEB,
                      NS, OUTSIDE, ask, client_ip, names, served, setup)

# Where eTP Cluster traffic from outside is SNATed: the called node's pod CIDR's network address
# (control/compile/overlay_source.h), which the other node routes back to it over VXLAN.
OVERLAY_IP = {"node1": "10.244.1.0", "node2": "10.244.2.0"}


def test(lab):
    setup(lab)
    lablib.log("-- NodePort, LoadBalancer IP, externalIP from outside (eTP Cluster: SNAT)")
    for what, node, host, port in (("node1 NodePort", "node1", NODE_IP["node1"], NODEPORT_WEB),
                                   ("node2 NodePort", "node2", NODE_IP["node2"], NODEPORT_WEB),
                                   ("LoadBalancer IP via node1", "node1", LB_IP, 80),
                                   ("externalIP via node2", "node2", EXTERNAL_IP, 80)):
        for proto in ("tcp", "udp"):
            dport = 53 if proto == "udp" and port == 80 else port  # NodePorts: one number for both
            backends, seen = set(), set()
            for sport in range(43000, 43040):  # a flow per source port until both backends answer
                r = served(lab, "underlay", proto, host, dport, f"outside -> {what} {proto}",
                           sport=sport)
                backends |= set(names(r))
                seen |= set(client_ip(r))
                if len(backends) == 2 and sport >= 43005:
                    break
            check_eq(sorted(backends), ["web-1", "web-2"],
                     f"outside -> {what} {proto}: both backends, one on the other node")
            check_eq(sorted(seen), [OVERLAY_IP[node]],
                     f"outside -> {what} {proto}: eTP Cluster SNATs to {node}'s overlay address")

    lablib.log("-- NodePort of the other node from pods (over VXLAN, backends on both nodes)")
    for c, (node, _) in CLIENTS.items():
        other = "node2" if node == "node1" else "node1"
        backends, seen = set(), set()
        for sport in range(44000, 44040):
            r = served(lab, f"{NS}/{c}", "tcp", NODE_IP[other], NODEPORT_WEB,
                       f"{c} -> {other} NodePort", sport=sport)
            backends |= set(names(r))
            seen |= set(client_ip(r))
            if len(backends) == 2:
                break
        check_eq(sorted(backends), ["web-1", "web-2"], f"{c} -> {other} NodePort: both backends")
        check_eq(sorted(seen), [OVERLAY_IP[other]],
                 f"{c} -> {other} NodePort: SNATed to {other}'s overlay address (outside {other})")

    lablib.log("-- externalTrafficPolicy Local")
    r = served(lab, "underlay", "tcp", NODE_IP["node1"], NODEPORT_LOCAL, "outside -> node1 Local NodePort",
               count=3)
    check_eq(names(r), ["web-1"], "eTP Local on node1: its local endpoint answers")
    check_eq(client_ip(r), [OUTSIDE], "eTP Local: the backend sees the real client address")
    before = lab.drops("node2").get("svc_no_local_endpoint", 0)
    r = ask(lab, "underlay", "tcp", NODE_IP["node2"], NODEPORT_LOCAL, timeout=1)
    check_eq((r["answers"], r["error"]), ([], "timeout"), "eTP Local on node2 (no local endpoint): dropped")
    after = lab.drops("node2").get("svc_no_local_endpoint", 0)
    check(after > before, "node2 counts the drop as svc_no_local_endpoint", f"> {before}", after)

    lablib.log("-- no endpoints: the other node's pods and the underlay host are refused at once")
    for c, (node, _) in CLIENTS.items():
        other = "node2" if node == "node1" else "node1"
        before = lab.drops(other).get("svc_no_endpoints", 0)
        r = ask(lab, f"{NS}/{c}", "tcp", NODE_IP[other], NODEPORT_EMPTY)
        check(r["error"] == "refused" and r["elapsed"] < 0.5,
              f"{c} -> {other} NodePort without endpoints: TCP refused in < 0.5 s (RST over VXLAN)",
              "refused", r)
        r = ask(lab, f"{NS}/{c}", "udp", NODE_IP[other], NODEPORT_EMPTY)
        check_eq(r["error"], "refused",
                 f"{c} -> {other} NodePort without endpoints: UDP ECONNREFUSED (ICMP over VXLAN)")
        after = lab.drops(other).get("svc_no_endpoints", 0)
        check(after >= before + 2, f"{other} counts both as svc_no_endpoints", f">= {before + 2}", after)
    r = ask(lab, "underlay", "tcp", NODE_IP["node1"], NODEPORT_EMPTY)
    check(r["error"] == "refused" and r["elapsed"] < 0.5,
          "outside -> node1 NodePort without endpoints: TCP refused in < 0.5 s", "refused", r)



if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
