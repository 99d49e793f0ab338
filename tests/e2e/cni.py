#!/usr/bin/python3
"""e2e cni: nodeplane-cni run exactly as a container runtime runs it (CNI_* variables, the network
configuration on stdin) against a lab node's real nodeplaned, IPAM by Debian's host-local, in a
network namespace this test creates: ADD wires a pod the lab's other pods reach (and that reaches
them), CHECK passes, DEL removes it and succeeds again, GC removes what the runtime no longer
lists."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import lablib
from lablib import check, check_eq

CNI_PATH = "/usr/lib/cni"


def cni(lab, command, config, container, netns=None, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    env.update({"CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_IFNAME": "eth0",
                "CNI_PATH": f"/nonexistent:{CNI_PATH}",
                "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={container}"})
    if netns:
        env["CNI_NETNS"] = netns
    env.update(extra_env or {})
    r = subprocess.run([str(lab.bin / "nodeplane-cni")], input=json.dumps(config), env=env,
                       capture_output=True, text=True, timeout=60)
    out = json.loads(r.stdout) if r.stdout.strip() else None
    lablib.log(f"  nodeplane-cni {command} {container}: exit {r.returncode} {r.stdout.strip()[:200]}")
    return r.returncode, out, r.stderr


def test(lab):
    if not Path(CNI_PATH, "host-local").exists():
        raise lablib.CheckFailed(f"{CNI_PATH}/host-local missing (apt-get install containernetworking-plugins)")
    client = lab.pod_add("node1", "default/client")
    node = lab.node("node1")
    work = Path(tempfile.mkdtemp(prefix=f"{lab.prefix}-cni-"))
    netns_names = [f"{lab.prefix}-cni-a", f"{lab.prefix}-cni-b"]
    try:
        for n in netns_names:
            subprocess.run(["ip", "netns", "add", n], check=True)
        netns = [f"/var/run/netns/{n}" for n in netns_names]
        config = {"cniVersion": "1.1.0", "name": "nodeplane", "type": "nodeplane-cni",
                  "socket": node["socket"], "stateDir": str(work / "state"),
                  "ipam": {"type": "host-local", "dataDir": str(work / "ipam"),
                           "ranges": [[{"subnet": node["pod_cidr"], "rangeStart": "10.244.1.200",
                                        "rangeEnd": "10.244.1.250"}]]}}

        code, add, err = cni(lab, "ADD", config, "cnipod", netns[0])
        check_eq(code, 0, f"ADD exits 0 (stderr: {err.strip()})")
        ip = add["ips"][0]["address"].split("/")[0]
        check_eq(add["ips"][0]["address"], "10.244.1.200/32", "ADD result: the first address of the range, as /32")
        check_eq(add["interfaces"][0]["sandbox"], netns[0], "ADD result: the interface is in the netns")
        check_eq(add["routes"], [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}], "ADD result: default route via the pod gateway")
        eth0 = subprocess.run(["ip", "-n", netns_names[0], "-o", "-4", "addr", "show", "dev", "eth0"],
                              capture_output=True, text=True).stdout
        check(f"{ip}/32" in eth0, "eth0 in the netns holds the address", f"{ip}/32", eth0.strip())

        r = lab.ping("default/client", ip, count=3)
        check("3 received" in r.stdout, "a lab pod reaches the CNI pod", "3 received", r.stdout.strip()[-200:])
        r = subprocess.run(["ip", "netns", "exec", netns_names[0], "ping", "-c", "3", "-i", "0.2", "-W", "2",
                            client["ip"]], capture_output=True, text=True, timeout=30)
        check("3 received" in r.stdout, "the CNI pod reaches a lab pod", "3 received", r.stdout.strip()[-200:])

        checked = dict(config, prevResult=add)
        code, _, err = cni(lab, "CHECK", checked, "cnipod", netns[0])
        check_eq(code, 0, f"CHECK exits 0 (stderr: {err.strip()})")

        code, add2, err = cni(lab, "ADD", config, "stale", netns[1])
        check_eq(code, 0, f"second ADD exits 0 (stderr: {err.strip()})")
        gc = dict(config, **{"cni.dev/valid-attachments": [{"containerID": "cnipod", "ifname": "eth0"}]})
        code, _, err = cni(lab, "GC", gc, "", extra_env={"CNI_CONTAINERID": "", "CNI_IFNAME": ""})
        check_eq(code, 0, f"GC exits 0 (stderr: {err.strip()})")
        pods = json.dumps(lab.ctl_json("node1", "pods"))
        check("stale" not in pods and "cnipod" in pods, "GC detached only the unlisted attachment",
              "cnipod attached, stale not", pods[:300])

        deleted = dict(config, prevResult=add)
        code, _, err = cni(lab, "DEL", deleted, "cnipod", netns[0])
        check_eq(code, 0, f"DEL exits 0 (stderr: {err.strip()})")
        r = lab.ping("default/client", ip, count=1, wait=1)
        check("0 received" in r.stdout, "after DEL the address is unreachable", "0 received", r.stdout.strip()[-200:])
        code, _, err = cni(lab, "DEL", deleted, "cnipod", netns[0])
        check_eq(code, 0, f"DEL again exits 0 (stderr: {err.strip()})")
        code, _, err = cni(lab, "DEL", deleted, "cnipod")
        check_eq(code, 0, f"DEL without CNI_NETNS exits 0 (stderr: {err.strip()})")
        pods = json.dumps(lab.ctl_json("node1", "pods"))
        check("cnipod" not in pods, "nodeplaned no longer lists the pod", "no cnipod", pods[:300])
        reserved = sorted(p.name for p in (work / "ipam" / "nodeplane").glob("10.*"))
        check_eq(reserved, [], "host-local holds no reservation")
    finally:
        for n in netns_names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    sys.exit(lablib.main(test))
