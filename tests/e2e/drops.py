#!/usr/bin/python3
"""e2e drops: N packets with a spoofed source and M to an address that is no pod are counted
exactly (+N source_spoofed, +M no_route) while traffic between the pods still flows."""
import sys

import lablib
from lablib import check, check_eq, poll

SPOOFED = 7
NO_ROUTE = 3


def test(lab):
    client = lab.pod_add("node1", "default/client")
    server = lab.pod_add("node1", "default/server")
    lab.serve("default/server", tcp=8080, udp=9090)

    # The gateway's ARP entry exists before the counted packets, so nothing else is in flight.
    r = lab.ping("default/client", server["ip"], count=2)
    check("2 received" in r.stdout, "client reaches server before the test", "2 received", r.stdout.strip())

    before = lab.drops()
    for name in ("source_spoofed", "no_route"):
        check(name in before, f"drops lists reason {name}", name, sorted(before))

    spoofed_src = "10.244.1.250"  # inside the pod CIDR, owned by no pod
    sent = lab.nettool("default/client", "spoof", "--src", spoofed_src, "--dst", server["ip"],
                       "--count", SPOOFED, "--dport", 9090)
    check_eq(sent["sent"], SPOOFED, "spoofed packets sent")

    unrouted = "10.244.1.200"  # no pod, no node address
    r = lab.ping("default/client", unrouted, count=NO_ROUTE, interval=0.2, wait=1)
    check(f"{NO_ROUTE} packets transmitted, 0 received" in r.stdout,
          f"ping to {unrouted} (no pod) gets no reply", f"{NO_ROUTE} transmitted, 0 received",
          r.stdout.strip().splitlines()[-2:])

    def deltas():
        after = lab.drops()
        return {n: after.get(n, 0) - before.get(n, 0) for n in ("source_spoofed", "no_route")}

    want = {"source_spoofed": SPOOFED, "no_route": NO_ROUTE}
    seen = poll(lambda: (d := deltas()) == want and d, timeout=5) or deltas()
    check_eq(seen["source_spoofed"], SPOOFED, f"drops: +{SPOOFED} source_spoofed")
    check_eq(seen["no_route"], NO_ROUTE, f"drops: +{NO_ROUTE} no_route")

    # The same counts appear in `stats` (drops are part of it).
    stats_drops = lablib.drop_counts(lab.stats())
    check_eq(stats_drops.get("source_spoofed"), before["source_spoofed"] + SPOOFED,
             "stats' drops agree on source_spoofed")

    # Traffic between the pods still flows.
    r = lab.ping("default/client", server["ip"], count=3)
    check("3 received" in r.stdout, "ping client -> server after the drops", "3 received", r.stdout.strip())
    t = lab.nettool("default/client", "tcp", server["ip"], 8080, "--size", 1000)
    check(t["echoed"], "TCP echo after the drops", "echoed", t)
    u = lab.nettool("default/client", "udp", server["ip"], 9090, "--count", 3)
    check_eq(u["echoed"], 3, "UDP echo after the drops")
    check_eq(deltas(), want, "no further drops from legitimate traffic")


if __name__ == "__main__":
    sys.exit(lablib.main(test))
