#!/usr/bin/python3
"""e2e conntrack: real kernels' TCP and UDP between two pods are tracked by nodeplaned: nodeplanectl
conntrack lists both connections with their state, filters them, and a flush removes them while
traffic keeps working (its next packets start new connections)."""
import sys

import lablib
from lablib import check, check_eq, u64


def connections(lab, *filters):
    return lab.ctl_json("node1", "conntrack", *filters).get("connections", [])


def to(conns, ip, port, proto):
    return [c for c in conns
            if c.get("protocol") == proto and c["original"].get("destination") == ip
            and c["original"].get("destination_port") == port]


def test(lab):
    client = lab.pod_add("node1", "default/client")
    server = lab.pod_add("node1", "default/server")
    lab.serve("default/server", tcp=8080, udp=9090)

    t = lab.nettool("default/client", "tcp", server["ip"], 8080, "--size", 2000)
    check(t["echoed"], "TCP: echoed through conntrack", "echoed", t)
    u = lab.nettool("default/client", "udp", server["ip"], 9090, "--count", 3)
    check_eq(u["echoed"], 3, "UDP: every datagram echoed through conntrack")

    conns = connections(lab)
    tcp = to(conns, server["ip"], 8080, "CONNTRACK_PROTOCOL_TCP")
    udp = to(conns, server["ip"], 9090, "CONNTRACK_PROTOCOL_UDP")
    check_eq(len(tcp), 1, "one TCP connection client -> server:8080 is tracked")
    check_eq(len(udp), 1, "one UDP connection client -> server:9090 is tracked")
    check(tcp[0]["state"] in ("ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT"),
          "TCP state follows the exchange (the client closed it)", "ESTABLISHED..TIME_WAIT",
          tcp[0]["state"])
    check_eq(udp[0]["state"], "ASSURED", "UDP connection saw replies")
    # After the first packets of each direction, the rest leave by the route their connection
    # remembered (dataplane/README.md, "The established fast path"): the real kernels' exchange
    # above got through that way too.
    events = {e.get("name"): u64(e, "value") for e in lab.stats("node1").get("events", [])}
    check(events.get("ct_fastpath", 0) > 0, "established packets took the fast path (ct_fastpath)",
          "> 0", events)
    check_eq(tcp[0]["original"]["source"], client["ip"], "original source is the client")
    check_eq(tcp[0]["reply"]["source"], server["ip"], "replies come from the server (no NAT)")

    only_udp = connections(lab, "--proto", "udp")
    check(all(c["protocol"] == "CONNTRACK_PROTOCOL_UDP" for c in only_udp) and only_udp,
          "--proto udp lists only UDP connections", "UDP only", only_udp)

    flushed = lab.ctl_json("node1", "conntrack", "flush", "--dst", server["ip"])
    check(int(flushed.get("removed", 0)) >= 2, "flush --dst server removes its connections",
          ">= 2", flushed)
    check_eq(len(connections(lab, "--dst", server["ip"])), 0, "nothing left to the server")

    t = lab.nettool("default/client", "tcp", server["ip"], 8080, "--size", 2000)
    check(t["echoed"], "TCP after the flush: a new connection works", "echoed", t)
    check_eq(len(to(connections(lab), server["ip"], 8080, "CONNTRACK_PROTOCOL_TCP")), 1,
             "the new connection is tracked")


if __name__ == "__main__":
    sys.exit(lablib.main(test))
