#!/usr/bin/python3
"""e2e linux_overlay: the lab's plain-Linux nodes (the interoperability peer of the overlay) are
built as Flannel builds a node (kernel vxlan0, static FDB/neighbour/route per peer, routed pod
veths) and carry pod traffic between them: ICMP, TCP and UDP, 1400-byte and exactly-MTU packets,
the node itself reaching a remote pod; deleting a pod removes its route; `down` leaves nothing."""
import os
import subprocess
import sys

import lablib
from lablib import check, check_eq

PINGS = 5
UDP_DATAGRAMS = 5
TCP_BYTES = 20000  # many segments at MTU 1450
VXLAN_MTU = 1450  # the underlay's 1500 minus 50 bytes of outer headers


def test(lab):
    n1, n2 = lab.node("node1"), lab.node("node2")
    check_eq((n1["kind"], n2["kind"]), ("linux", "linux"), "both nodes are Linux nodes")
    r = lab.run("status")
    rows = {l.split()[0]: l.split() for l in r.stdout.splitlines() if l.startswith("node")}
    check_eq([rows.get(n, ["?", "?"])[1] for n in ("node1", "node2")], ["linux", "linux"],
             "status shows the node kinds")

    # The underlay is a plain wire: no bridge netfilter inside the lab's underlay netns.
    if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        r = lab.exec("underlay", "sysctl", "-n", "net.bridge.bridge-nf-call-iptables",
                     "net.bridge.bridge-nf-call-arptables")
        check_eq(r.stdout.split(), ["0", "0"], "bridge netfilter is off in the underlay netns")

    # Flannel's model on node1, for node2: the vxlan device, an FDB entry to node2's VTEP, a
    # permanent neighbour for node2's .0 and an onlink route for node2's pod CIDR.
    link = lab.exec("node1", "ip", "-d", "link", "show", "vxlan0").stdout
    for want in ("vxlan id 1 ", "local 10.77.0.11 ", "dev eth0 ", "dstport 4789 ", "nolearning",
                 f"link/ether {n1['vtep_mac']} ", f"mtu {VXLAN_MTU} "):
        check(want in link, f"node1's vxlan0 has '{want.strip()}'", want, link.strip().splitlines())
    fdb = lab.exec("node1", "bridge", "fdb", "show", "dev", "vxlan0").stdout
    check(f"{n2['vtep_mac']} dst 10.77.0.12 self permanent" in fdb,
          "node1's FDB sends node2's VTEP MAC to node2's underlay address",
          f"{n2['vtep_mac']} dst 10.77.0.12 self permanent", fdb.strip().splitlines())
    neigh = lab.exec("node1", "ip", "neigh", "show", "dev", "vxlan0").stdout
    check(f"10.244.2.0 lladdr {n2['vtep_mac']} PERMANENT" in neigh,
          "node1 has a permanent neighbour for node2's pod CIDR .0",
          f"10.244.2.0 lladdr {n2['vtep_mac']} PERMANENT", neigh.strip())
    routes = lab.exec("node1", "ip", "route").stdout
    check("10.244.2.0/24 via 10.244.2.0 dev vxlan0 onlink" in routes,
          "node1 routes node2's pod CIDR onto vxlan0", "10.244.2.0/24 via 10.244.2.0 dev vxlan0 onlink",
          routes.strip().splitlines())

    a = lab.pod_add("node1", "default/a")
    b = lab.pod_add("node2", "default/b")
    check_eq((a["ip"], b["ip"]), ("10.244.1.2", "10.244.2.2"), "pod IPs from each node's CIDR")
    eth0 = lab.exec("default/a", "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
    check(f"{a['ip']}/32" in eth0, "pod's eth0 holds its IP as /32", f"{a['ip']}/32", eth0.strip())
    route = lab.exec("default/a", "ip", "route").stdout
    check("default via 169.254.1.1 dev eth0" in route, "pod's default route is the link-local gateway",
          "default via 169.254.1.1 dev eth0", route.strip())
    mtu = lab.exec("default/a", "cat", "/sys/class/net/eth0/mtu").stdout.strip()
    check_eq(mtu, str(VXLAN_MTU), "pod MTU defaults to vxlan0's")

    lab.serve("default/b", tcp=8080, udp=9090)
    lab.serve("default/a", tcp=8080, udp=9090)

    for src, dst in (("default/a", b), ("default/b", a)):
        r = lab.ping(src, dst["ip"], count=PINGS)
        check(f"{PINGS} received" in r.stdout, f"ping {src} -> {dst['key']}: {PINGS} replies",
              f"'{PINGS} received'", r.stdout.strip().splitlines()[-2:] or r.stderr)
    r = lab.ping("default/a", b["ip"], count=1)
    check("ttl=62" in r.stdout, "the reply was routed by both nodes (ttl 64 -> 62)", "ttl=62", r.stdout.strip())

    for src, dst in (("default/a", b), ("default/b", a)):
        t = lab.nettool(src, "tcp", dst["ip"], 8080, "--size", TCP_BYTES)
        check(t["echoed"], f"TCP {src} -> {dst['key']}: {TCP_BYTES} bytes echoed", "echoed", t)
        u = lab.nettool(src, "udp", dst["ip"], 9090, "--count", UDP_DATAGRAMS)
        check_eq(u["echoed"], UDP_DATAGRAMS, f"UDP {src} -> {dst['key']}: every datagram echoed")
    u = lab.nettool("default/a", "udp", b["ip"], 9090, "--count", 3, "--size", 1400 - 28)
    check_eq(u["echoed"], 3, "UDP: 1400-byte IP datagrams echoed")

    # Sizes: a 1400-byte and an exactly-MTU (1450-byte) packet with DF cross; one byte more does
    # not leave the pod (its MTU is the tunnel's).
    for size, what in ((1400, "1400-byte"), (VXLAN_MTU, "exactly-MTU")):
        r = lab.exec("default/a", "ping", "-c", 2, "-i", 0.2, "-W", 2, "-M", "do", "-s", size - 28,
                     b["ip"], check=False)
        check("2 received" in r.stdout, f"{what} DF ping ({size} bytes) crosses", "'2 received'",
              r.stdout.strip().splitlines()[-2:])
    r = lab.exec("default/a", "ping", "-c", 1, "-W", 1, "-M", "do", "-s", VXLAN_MTU - 27, b["ip"],
                 check=False)
    check(f"mtu={VXLAN_MTU}" in r.stdout + r.stderr, "a DF packet over the MTU is refused in the pod",
          f"'message too long, mtu={VXLAN_MTU}'", (r.stdout + r.stderr).strip().splitlines()[-3:])

    # The node itself reaches a remote pod, from its vxlan0 address (10.244.1.0, as Flannel).
    r = lab.ping("node1", b["ip"], count=2)
    check("2 received" in r.stdout, "node1 reaches node2's pod over vxlan0", "'2 received'",
          r.stdout.strip().splitlines()[-2:])

    # Deleting a pod takes its veth and route with it.
    lab.run("pod", "del", "default/b")
    routes = lab.exec("node2", "ip", "route").stdout
    check(b["ip"] not in routes, "node2 has no route to the deleted pod", f"no {b['ip']}", routes.strip())
    r = lab.ping("default/a", b["ip"], count=1, wait=1)
    check(" 0 received" in r.stdout, "the deleted pod no longer answers", "'0 received'",
          r.stdout.strip().splitlines()[-2:])

    # `down` removes it all, Linux nodes included (lablib.main runs a second one).
    r = lab.run("down")
    left = [l.split()[0] for l in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                  text=True).stdout.splitlines()
            if l.startswith(lab.prefix + "-")]
    check_eq(left, [], f"no netns named {lab.prefix}-* left after down")
    check(not lab.state_dir().exists(), "the lab's state dir is gone", "absent", "present")


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=0, linux_nodes=2))
