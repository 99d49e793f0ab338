#!/usr/bin/python3
"""e2e netpol: NetworkPolicy enforced by two nodeplaned nodes on real connections.

State reaches both nodes as the agent brings it: one nodeplane-agent per node watches the protocol
tests' API server (control/agent/testdata/test_apiserver.py) serving Nodes, Namespaces, Pods with
labels and NetworkPolicies; every node gets every object. Policies are then changed through the
API server (DELETED and ADDED events), as a cluster changes them.

Pods (namespace app is isolated for ingress by default-deny-ingress):
  node1: app/frontend, app/other, tools/dns (UDP+TCP 53), tools/client (egress only to port 53)
  node2: app/backend (TCP 8080), app/frontend2

- frontend -> backend:8080 connects from the other node (judged on node2, after VXLAN) and from
  backend's own node; other -> backend:8080 times out and counts policy_deny_ingress on node2;
  backend's replies flow (stateful) while backend -> frontend:8080 as a new connection is denied;
- tools/client queries tools/dns on UDP and TCP 53 but cannot reach backend:8080
  (policy_deny_egress on node1);
- deleting allow-frontend-to-backend cuts an open connection on its next packet; adding it back
  lets a new connection through;
- `nodeplanectl explain` on node2 names default-deny-ingress as isolating other -> backend and
  allow-frontend-to-backend as admitting frontend; `stats` lists the denial with pod and direction.
"""
import json
import subprocess
import sys
import time

import lablib
from lablib import LineReader, check, check_eq, poll

NODES = "/api/v1/nodes"
NAMESPACES = "/api/v1/namespaces"
PODS = "/api/v1/pods"
POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
SERVER_LIFETIME = 300


def node_json(lab, name):
    n = lab.node(name)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"nodeplane.io/vtep-mac": n["vtep_mac"]}},
            "spec": {"podCIDRs": [n["pod_cidr"]]},
            "status": {"addresses": [{"type": "InternalIP", "address": n["vtep_address"]}]}}


def namespace_json(name):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}}


def pod_json(key, node, ip, app):
    ns, name = key.split("/")
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": ns, "name": name, "labels": {"app": app}},
            "spec": {"nodeName": node, "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}]}}


def policy_json(ns, name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": ns, "name": name}, "spec": spec}


DEFAULT_DENY = policy_json("app", "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
ALLOW_FRONTEND = policy_json("app", "allow-frontend-to-backend", {
    "podSelector": {"matchLabels": {"app": "backend"}}, "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                 "ports": [{"protocol": "TCP", "port": 8080}]}]})
DNS_ONLY = policy_json("tools", "dns-only", {
    "podSelector": {"matchLabels": {"app": "restricted"}}, "policyTypes": ["Egress"],
    "egress": [{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]})


def policies_on(lab, node):
    state = lab.ctl_json(node, "state")
    return sorted(f"{p['key']['namespace']}/{p['key']['name']}" for p in state.get("network_policies", []))


def labelled_pods_on(lab, node):
    state = lab.ctl_json(node, "state")
    return {f"{p['key']['namespace']}/{p['key']['name']}": p.get("labels", {}).get("app")
            for p in state.get("pods", [])}


def serve(lab, target, tcp=0, udp=0):
    p = lab.popen(target, lablib.PYTHON, lablib.NETTOOL, "serve", "--tcp", tcp, "--udp", udp,
                  "--lifetime", SERVER_LIFETIME)
    if LineReader(p).wait_for(lambda l: '"ready"' in l, timeout=10) is None:
        raise lablib.CheckFailed(f"server in {target} did not start")


def tcp(lab, src, ip, port, timeout=2):
    return lab.nettool(src, "tcp", ip, port, "--size", 2000, "--timeout", timeout)


def connects(lab, src, dst, what):
    t = tcp(lab, src, dst["ip"], 8080)
    check(t["echoed"], what, "echoed", t)


def times_out(lab, src, dst, port, what):
    t = tcp(lab, src, dst["ip"], port)
    check(not t["echoed"] and t["received"] == 0 and "timed out" in (t["error"] or ""), what,
          "connect timed out", t)


def drop(lab, node, name):
    return lab.drops(node).get(name, 0)


def key(k):
    return {"namespace": k.split("/")[0], "name": k.split("/")[1]}


def test(lab):
    pods = {}
    for k, node in (("app/frontend", "node1"), ("app/other", "node1"), ("tools/dns", "node1"),
                    ("tools/client", "node1"), ("app/backend", "node2"), ("app/frontend2", "node2")):
        pods[k] = dict(lab.pod_add(node, k), node=node)
    apps = {"app/frontend": "frontend", "app/frontend2": "frontend", "app/other": "other",
            "tools/dns": "dns", "tools/client": "restricted", "app/backend": "backend"}
    serve(lab, "app/backend", tcp=8080)
    serve(lab, "app/frontend", tcp=8080)
    serve(lab, "tools/dns", tcp=53, udp=53)
    frontend, frontend2, other = pods["app/frontend"], pods["app/frontend2"], pods["app/other"]
    backend, dns, client = pods["app/backend"], pods["tools/dns"], pods["tools/client"]

    # Before any policy everything flows (so the denials below are the policies' doing).
    connects(lab, "app/other", backend, "no policy yet: other -> backend:8080 connects")
    connects(lab, "tools/client", backend, "no policy yet: client -> backend:8080 connects")

    api = lablib.TestApiServer()
    agents = []
    try:
        for n in ("node1", "node2"):
            api.cmd(op="upsert", path=NODES, object=node_json(lab, n))
        for ns in ("app", "tools"):
            api.cmd(op="upsert", path=NAMESPACES, object=namespace_json(ns))
        for k, p in pods.items():
            api.cmd(op="upsert", path=PODS, object=pod_json(k, p["node"], p["ip"], apps[k]))
        for pol in (DEFAULT_DENY, ALLOW_FRONTEND, DNS_ONLY):
            api.cmd(op="upsert", path=POLICIES, object=pol)
        for n in ("node1", "node2"):
            agents.append(subprocess.Popen(
                [str(lab.bin / "nodeplane-agent"), "--apiserver", f"http://127.0.0.1:{api.port}",
                 "--node-name", n, "--socket", lab.node(n)["socket"],
                 "--kinds", "nodes,namespaces,pods,networkpolicies", "--probe-interval-ms", "200"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        want = ["app/allow-frontend-to-backend", "app/default-deny-ingress", "tools/dns-only"]
        for n in ("node1", "node2"):
            check(poll(lambda: policies_on(lab, n) == want and
                       all(labelled_pods_on(lab, n).get(k) == a for k, a in apps.items()), timeout=20),
                  f"{n} holds every namespace's policies and every pod with its labels", want,
                  (policies_on(lab, n), labelled_pods_on(lab, n)))

        # Ingress: judged on backend's node, for a client on the other node (after VXLAN) and on it.
        connects(lab, "app/frontend", backend, "frontend (node1) -> backend (node2):8080 connects")
        connects(lab, "app/frontend2", backend, "frontend2 (node2) -> backend (node2):8080 connects")
        before = drop(lab, "node2", "policy_deny_ingress")
        times_out(lab, "app/other", backend, 8080, "other (node1) -> backend:8080 times out")
        check(drop(lab, "node2", "policy_deny_ingress") > before,
              "node2 counts policy_deny_ingress for other's SYNs", f"> {before}",
              drop(lab, "node2", "policy_deny_ingress"))
        # Stateful: backend's replies above flowed; a connection backend opens to frontend does not.
        times_out(lab, "app/backend", frontend, 8080,
                  "backend -> frontend:8080 as a new connection times out (frontend is isolated too)")

        # Egress: the restricted client reaches DNS on 53 only.
        u = lab.nettool("tools/client", "udp", dns["ip"], 53, "--count", 3)
        check_eq(u["echoed"], 3, "client -> dns UDP 53: every query answered")
        t = tcp(lab, "tools/client", dns["ip"], 53)
        check(t["echoed"], "client -> dns TCP 53 answered", "echoed", t)
        before = drop(lab, "node1", "policy_deny_egress")
        times_out(lab, "tools/client", backend, 8080, "client -> backend:8080 times out")
        check(drop(lab, "node1", "policy_deny_egress") > before,
              "node1 (the client's node) counts policy_deny_egress", f"> {before}",
              drop(lab, "node1", "policy_deny_egress"))

        # explain and stats on the node that judges backend's ingress.
        e = lab.ctl_json("node2", "explain", "app/other", "app/backend", "8080/tcp")
        check(not e.get("allowed") and not e["ingress"].get("allowed"), "explain: other -> backend is denied",
              "allowed false", e)
        check(key("app/default-deny-ingress") in e["ingress"].get("isolating", []),
              "explain names default-deny-ingress as isolating backend", "app/default-deny-ingress", e["ingress"])
        check_eq(e["ingress"].get("allowing", []), [], "explain: no policy admits other")
        e = lab.ctl_json("node2", "explain", "app/frontend", "app/backend", "8080/tcp")
        check(e.get("allowed") and key("app/allow-frontend-to-backend") in e["ingress"].get("allowing", []),
              "explain names allow-frontend-to-backend as admitting frontend",
              "allowed, app/allow-frontend-to-backend", e)
        denials = lab.stats("node2").get("recent_policy_denials", [])
        seen = [d for d in denials if d.get("source_ip") == other["ip"]
                and d.get("destination_ip") == backend["ip"] and d.get("port") == 8080]
        check(seen and all(d.get("direction") == "INGRESS" and d.get("pod") == key("app/backend") for d in seen),
              "stats on node2 lists other -> backend:8080 denied by backend's ingress", "INGRESS app/backend",
              denials)
        table = lab.ctl("node2", "stats").stdout
        check("app/backend" in table and other["ip"] in table, "stats (table) shows the denial too",
              "app/backend ... " + other["ip"], table[-1500:])

        # Revoking: an open connection's next packet is dropped; re-admitting lets new ones in.
        go = lab.state_dir() / f"netpol-go-{id(api)}"
        hold = lab.popen("app/frontend", lablib.PYTHON, lablib.NETTOOL, "hold", backend["ip"], 8080,
                         "--go", go, "--timeout", 3)
        lines = LineReader(hold)
        first = lines.wait_for(lambda l: '"first"' in l, timeout=10)
        check(first is not None and json.loads(first)["echoed"], "an open frontend -> backend connection echoes",
              "echoed", first)
        api.cmd(op="delete", path=POLICIES, key="app/allow-frontend-to-backend")
        gone = ["app/default-deny-ingress", "tools/dns-only"]
        check(poll(lambda: policies_on(lab, "node2") == gone, timeout=10),
              "deleting allow-frontend-to-backend reaches node2", gone, policies_on(lab, "node2"))
        before = drop(lab, "node2", "policy_deny_ingress")
        go.touch()
        second = lines.wait_for(lambda l: '"second"' in l, timeout=15)
        check(second is not None and not json.loads(second)["echoed"],
              "the open connection's next data is not echoed once its policy is gone", "not echoed", second)
        check(drop(lab, "node2", "policy_deny_ingress") > before,
              "its packets count as policy_deny_ingress on node2", f"> {before}",
              drop(lab, "node2", "policy_deny_ingress"))
        times_out(lab, "app/frontend", backend, 8080, "without the policy a new connection times out")
        api.cmd(op="upsert", path=POLICIES, object=ALLOW_FRONTEND)
        check(poll(lambda: policies_on(lab, "node2") == want, timeout=10),
              "adding allow-frontend-to-backend again reaches node2", want, policies_on(lab, "node2"))
        connects(lab, "app/frontend", backend, "re-admitted: a new frontend -> backend connection works")
    finally:
        for a in agents:
            a.terminate()
        for a in agents:
            try:
                out, _ = a.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                a.kill()
                out, _ = a.communicate()
            if a.returncode not in (0, None):
                lablib.log(f"agent exited {a.returncode}:\n{out[-2000:]}")
        api.close()


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
