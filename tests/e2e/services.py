#!/usr/bin/python3
"""e2e services: Kubernetes Services end to end on two nodeplane nodes, pushed over the API to every
node (as kube-proxy programs every Service on every node) by `nodeplane-agent --from-manifests`.

Lab: node1 and node2 (nodeplaned); backends web-1 (10.244.1.10, node1) and web-2 (10.244.2.10,
node2) run whoami.py, which answers with its name and the client address it saw; clients c1 (node1)
and c2 (node2); the underlay netns is a host outside the cluster (10.77.0.1).

- ClusterIP TCP and UDP from both nodes reach backends on both nodes (VXLAN), client IP kept;
- NodePort of the client's node, externalIPs and load-balancer IPs from pods (the same from the
  underlay host and from other nodes' pods, with both traffic policies: services_external.py);
- internalTrafficPolicy Local: each node's clients reach only that node's endpoint;
- sessionAffinity ClientIP (timeout 2 s): 15 requests hit one backend, later requests spread;
- no endpoints: TCP refused at once, UDP ECONNREFUSED (ICMP port unreachable);
- hairpin: web-1 reaches itself through a Service of its own;
- a backend's port closed: the ICMP port unreachable comes back quoting the VIP (ECONNREFUSED on
  a socket connected to the VIP);
- a backend removed while a TCP connection to it is open: that connection keeps working (only UDP
  entries are flushed, as kube-proxy does), new connections go to the remaining backend, a UDP
  flow from a fixed port moves to it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import lablib
from lablib import LineReader, check, check_eq, poll

WHOAMI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "whoami.py")
NS = "svc"
OUTSIDE = "10.77.0.1"
NODE_IP = {"node1": "10.77.0.11", "node2": "10.77.0.12"}
BACKENDS = {"web-1": ("node1", "10.244.1.10"), "web-2": ("node2", "10.244.2.10")}
CLIENTS = {"c1": ("node1", "10.244.1.20"), "c2": ("node2", "10.244.2.20")}
TCP_PORT, UDP_PORT, CLOSED_PORT = 8080, 9090, 9999
LB_IP, EXTERNAL_IP = "198.51.100.10", "203.0.113.10"

VIP = {"web": "10.96.0.10", "local": "10.96.0.11", "itp": "10.96.0.12", "aff": "10.96.0.13",
       "empty": "10.96.0.14", "closed": "10.96.0.15", "hair": "10.96.0.16", "churn": "10.96.0.17"}
NODEPORT_WEB, NODEPORT_LOCAL, NODEPORT_EMPTY = 30080, 30081, 30082


def service(name, extra_spec=None, ports=None, status=None):
    ports = ports or [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": TCP_PORT},
                      {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": UDP_PORT}]
    spec = {"type": "ClusterIP", "clusterIP": VIP[name], "ports": ports, **(extra_spec or {})}
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
           "spec": spec}
    if status:
        obj["status"] = status
    return obj


def slice_of(svc, backends, tcp=TCP_PORT, udp=UDP_PORT):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-1", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": svc}},
            "ports": [{"name": "http", "protocol": "TCP", "port": tcp},
                      {"name": "dns", "protocol": "UDP", "port": udp}],
            "endpoints": [{"addresses": [BACKENDS[b][1]], "nodeName": BACKENDS[b][0],
                           "conditions": {"ready": True}} for b in backends]}


def objects():
    both = ["web-1", "web-2"]
    nodeport = lambda http, dns: [
        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": TCP_PORT, "nodePort": http},
        {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": UDP_PORT, "nodePort": dns}]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        service("web", {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster",
                        "externalIPs": [EXTERNAL_IP], "ports": nodeport(NODEPORT_WEB, NODEPORT_WEB)},
                status={"loadBalancer": {"ingress": [{"ip": LB_IP}]}}),
        slice_of("web", both),
        service("local", {"type": "NodePort", "externalTrafficPolicy": "Local",
                          "ports": nodeport(NODEPORT_LOCAL, NODEPORT_LOCAL)}),
        slice_of("local", ["web-1"]),
        service("itp", {"internalTrafficPolicy": "Local"}),
        slice_of("itp", both),
        service("aff", {"sessionAffinity": "ClientIP",
                        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 2}}}),
        slice_of("aff", both),
        service("empty", {"type": "NodePort", "ports": nodeport(NODEPORT_EMPTY, NODEPORT_EMPTY)}),
        service("closed"),
        slice_of("closed", ["web-1"], udp=CLOSED_PORT),
        service("hair"),
        slice_of("hair", ["web-1"]),
        service("churn"),
        slice_of("churn", both),
    ]


def push(lab, objs, what):
    """Applies objs on every node (each node programs every Service)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f)
    try:
        for node in NODE_IP:
            r = subprocess.run([str(lab.bin / "nodeplane-agent"), "--from-manifests", f.name,
                                "--socket", lab.node(node)["socket"],
                                "--kinds", "namespaces,services,endpointslices"],
                               capture_output=True, text=True, timeout=60)
            check_eq(r.returncode, 0, f"{what}: nodeplane-agent --from-manifests on {node} exits 0 "
                                      f"({(r.stdout + r.stderr).strip()[-400:]})")
    finally:
        os.unlink(f.name)


def ask(lab, src, proto, host, port, count=1, sport=0, timeout=3):
    args = [lablib.PYTHON, WHOAMI, "ask", proto, host, port, "--count", count, "--timeout", timeout]
    if sport:
        args += ["--sport", sport]
    r = lab.exec(src, *args, timeout=count * timeout + 20)
    return json.loads(r.stdout.strip().splitlines()[-1])


def names(reply):
    return sorted({a["name"] for a in reply["answers"]})


def client_ip(reply):
    return sorted({a["client"].split(":")[0] for a in reply["answers"]})


def served(lab, src, proto, host, port, what, count=1, **kw):
    r = ask(lab, src, proto, host, port, count=count, **kw)
    check(r["error"] is None and len(r["answers"]) == count, f"{what}: {count} answers",
          f"{count} answers, no error", r)
    return r


def setup(lab):
    for pod, (node, ip) in {**BACKENDS, **CLIENTS}.items():
        lab.pod_add(node, f"{NS}/{pod}", ip)
    for pod in BACKENDS:
        p = lab.popen(f"{NS}/{pod}", lablib.PYTHON, WHOAMI, "serve", "--name", pod,
                      "--tcp", TCP_PORT, "--udp", f"{UDP_PORT}")
        if LineReader(p).wait_for(lambda l: '"ready"' in l, timeout=10) is None:
            raise lablib.CheckFailed(f"whoami in {pod} did not start")
    lab.exec("underlay", "ip", "route", "replace", f"{LB_IP}/32", "via", NODE_IP["node1"])
    lab.exec("underlay", "ip", "route", "replace", f"{EXTERNAL_IP}/32", "via", NODE_IP["node2"])
    push(lab, objects(), "all Services")


def test(lab):
    setup(lab)

    lablib.log("-- ClusterIP from pods on both nodes, TCP and UDP")
    for c, (node, ip) in CLIENTS.items():
        r = served(lab, f"{NS}/{c}", "tcp", VIP["web"], 80, f"{c} -> ClusterIP TCP", count=20)
        check_eq(names(r), ["web-1", "web-2"], f"{c} -> ClusterIP TCP: both backends (one over VXLAN)")
        check_eq(client_ip(r), [ip], f"{c} -> ClusterIP TCP: the backend sees the client pod's IP")
        r = ask(lab, f"{NS}/{c}", "udp", VIP["web"], 53, count=5)
        check(r["error"] is None and len(r["answers"]) == 5, f"{c} -> ClusterIP UDP: 5 answers", 5, r)
        check_eq(client_ip(r), [ip], f"{c} -> ClusterIP UDP: the backend sees the client pod's IP")
        spread = set()
        for sport in range(41000, 41020):
            spread |= set(names(served(lab, f"{NS}/{c}", "udp", VIP["web"], 53, f"{c} UDP", sport=sport)))
            if len(spread) == 2:
                break
        check_eq(sorted(spread), ["web-1", "web-2"], f"{c} -> ClusterIP UDP: flows reach both backends")

    lablib.log("-- NodePort, externalIP and LoadBalancer IP from pods (served by their own node)")
    for c, (node, _) in CLIENTS.items():
        served(lab, f"{NS}/{c}", "tcp", NODE_IP[node], NODEPORT_WEB, f"{c} -> its node's NodePort")
        served(lab, f"{NS}/{c}", "tcp", EXTERNAL_IP, 80, f"{c} -> externalIP")
        served(lab, f"{NS}/{c}", "tcp", LB_IP, 80, f"{c} -> LoadBalancer IP")

    lablib.log("-- internalTrafficPolicy Local")
    for c, want in (("c1", "web-1"), ("c2", "web-2")):
        r = served(lab, f"{NS}/{c}", "tcp", VIP["itp"], 80, f"{c} -> iTP Local", count=10)
        check_eq(names(r), [want], f"iTP Local: {c} reaches only its node's endpoint")

    lablib.log("-- sessionAffinity ClientIP (timeout 2 s)")
    r = served(lab, f"{NS}/c1", "tcp", VIP["aff"], 80, "affinity", count=15)
    check_eq(len(names(r)), 1, f"ClientIP affinity: 15 requests hit one backend ({names(r)})")
    first = names(r)[0]
    seen = set()

    def spread():
        seen.update(names(served(lab, f"{NS}/c1", "tcp", VIP["aff"], 80, "affinity after timeout")))
        if len(seen) > 1:
            return True
        time.sleep(2.2)  # let the affinity lapse before the next try
        return False
    check(poll(spread, timeout=40), "ClientIP affinity expires: later requests spread",
          f"another backend than {first}", sorted(seen))

    lablib.log("-- no endpoints: refused at once")
    r = ask(lab, f"{NS}/c1", "tcp", VIP["empty"], 80)
    check(r["error"] == "refused" and r["elapsed"] < 0.5, "no endpoints: TCP refused in < 0.5 s",
          "refused", r)
    r = ask(lab, f"{NS}/c2", "udp", VIP["empty"], 53)
    check_eq(r["error"], "refused", "no endpoints: UDP gets ECONNREFUSED (ICMP port unreachable)")

    lablib.log("-- ICMP error from a backend, translated back")
    r = ask(lab, f"{NS}/c2", "udp", VIP["closed"], 53)
    check_eq(r["error"], "refused", "backend port closed: the ICMP error quotes the VIP (ECONNREFUSED)")

    lablib.log("-- hairpin")
    r = served(lab, f"{NS}/web-1", "tcp", VIP["hair"], 80, "web-1 -> its own Service", count=3)
    check_eq(names(r), ["web-1"], "hairpin: web-1 reaches itself through its Service")
    r = served(lab, f"{NS}/web-1", "udp", VIP["hair"], 53, "web-1 -> its own Service UDP", count=3)

    churn(lab)


def churn(lab):
    lablib.log("-- a backend removed mid-connection")
    trigger = tempfile.mktemp(prefix="np-svc-trigger-")
    p = lab.popen(f"{NS}/c1", lablib.PYTHON, WHOAMI, "hold", VIP["churn"], 80, "--trigger", trigger)
    reader = LineReader(p)
    try:
        line = reader.wait_for(lambda l: l.startswith("{"), timeout=10)
        check(line is not None and "name" in line, "held connection answers", "an answer", line)
        gone = json.loads(line)["name"]
        stays = "web-2" if gone == "web-1" else "web-1"
        sport = None
        for port in range(42000, 42040):
            if names(served(lab, f"{NS}/c1", "udp", VIP["churn"], 53, "UDP probe", sport=port)) == [gone]:
                sport = port
                break
        check(sport is not None, f"a UDP flow to {gone} found", "a source port", sport)
        push(lab, [slice_of("churn", [stays])], f"churn without {gone}")
        with open(trigger, "w"):
            pass
        line = reader.wait_for(lambda l: '"done"' in l, timeout=15)
        lines = [json.loads(l) for l in reader.snapshot() if l.startswith("{")]
        check(len(lines) >= 3 and lines[1].get("name") == gone,
              f"the open TCP connection to removed {gone} keeps working", gone, lines)
        r = served(lab, f"{NS}/c1", "tcp", VIP["churn"], 80, "new connections after removal", count=10)
        check_eq(names(r), [stays], "new connections go only to the remaining backend")
        check(poll(lambda: names(ask(lab, f"{NS}/c1", "udp", VIP["churn"], 53, sport=sport,
                                     timeout=1)) == [stays], timeout=10),
              f"the UDP flow from port {sport} moves to {stays}", stays, gone)
    finally:
        if os.path.exists(trigger):
            os.unlink(trigger)


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
