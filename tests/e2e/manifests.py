#!/usr/bin/python3
"""e2e manifests: nodeplane-agent --from-manifests applies the seed examples (deploy/examples/seed)
to a real nodeplaned in the lab. The lab creates the seed pods with the addresses of their
nodeplane.io/pod-ips annotations; the agent then gives nodeplaned their labels and container
ports. Then the whole set applies (Namespaces, Services, derived EndpointSlices, NetworkPolicies)
and every object is there; a set with a missing file applies nothing."""
import json
import subprocess
import sys

import lablib
from lablib import check, check_eq

SEED = lablib.REPO / "deploy" / "examples" / "seed"
PODS = {"demo/frontend": ("node1", "10.244.1.10"), "demo/public-api": ("node1", "10.244.1.11"),
        "demo/backend-api": ("node2", "10.244.2.10"), "demo/cassandra-0": ("node2", "10.244.2.11"),
        "kube-system/dns": ("node1", "10.244.1.53")}


def agent(lab, *args):
    sock = lab.node("node1")["socket"]
    r = subprocess.run([str(lab.bin / "nodeplane-agent"), "--from-manifests", str(SEED), "--socket", sock,
                        *args], capture_output=True, text=True, timeout=60)
    lablib.log(f"$ nodeplane-agent --from-manifests {SEED.name} {' '.join(args)}: exit {r.returncode}")
    for line in (r.stdout + r.stderr).strip().splitlines():
        lablib.log(f"    {line}")
    return r


def test(lab):
    for key, (node, ip) in PODS.items():
        lab.pod_add(node, key, ip)

    # Only the pods: labels and ports land on the pods the lab attached.
    r = agent(lab, "--kinds", "pods")
    check_eq(r.returncode, 0, "--kinds pods applies")
    state = lab.ctl_json("node1", "state")
    pods = {f"{p['key']['namespace']}/{p['key']['name']}": p for p in state.get("pods", [])}
    check_eq(sorted(k for k in pods if k in PODS), sorted(PODS), "every seed pod is in nodeplaned")
    check_eq(pods["demo/backend-api"].get("labels", {}).get("app"), "backend-api",
             "the manifest's labels reached nodeplaned")
    check_eq(pods["demo/backend-api"].get("node_name"), "node2", "a remote pod keeps its node")
    check_eq(pods["demo/frontend"].get("ips"), ["10.244.1.10"], "the lab's address is kept")

    # Everything: Services, EndpointSlices, Namespaces and NetworkPolicies are programmed.
    r = agent(lab)
    check_eq(r.returncode, 0, "the whole seed applies")
    state = lab.ctl_json("node1", "state")
    check_eq(len([s for s in state.get("services", []) if s["key"]["namespace"] == "demo"]), 5,
             "every seed Service is in nodeplaned")
    check_eq(len([p for p in state.get("network_policies", []) if p["key"]["namespace"] == "demo"]), 5,
             "every seed NetworkPolicy is in nodeplaned")
    slices = {s.get("service_name") for s in state.get("endpoint_slices", [])}
    check("backend-api" in slices and "external-db" not in slices,
          "slices derived for selector Services, none for the ExternalName one",
          "backend-api, not external-db", sorted(slices))

    # A bad manifest set applies nothing.
    r = subprocess.run([str(lab.bin / "nodeplane-agent"), "--from-manifests", str(SEED), "--from-manifests",
                        "/nonexistent.yaml", "--socket", lab.node("node1")["socket"]],
                       capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 1, "a missing manifest fails the set")
    check("/nonexistent.yaml: no such file or directory" in r.stderr, "the error names the file",
          "/nonexistent.yaml: no such file or directory", r.stderr.strip())


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=2))
