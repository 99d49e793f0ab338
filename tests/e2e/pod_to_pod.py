#!/usr/bin/python3
"""e2e pod_to_pod: two pods on one node exchange ICMP, TCP and UDP through nodeplaned, and the
pods' ports count at least the packets the test sent."""
import sys

import lablib
from lablib import check, check_eq, pod_ports, u64

PINGS = 5
UDP_DATAGRAMS = 5
TCP_BYTES = 4000  # more than one segment at MTU 1500


def test(lab):
    client = lab.pod_add("node1", "default/client")
    server = lab.pod_add("node1", "default/server")
    check_eq(client["ip"], "10.244.1.2", "first auto-allocated pod IP")
    check_eq(server["ip"], "10.244.1.3", "second auto-allocated pod IP")

    eth0 = lab.exec("default/client", "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
    check(f"{client['ip']}/32" in eth0, "client's eth0 holds its IP as /32", f"{client['ip']}/32", eth0.strip())

    lab.serve("default/server", tcp=8080, udp=9090)

    r = lab.ping("default/client", server["ip"], count=PINGS)
    check(f"{PINGS} received" in r.stdout, f"ping client -> server: {PINGS} replies",
          f"'{PINGS} received'", r.stdout.strip().splitlines()[-2:] or r.stderr)
    r = lab.ping("default/server", client["ip"], count=PINGS)
    check(f"{PINGS} received" in r.stdout, f"ping server -> client: {PINGS} replies",
          f"'{PINGS} received'", r.stdout.strip().splitlines()[-2:] or r.stderr)

    t = lab.nettool("default/client", "tcp", server["ip"], 8080, "--size", TCP_BYTES)
    check(t["echoed"], f"TCP: {TCP_BYTES} bytes echoed back", f"{TCP_BYTES} bytes, same payload", t)

    u = lab.nettool("default/client", "udp", server["ip"], 9090, "--count", UDP_DATAGRAMS)
    check_eq(u["echoed"], UDP_DATAGRAMS, "UDP: every datagram echoed back")

    # TTL is decremented on the way (L3 routing): the server's reply arrives with 63.
    r = lab.ping("default/client", server["ip"], count=1)
    check("ttl=63" in r.stdout, "echo reply crossed one routed hop (ttl 64 -> 63)", "ttl=63", r.stdout.strip())

    stats = lab.stats()
    # Each pod sent (and received) at least: PINGS + 1 ICMP, UDP_DATAGRAMS datagrams, 3 TCP segments.
    at_least = PINGS + 1 + UDP_DATAGRAMS + 3
    for key in ("default/client", "default/server"):
        ports = pod_ports(stats, key)
        check_eq(len(ports), 1, f"stats lists one port for {key}")
        p = ports[0]
        check(u64(p, "rx_packets") >= at_least + PINGS, f"{key}: port rx_packets counts what it sent",
              f">= {at_least + PINGS}", p.get("rx_packets"))
        check(u64(p, "tx_packets") >= at_least + PINGS, f"{key}: port tx_packets counts what it received",
              f">= {at_least + PINGS}", p.get("tx_packets"))
        check(u64(p, "rx_bytes") > 0 and u64(p, "tx_bytes") > 0, f"{key}: byte counters move", "> 0", p)

    pods = lab.ctl_json("node1", "pods")
    text = str(pods)
    check("client" in text and "server" in text, "nodeplanectl pods lists both pods", "client, server", pods)


if __name__ == "__main__":
    sys.exit(lablib.main(test))
