#!/usr/bin/python3
"""Tests of perf/peers/ovs.

  ovs_test.py          what the peer programs for the svc-encap scenario (no OVS needed)
  ovs_test.py --run    a short --check run of the real OVS-DPDK on that traffic: what it sends
                       must be VXLAN to the remote VTEP with a backend inside, spread over all
                       four backends (root and openvswitch-switch-dpdk; exit 77 = skipped)
"""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SKIP = 77
failures = []


def load(name, path):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


ovs = load("ovs_peer", os.path.join(HERE, "ovs"))
traffic = load("svc_encap_traffic", os.path.join(HERE, "svc_encap_traffic.py"))


def check(cond, what):
    print(("  ok: " if cond else "  FAIL: ") + what)
    if not cond:
        failures.append(what)


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_flows(d):
    state = write(d, "svc-encap.txt", traffic.SCENARIO)
    setup = ovs.service_setup(state)
    check(setup["cluster_ip"] == "10.96.0.10" and setup["port"] == 80 and setup["proto"] == "udp",
          "the ClusterIP, port and protocol come from the Service")
    check(setup["backends"] == [(f"10.244.2.{i}", 8080) for i in range(10, 14)],
          "the four endpoints with the endpoint port are the backends")
    check(setup["node_ip"] == "192.168.1.10" and setup["node_plen"] == 24 and
          setup["uplink_mac"] == "02:00:00:00:00:10", "br-phy gets the node address and uplink MAC")
    r = setup["remotes"][0]
    check((r["vtep"], r["vni"], r["vtep_mac"], r["next_hop_mac"]) ==
          ("192.168.1.20", 1, "02:00:00:00:0b:ee", "02:00:00:00:00:20"),
          "the remote VTEP, VNI 1, its VTEP MAC and the neighbour line's next-hop MAC")
    group, br_int, br_phy = ovs.flows(setup)
    for ip in range(10, 14):
        check(f"nat(dst=10.244.2.{ip}:8080)" in group, f"a bucket DNATs to 10.244.2.{ip}:8080")
    check("fields(ip_src,ip_dst,udp_src,udp_dst)" in group, "the group hashes the UDP 5-tuple")
    check(any("nw_dst=10.96.0.10" in f and "tp_dst=80" in f and "group:1" in f for f in br_int),
          "new connections to the ClusterIP go to the group")
    check(any("nw_dst=10.244.2.0/24" in f and "192.168.1.20->tun_dst" in f and "1->tun_id" in f
              and "02:00:00:00:0b:ee->eth_dst" in f for f in br_int),
          "the remote pod CIDR is encapsulated to its VTEP with VNI 1")
    check(br_phy == ["priority=10,in_port=LOCAL,actions=output:up0"], "br-phy sends to the uplink")

    # A scenario without a neighbour line: the next hop is the VTEP MAC; the node's own VXLAN
    # settings win over the defaults.
    text = traffic.SCENARIO.replace("neighbor 192.168.1.20 02:00:00:00:00:20\n", "")
    text = text.replace('pod_cidrs: "10.244.1.0/24" }',
                        'pod_cidrs: "10.244.1.0/24" vxlan { vni: 7 udp_port: 8472 } }', 1)
    setup = ovs.service_setup(write(d, "no-neigh.txt", text))
    r = setup["remotes"][0]
    check(r["next_hop_mac"] == "02:00:00:00:0b:ee" and r["vni"] == 7 and setup["udp_port"] == 8472,
          "without a neighbour line the VTEP MAC is the next hop; node vxlan settings are used")


def test_encap_alone(d):
    # The encap scenario has no Service: the peer encapsulates without conntrack.
    with open(os.path.join(REPO, "perf", "scenarios", "encap", "scenario.txt")) as f:
        setup = ovs.service_setup(write(d, "encap.txt", f.read()))
    group, br_int, _ = ovs.flows(setup)
    check(group is None and not any("ct(" in f for f in br_int),
          "without a Service: no group and no conntrack")
    check(br_int[0] == "table=0,priority=10,in_port=pod0,ip,actions=goto_table:2" and
          any("nw_dst=10.244.2.0/24" in f and "192.168.1.20->tun_dst" in f for f in br_int),
          "without a Service: the pod's packets go straight to the encap table")


def test_errors(d):
    no_remote = traffic.SCENARIO.replace(traffic.SCENARIO[
        traffic.SCENARIO.index("  remote_nodes {"):traffic.SCENARIO.index("  services {")], "")
    try:
        ovs.service_setup(write(d, "no-remote.txt", no_remote))
        check(False, "a scenario without a remote node is refused")
    except SystemExit as e:
        check("no remote node" in str(e), f"a scenario without a remote node is refused: {e}")


def run_check():
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return SKIP
    hint = ovs.missing_tools()
    if hint:
        print(f"SKIP: {hint}")
        return SKIP
    with tempfile.TemporaryDirectory() as d:
        traffic.main(d)
        p = subprocess.run([os.path.join(HERE, "ovs"), "--pcap", os.path.join(d, "in.pcap"),
                            "--state", os.path.join(d, "scenario.txt"), "--check"],
                           capture_output=True, text=True)
    print(p.stdout + p.stderr)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    check(p.returncode == 0 and lines, "the --check run succeeds")
    if lines:
        result = json.loads(lines[-1])
        check(result["check"]["ok"], result["check"]["message"])
        counts = result["check"]["backends"]
        check(len(counts) == 4 and all(n > 0 for n in counts.values()),
              f"every backend gets packets: {counts}")
        check(result["mpps"] and result["mpps"] > 0, "the PMD received packets")
    return 0


def main():
    if "--run" in sys.argv[1:]:
        rc = run_check()
        if rc == SKIP:
            return SKIP
    else:
        with tempfile.TemporaryDirectory() as d:
            test_flows(d)
            test_encap_alone(d)
            test_errors(d)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
