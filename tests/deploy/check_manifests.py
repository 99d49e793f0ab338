#!/usr/bin/python3
"""Parses every deployment file under deploy/ and checks what would otherwise only fail on a
cluster: kinds, RBAC limited to get/list/watch of exactly what the agent reads, the DaemonSet on
the host network with its volumes present and no privileged container, hugepages requested, the
ConfigMap keys it refers to, the CNI conflist, the systemd units. Exit 0 when all hold."""
import configparser
import json
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
failures = []

# What nodeplane-agent lists and watches (control/agent/reflector.cc CollectionPath).
AGENT_READS = {("", "namespaces"), ("", "pods"), ("", "services"), ("", "nodes"),
               ("discovery.k8s.io", "endpointslices"), ("networking.k8s.io", "networkpolicies")}
KNOWN_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"}


def check(cond, what):
    print(("  ok: " if cond else "  FAIL: ") + what)
    if not cond:
        failures.append(what)


def load_all():
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        try:
            for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
                if doc is not None:
                    docs.append((f"{path.name} document {i + 1}", doc))
        except yaml.YAMLError as e:
            check(False, f"{path.name} parses: {e}")
    return docs


def main():
    docs = load_all()
    check(len(docs) >= 5, f"deploy/kubernetes holds the objects ({len(docs)} documents)")
    by_kind = {}
    for where, d in docs:
        kind = d.get("kind")
        check(d.get("apiVersion") and kind in KNOWN_KINDS and d.get("metadata", {}).get("name"),
              f"{where}: apiVersion, a known kind and a name ({d.get('apiVersion')} {kind})")
        by_kind.setdefault(kind, []).append(d)

    # RBAC: read-only, exactly the agent's kinds.
    granted = set()
    for role in by_kind.get("ClusterRole", []):
        for rule in role.get("rules", []):
            verbs = set(rule.get("verbs", []))
            check(verbs <= {"get", "list", "watch"} and "*" not in verbs,
                  f"ClusterRole {role['metadata']['name']}: verbs {sorted(verbs)} only get/list/watch")
            for g in rule.get("apiGroups", []):
                for r in rule.get("resources", []):
                    granted.add((g, r))
    check(granted == AGENT_READS, f"RBAC grants exactly what the agent reads: {sorted(granted)}")
    sa_names = {s["metadata"]["name"] for s in by_kind.get("ServiceAccount", [])}
    for b in by_kind.get("ClusterRoleBinding", []):
        check(all(s["name"] in sa_names for s in b.get("subjects", [])),
              f"ClusterRoleBinding {b['metadata']['name']} binds the ServiceAccount defined here")

    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    for name, data in configmaps.items():
        for key, text in data.items():
            if key.endswith(".conflist"):
                conf = json.loads(text)
                plugins = conf.get("plugins", [])
                check(conf.get("cniVersion") == "1.1.0" and plugins and plugins[0].get("type") == "nodeplane-cni"
                      and plugins[0].get("ipam", {}).get("type") == "host-local",
                      f"ConfigMap {name} {key}: a CNI 1.1 conflist of nodeplane-cni with host-local IPAM")

    check(len(by_kind.get("DaemonSet", [])) == 1, "one DaemonSet")
    for ds in by_kind.get("DaemonSet", []):
        spec = ds["spec"]["template"]["spec"]
        check(spec.get("hostNetwork") is True, "DaemonSet: hostNetwork")
        check(spec.get("serviceAccountName") in sa_names, "DaemonSet: runs as the ServiceAccount bound above")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        containers = spec.get("initContainers", []) + spec.get("containers", [])
        check(any(c["name"] == "install-cni" for c in spec.get("initContainers", [])),
              "DaemonSet: an init container installs the CNI plugin")
        for c in containers:
            sc = c.get("securityContext", {})
            check(sc.get("privileged") is not True, f"container {c['name']}: not privileged")
            check("ALL" in sc.get("capabilities", {}).get("drop", []),
                  f"container {c['name']}: drops all capabilities, adds back only what it names")
            for m in c.get("volumeMounts", []):
                check(m["name"] in volumes, f"container {c['name']}: volume {m['name']} is defined")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    check(ref["key"] in configmaps.get(ref["name"], {}),
                          f"container {c['name']}: ConfigMap {ref['name']} has key {ref['key']}")
        daemon = next(c for c in spec["containers"] if c["name"] == "nodeplaned")
        limits = daemon.get("resources", {}).get("limits", {})
        check("hugepages-2Mi" in limits or "hugepages-1Gi" in limits, "nodeplaned: hugepages in its limits")
        check(daemon["resources"]["requests"] == limits, "nodeplaned: Guaranteed QoS (requests == limits) for CPU pinning")
        check(volumes.get("hugepages", {}).get("emptyDir", {}).get("medium", "").startswith("HugePages"),
              "hugepages volume is a HugePages emptyDir")
        agent = next(c for c in spec["containers"] if c["name"] == "agent")
        check(any(a.startswith("--apiserver") for a in agent["command"] + agent.get("args", [])),
              "agent: reaches the API server by its real address (--apiserver), not the Service VIP")
        for name in ("run", "netns", "cni-bin", "cni-conf", "config"):
            check(name in volumes, f"DaemonSet: volume {name}")

    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        cp = configparser.ConfigParser(strict=False, interpolation=None)
        cp.read_string(unit.read_text())
        exec_start = cp.get("Service", "ExecStart", fallback="")
        binary = Path(exec_start.split()[0]).name if exec_start else ""
        check(binary in {"nodeplaned", "nodeplane-agent"} and cp.has_section("Install"),
              f"systemd {unit.name}: runs {binary or '(nothing)'} and can be enabled")

    container = DEPLOY / "container" / "Containerfile"
    text = container.read_text() if container.exists() else ""
    check(all(b in text for b in ("nodeplaned", "nodeplane-agent", "nodeplane-cni", "install-cni.sh")),
          "Containerfile builds and ships every binary the DaemonSet runs")
    print("PASS" if not failures else f"FAIL: {len(failures)} check(s)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
