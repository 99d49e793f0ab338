#!/usr/bin/python3
"""e2e agent_watch: nodeplane-agent in watch mode between a Kubernetes API server (the protocol
tests' control/agent/testdata/test_apiserver.py, serving real Node and Pod JSON) and a lab node's
real nodeplaned: one full sync makes nodeplaned hold what the API says (this node from its Node
object, the other node as a remote node with its VTEP MAC, every pod with its labels) without
breaking traffic; watch events become deltas; SIGTERM stops the agent cleanly."""
import json
import signal
import subprocess
import sys

import lablib
from lablib import check, check_eq, poll



def node_json(k):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"node{k}", "annotations": {"nodeplane.io/vtep-mac": f"02:77:00:00:00:0{k}"}},
            "spec": {"podCIDRs": [f"10.244.{k}.0/24"]},
            "status": {"addresses": [{"type": "InternalIP", "address": f"10.77.0.{10 + k}"},
                                     {"type": "Hostname", "address": f"node{k}"}]}}


def pod_json(ns, name, node, ip, app):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": ns, "name": name, "labels": {"app": app}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}]}}


def pods_of(lab):
    state = lab.ctl_json("node1", "state")
    return {f"{p['key']['namespace']}/{p['key']['name']}": p for p in state.get("pods", [])}, state


def test(lab):
    client = lab.pod_add("node1", "default/client")
    server = lab.pod_add("node2", "default/server")
    api = lablib.TestApiServer()
    agent = None
    try:
        for k in (1, 2):
            api.cmd(op="upsert", path="/api/v1/nodes", object=node_json(k))
        api.cmd(op="upsert", path="/api/v1/pods", object=pod_json("default", "client", "node1", client["ip"], "client"))
        api.cmd(op="upsert", path="/api/v1/pods", object=pod_json("default", "server", "node2", server["ip"], "server"))
        agent = subprocess.Popen([str(lab.bin / "nodeplane-agent"), "--apiserver", f"http://127.0.0.1:{api.port}",
                                  "--node-name", "node1", "--socket", lab.node("node1")["socket"],
                                  "--kinds", "pods,nodes", "--probe-interval-ms", "200"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def synced():
            pods, _ = pods_of(lab)
            return pods.get("default/server", {}).get("labels", {}).get("app") == "server" and \
                pods.get("default/client", {}).get("labels", {}).get("app") == "client"
        check(poll(synced, timeout=20), "after the full sync nodeplaned has both pods with their API labels")
        pods, state = pods_of(lab)
        check_eq(pods["default/client"]["ports"][0]["port"], 8080, "container ports came along")
        check_eq(state["node"]["name"], "node1", "this node keeps its name")
        check_eq(state["node"]["addresses"], ["10.77.0.11/24"], "this node's address keeps the prefix nodeplaned had")
        check_eq(state["node"]["pod_cidrs"], ["10.244.1.0/24"], "this node's pod CIDR from its Node")
        remote = {r["name"]: r for r in state.get("remote_nodes", [])}
        check_eq(sorted(remote), ["node2"], "the other Node is the one remote node")
        check_eq(remote["node2"]["underlay_address"], "10.77.0.12", "remote node: underlay = InternalIP")
        check_eq(remote["node2"].get("vtep_mac"), "02:77:00:00:00:02", "remote node: VTEP MAC from its annotation")

        r = lab.ping("default/client", server["ip"], count=3)
        check("3 received" in r.stdout, "pods on both nodes still reach each other after the sync",
              "3 received", r.stdout.strip()[-200:])

        api.cmd(op="upsert", path="/api/v1/pods", object=pod_json("shop", "extra", "node2", "10.244.2.50", "extra"))
        check(poll(lambda: "shop/extra" in pods_of(lab)[0], timeout=10), "a watched ADDED pod is upserted")
        api.cmd(op="delete", path="/api/v1/pods", key="shop/extra")
        check(poll(lambda: "shop/extra" not in pods_of(lab)[0], timeout=10), "a watched DELETED pod is deleted")
        check("default/client" in pods_of(lab)[0], "the attached pod stays")

        agent.send_signal(signal.SIGTERM)
        out, _ = agent.communicate(timeout=15)
        check_eq(agent.returncode, 0, "SIGTERM stops the agent with exit 0")
        check("full sync" in out, "the agent logged its full sync", "full sync", out.strip()[-400:])
        agent = None
    finally:
        if agent is not None:
            agent.kill()
            lablib.log(agent.communicate()[0][-2000:])
        api.close()


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
