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
  over VXLAN) and the underlay host, and the called node counts svc_no_endpoints;
- a host-network endpoint: a server in node2's own network namespace (a hostNetwork pod's view)
  is reached over VXLAN from a pod on node1 at node2's address and through a ClusterIP whose
  endpoint is node2's address; node1's host through that ClusterIP and the underlay host through
  node1's NodePort reach it over the plain underlay, as kube-proxy would (host to host: node1's
  address is what it sees, and node1 encapsulates nothing for them); node2's host reaches a pod on
  node1 over VXLAN.
"""
import sys

import lablib
from lablib import LineReader, check, check_eq, u64
from services import (CLIENTS, EXTERNAL_IP, LB_IP, NODE_IP, NODEPORT_EMPTY, NODEPORT_LOCAL, NODEPORT_WEB,
                      NS, OUTSIDE, WHOAMI, ask, client_ip, names, objects, push, served, setup)

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


    host_network(lab)


# A Service whose only endpoint is node2's own address (a hostNetwork pod there).
HOSTNET_VIP, HOSTNET_NODEPORT, HOSTNET_TCP, HOSTNET_ECHO = "10.96.0.18", 30083, 8181, 7171


def encapsulated(lab, node="node1"):
    events = {e.get("name"): u64(e, "value") for e in lab.stats(node).get("events", [])}
    return events.get("vxlan_encapsulated", 0)


def host_network(lab):
    lablib.log("-- a host-network endpoint on node2, over the overlay")
    p = lab.popen("node2", lablib.PYTHON, WHOAMI, "serve", "--name", "host-node2",
                  "--tcp", HOSTNET_TCP, "--lifetime", 60)
    if LineReader(p).wait_for(lambda l: '"ready"' in l, timeout=10) is None:
        raise lablib.CheckFailed("whoami in node2's host network namespace did not start")
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hostnet", "namespace": NS},
           "spec": {"type": "NodePort", "clusterIP": HOSTNET_VIP, "externalTrafficPolicy": "Cluster",
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                               "targetPort": HOSTNET_TCP, "nodePort": HOSTNET_NODEPORT},
                              {"name": "echo", "protocol": "TCP", "port": 81,
                               "targetPort": HOSTNET_ECHO, "nodePort": HOSTNET_NODEPORT + 1}]}}
    endpoints = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                 "metadata": {"name": "hostnet-1", "namespace": NS,
                              "labels": {"kubernetes.io/service-name": "hostnet"}},
                 "ports": [{"name": "http", "protocol": "TCP", "port": HOSTNET_TCP},
                           {"name": "echo", "protocol": "TCP", "port": HOSTNET_ECHO}],
                 "endpoints": [{"addresses": [NODE_IP["node2"]], "nodeName": "node2",
                                "conditions": {"ready": True}}]}
    echo = lab.popen("node2", lablib.PYTHON, lablib.NETTOOL, "serve", "--tcp", HOSTNET_ECHO,
                     "--lifetime", 60)
    if LineReader(echo).wait_for(lambda l: '"ready"' in l, timeout=10) is None:
        raise lablib.CheckFailed("echo server in node2's host network namespace did not start")
    push(lab, objects() + [svc, endpoints], "the hostnet Service")
    route = lab.exec("node2", "ip", "-4", "route", "show", "10.244.1.0/24").stdout.strip()
    check("dev" in route and "mtu 1450" in route,
          "node2's host routes node1's pod CIDR into the exception interface, with the tunnel's MTU",
          "10.244.1.0/24 dev ... mtu 1450", route)
    # node1's host reaches the ClusterIP through its gateway on the underlay (its default route, on
    # a real node); the dataplane translates it on the way out of the exception interface.
    lab.exec("node1", "ip", "route", "replace", f"{HOSTNET_VIP}/32", "via", OUTSIDE)
    c1_ip = CLIENTS["c1"][1]
    for what, host, port, src, seen, over_vxlan in (
            ("c1 (node1) -> node2's address", NODE_IP["node2"], HOSTNET_TCP, f"{NS}/c1", c1_ip, True),
            ("c1 (node1) -> ClusterIP, endpoint node2's address", HOSTNET_VIP, 80, f"{NS}/c1", c1_ip,
             True),
            ("node1's host -> ClusterIP, endpoint node2's address", HOSTNET_VIP, 80, "node1",
             NODE_IP["node1"], False),
            ("outside -> node1 NodePort, endpoint node2's address", NODE_IP["node1"], HOSTNET_NODEPORT,
             "underlay", NODE_IP["node1"], False)):
        before = encapsulated(lab)
        r = served(lab, src, "tcp", host, port, what, count=3)
        after = encapsulated(lab)
        check_eq(names(r), ["host-node2"], f"{what}: node2's host answers")
        check_eq(client_ip(r), [seen], f"{what}: it sees {seen}")
        if over_vxlan:
            check(after > before, f"{what}: a pod's address crosses the overlay (node1 "
                  "encapsulates its packets)", f"> {before}", after)
        else:
            check_eq(after - before, 0, f"{what}: host to host, over the plain underlay (node1 "
                     "encapsulates nothing)")
    r = served(lab, "node2", "tcp", "10.244.1.10", 8080, "node2's host -> web-1 (node1)")
    check_eq((names(r), client_ip(r)), (["web-1"], [NODE_IP["node2"]]),
             "node2's host reaches a pod on node1 over VXLAN, from its own address")
    # Full-size segments both ways: they must fit the tunnel (the host's MTU is the underlay's).
    lab.serve(f"{NS}/c1", tcp=7070)
    t = lab.nettool("node2", "tcp", c1_ip, 7070, "--size", 200000)
    check(t["echoed"], "node2's host -> c1: 200000 bytes of TCP echoed over VXLAN", "echoed", t)
    before = encapsulated(lab)
    t = lab.nettool("underlay", "tcp", NODE_IP["node1"], HOSTNET_NODEPORT + 1, "--size", 200000)
    check(t["echoed"], "outside -> node1 NodePort -> node2's host: 200000 bytes of TCP echoed",
          "echoed", t)
    t = lab.nettool("node1", "tcp", HOSTNET_VIP, 81, "--size", 200000)
    check(t["echoed"], "node1's host -> ClusterIP -> node2's host: 200000 bytes of TCP echoed",
          "echoed", t)
    check_eq(encapsulated(lab) - before, 0,
             "node1 encapsulated none of those 400000 bytes: full-size segments on the underlay")
    before = encapsulated(lab)
    t = lab.nettool(f"{NS}/c1", "tcp", HOSTNET_VIP, 81, "--size", 200000)
    check(t["echoed"], "c1 -> ClusterIP -> node2's host: 200000 bytes of TCP echoed over VXLAN",
          "echoed", t)
    check(encapsulated(lab) - before >= 200000 // 1400, "c1's 200000 bytes crossed the overlay",
          f">= {200000 // 1400}", encapsulated(lab) - before)


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
