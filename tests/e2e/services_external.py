#!/usr/bin/python3
"""e2e services_external: the same lab and Services as services.py, reached from outside the pod
network: from the underlay host (10.77.0.1) and from a pod to the *other* node's address.

- NodePort on both nodes, a LoadBalancer IP routed to node1 and an externalIP routed to node2,
  TCP and UDP, from the underlay host: served, and with externalTrafficPolicy Cluster the backend
  sees a node address (SNAT);
- a pod to the other node's NodePort;
- externalTrafficPolicy Local: node1 (the endpoint's node) serves and the backend sees 10.77.0.1;
  node2 (no local endpoint) drops and counts svc_no_local_endpoint.

Known to fail today (not in NP_E2E_TESTS until fixed): ip4_lookup routes a pod's packet only to
local pods, this node's addresses and remote pod CIDRs, so a backend's reply to a client outside
the pod network (after conntrack has reversed the NAT) and a pod's packet to another node's
address are dropped as no_route.
"""
import sys

import lablib
from lablib import check, check_eq
from services import (CLIENTS, EXTERNAL_IP, LB_IP, NODE_IP, NODEPORT_LOCAL, NODEPORT_WEB, NS, OUTSIDE,
                      ask, client_ip, names, served, setup)


def test(lab):
    setup(lab)
    lablib.log("-- NodePort, LoadBalancer IP, externalIP from outside (eTP Cluster: SNAT)")
    for what, host, port in (("node1 NodePort", NODE_IP["node1"], NODEPORT_WEB),
                             ("node2 NodePort", NODE_IP["node2"], NODEPORT_WEB),
                             ("LoadBalancer IP via node1", LB_IP, 80),
                             ("externalIP via node2", EXTERNAL_IP, 80)):
        for proto in ("tcp", "udp"):
            dport = 53 if proto == "udp" and port == 80 else port  # NodePorts: one number for both
            r = served(lab, "underlay", proto, host, dport, f"outside -> {what} {proto}", count=6)
            seen = client_ip(r)
            check(OUTSIDE not in seen and set(seen) <= set(NODE_IP.values()),
                  f"outside -> {what} {proto}: eTP Cluster SNATs to a node address",
                  "a node address", seen)

    lablib.log("-- NodePort of the other node from pods")
    for c, (node, _) in CLIENTS.items():
        other = "node2" if node == "node1" else "node1"
        served(lab, f"{NS}/{c}", "tcp", NODE_IP[other], NODEPORT_WEB, f"{c} -> {other} NodePort")

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



if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
