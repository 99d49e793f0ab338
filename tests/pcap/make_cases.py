#!/usr/bin/python3
"""Generates the golden pcap cases in tests/pcap/<feature>/<case>/: case.txt, in.pcap, expected.pcap.

Run with Debian's python3 (it has scapy), from anywhere:
    /usr/bin/python3 tests/pcap/make_cases.py            # all cases
    /usr/bin/python3 tests/pcap/make_cases.py ttl/        # the cases whose path starts with ttl/

Every expected packet is derived here from the forwarding rules (routed: TTL-1, fresh IP checksum,
source MAC = ours on the output port, destination = the interface behind it; ARP replies; ICMP
time-exceeded with the RFC 1812 quote), never copied from the dataplane's output. Output is
deterministic (fixed timestamps), so regenerating changes nothing unless the cases change.
"""
import os
import struct
import sys

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

HERE = os.path.dirname(os.path.abspath(__file__))

# The node every case runs on (same addresses as dataplane/testing/topology.h).
GW_MAC = "ee:ee:ee:ee:ee:ee"      # ours on pod and host ports (control/compile kGatewayMac)
UPLINK_MAC = "02:00:00:00:00:10"  # the NIC's, ours on the uplink
HOST_MAC = "02:00:00:00:00:11"    # the host kernel's side of the exception port
ROUTER_MAC = "02:00:00:00:00:99"  # a router on the uplink's wire
A_MAC, A_IP = "02:00:0a:f4:01:02", "10.244.1.2"
B_MAC, B_IP = "02:00:0a:f4:01:03", "10.244.1.3"
NODE_IP = "192.168.1.10"
POD_GW = "169.254.1.1"
REMOTE_IP = "192.168.1.20"
BCAST = "ff:ff:ff:ff:ff:ff"

STATE = f"""\
state {{
  node {{ name: "node-a" addresses: "{NODE_IP}/24" pod_cidrs: "10.244.1.0/24" }}
  pods {{ key {{ namespace: "default" name: "a" }} ips: "{A_IP}" node_name: "node-a" }}
  pods {{ key {{ namespace: "default" name: "b" }} ips: "{B_IP}" node_name: "node-a" }}
}}
"""

ALL_PORTS = {
    "pod_a": f"pod default/a {A_MAC}",
    "pod_b": f"pod default/b {B_MAC}",
    "uplink": f"uplink {UPLINK_MAC}",
    "host": f"host {HOST_MAC}",
}

# Per port: (our MAC on it, the MAC of what is behind it, the address we send ICMP errors from).
PORT_L2 = {
    "pod_a": (GW_MAC, A_MAC, POD_GW),
    "pod_b": (GW_MAC, B_MAC, POD_GW),
    "host": (GW_MAC, HOST_MAC, NODE_IP),
    "uplink": (UPLINK_MAC, None, NODE_IP),
}


# ---- The rules, independently of the dataplane ----

def routed(pkt, out_port):
    """A routed IPv4 packet: TTL-1, IP checksum recomputed, MACs of the output port."""
    ours, peer, _ = PORT_L2[out_port]
    p = Ether(bytes(pkt))
    p[Ether].src, p[Ether].dst = ours, peer
    p[IP].ttl -= 1
    del p[IP].chksum
    return Ether(bytes(p))


def arp_reply(request, in_port, answered_ip):
    ours = PORT_L2[in_port][0]
    request = Ether(bytes(request))
    asker_mac, asker_ip = request[ARP].hwsrc, request[ARP].psrc
    return Ether(src=ours, dst=asker_mac) / ARP(op=2, hwsrc=ours, psrc=answered_ip,
                                                hwdst=asker_mac, pdst=asker_ip)


def time_exceeded(pkt, in_port):
    """ICMP time exceeded in transit (RFC 792), quoting the IP header + 8 bytes (RFC 1812)."""
    ours, _, from_ip = PORT_L2[in_port]
    pkt = Ether(bytes(pkt))  # lengths as sent
    ip = bytes(pkt[IP])[:pkt[IP].len]
    quote = ip[:pkt[IP].ihl * 4 + 8]
    return (Ether(src=ours, dst=pkt[Ether].src) /
            IP(src=from_ip, dst=pkt[IP].src, ttl=64, tos=0xc0, id=0, flags=0) /
            ICMP(type=11, code=0) / Raw(quote))


def from_a(dst=B_IP, **ip):
    return Ether(src=A_MAC, dst=GW_MAC) / IP(src=A_IP, dst=dst, **ip)


def from_uplink(dst, src=REMOTE_IP, **ip):
    return Ether(src=ROUTER_MAC, dst=UPLINK_MAC) / IP(src=src, dst=dst, **ip)


def from_host(dst, **ip):
    return Ether(src=HOST_MAC, dst=GW_MAC) / IP(src=NODE_IP, dst=dst, **ip)


def frame(pkt):
    """Freeze a scapy packet into its bytes (lengths and checksums computed once)."""
    return bytes(pkt)


# ---- The cases ----
# Each: path -> dict(doc, input, expect, inputs, outputs, drops, counts[, ports]).

CASES = {}


def case(path, doc, input, expect, inputs, outputs=(), drops=None, counts=None, ports=None,
         conntrack=None):
    CASES[path] = dict(doc=doc, input=input, expect=expect, inputs=[frame(p) for p in inputs],
                       outputs=[frame(p) for p in outputs], drops=drops or {},
                       counts=counts or {}, ports=ports or list(ALL_PORTS), conntrack=conntrack)


def define_cases():
    # routing
    pings = [from_a() / ICMP(type=8, id=7, seq=s) / Raw(b"ping%02d" % s) for s in (1, 2, 3)]
    case("routing/pod_to_pod_icmp", "Pod A pings pod B: each echo request is routed.",
         "pod_a", "pod_b", pings, [routed(p, "pod_b") for p in pings], counts={"routed": 3})

    udp = [from_a(id=100 + i) / UDP(sport=40000 + i, dport=53) / Raw(b"q" * n)
           for i, n in enumerate((1, 100, 1400))]
    case("routing/pod_to_pod_udp", "UDP of three sizes from pod A to pod B is routed.",
         "pod_a", "pod_b", udp, [routed(p, "pod_b") for p in udp], counts={"routed": 3})

    tcp = [from_a(flags="DF") / TCP(sport=43210, dport=80, flags="S", seq=1000),
           from_a(flags="DF") / TCP(sport=43210, dport=80, flags="PA", seq=1001, ack=5001) /
           Raw(b"GET / HTTP/1.1\r\n\r\n"),
           from_a(flags="DF", ttl=2) / TCP(sport=43210, dport=80, flags="FA", seq=1019, ack=5001)]
    case("routing/pod_to_pod_tcp",
         "A TCP exchange (SYN, data, FIN with TTL 2) from pod A to pod B is routed.",
         "pod_a", "pod_b", tcp, [routed(p, "pod_b") for p in tcp], counts={"routed": 3})

    to_node = [from_a(dst=NODE_IP) / TCP(sport=40000, dport=10250, flags="S")]
    case("routing/pod_to_node", "Pod A to the node's address is routed to the host kernel.",
         "pod_a", "host", to_node, [routed(p, "host") for p in to_node], counts={"routed": 1})

    host_to_b = [from_host(B_IP) / TCP(sport=6443, dport=40000, flags="SA", seq=9, ack=1001),
                 from_host(B_IP) / ICMP(type=8, id=1, seq=1)]
    case("routing/host_to_pod", "The host kernel's packets for pod B are routed to pod B.",
         "host", "pod_b", host_to_b, [routed(p, "pod_b") for p in host_to_b],
         counts={"routed": 2, "host_to_uplink": 0})

    up_to_a = [from_uplink(A_IP) / UDP(sport=53, dport=40000) / Raw(b"answer")]
    case("routing/uplink_to_pod", "IPv4 from the uplink for pod A is routed to pod A.",
         "uplink", "pod_a", up_to_a, [routed(p, "pod_a") for p in up_to_a],
         counts={"routed": 1, "punted_to_host": 0})

    # arp
    req = Ether(src=A_MAC, dst=BCAST) / ARP(op=1, hwsrc=A_MAC, psrc=A_IP, pdst=POD_GW)
    padded = Ether(bytes(req) + bytes(18))  # 60 bytes, as many stacks pad
    case("arp/pod_asks_for_gateway",
         "Pod A's ARP requests for its gateway (plain and padded) are answered on its port.",
         "pod_a", "pod_a", [req, padded], [arp_reply(req, "pod_a", POD_GW)] * 2,
         counts={"arp_replies_sent": 2})

    hreq = Ether(src=HOST_MAC, dst=BCAST) / ARP(op=1, hwsrc=HOST_MAC, psrc=NODE_IP, pdst=B_IP)
    case("arp/host_asks_for_pod", "The host kernel's ARP for pod B is answered on the host port.",
         "host", "host", [hreq], [arp_reply(hreq, "host", B_IP)],
         counts={"arp_replies_sent": 1})

    other = Ether(src=A_MAC, dst=BCAST) / ARP(op=1, hwsrc=A_MAC, psrc=A_IP, pdst=B_IP)
    case("arp/pod_asks_for_another_pod",
         "Pod A's ARP for pod B is dropped: pods reach everything through the gateway.",
         "pod_a", None, [other], drops={"arp_not_gateway": 1})

    # ttl
    expiring = [from_a(ttl=1, id=4242) / UDP(sport=33434, dport=33434) / Raw(b"traceroute!")]
    case("ttl/pod_ttl_one_gets_time_exceeded",
         "TTL 1 from pod A: an ICMP time-exceeded from the gateway goes back out of pod A's port.",
         "pod_a", "pod_a", expiring, [time_exceeded(p, "pod_a") for p in expiring],
         drops={"ip4_ttl_exceeded": 1}, counts={"icmp_time_exceeded_sent": 1, "routed": 0})

    opts = [from_a(ttl=1, options=[b"\x01\x01\x01\x00"]) / TCP(sport=1, dport=2, flags="S")]
    case("ttl/quote_includes_ip_options",
         "TTL 1 with IP options: the error quotes the whole header plus 8 bytes.",
         "pod_a", "pod_a", opts, [time_exceeded(p, "pod_a") for p in opts],
         drops={"ip4_ttl_exceeded": 1}, counts={"icmp_time_exceeded_sent": 1})

    up_exp = [from_uplink(A_IP, ttl=1) / UDP(sport=1000, dport=2000) / Raw(b"x" * 20)]
    case("ttl/uplink_ttl_one_gets_time_exceeded",
         "TTL 1 from the uplink towards pod A: the error comes from the node address, to the router.",
         "uplink", "uplink", up_exp, [time_exceeded(p, "uplink") for p in up_exp],
         drops={"ip4_ttl_exceeded": 1}, counts={"icmp_time_exceeded_sent": 1})

    err = from_a(ttl=1) / ICMP(type=3, code=3) / Raw(bytes(IP(src=B_IP, dst=A_IP) / UDP()))
    case("ttl/no_error_about_an_icmp_error",
         "An ICMP error whose TTL expires is dropped without an error about it (RFC 1812).",
         "pod_a", None, [err], drops={"ip4_ttl_exceeded": 1},
         counts={"icmp_time_exceeded_sent": 0})

    # malformed
    good = from_a() / UDP(sport=1, dport=2) / Raw(b"payload!")
    case("malformed/bad_ip_checksum", "An IPv4 header checksum that does not verify is dropped.",
         "pod_a", None, [from_a(chksum=0x1234) / UDP(sport=1, dport=2)],
         drops={"ip4_bad_checksum": 1})
    case("malformed/truncated_ip_header",
         "A frame that ends inside its IPv4 header is dropped.", "pod_a", None,
         [Ether(bytes(good)[:14 + 12])], drops={"ip4_truncated": 1})
    case("malformed/truncated_ethernet", "A frame shorter than an Ethernet header is dropped.",
         "pod_a", None, [Raw(bytes(good)[:10])], drops={"eth_truncated": 1})
    case("malformed/bad_ihl", "IHL below 5 words, and IHL beyond the frame, are dropped.",
         "pod_a", None, [from_a(ihl=4) / UDP(sport=1, dport=2),
                         Ether(bytes(from_a(ihl=15, proto=253)))],
         drops={"ip4_bad_ihl": 2})
    case("malformed/bad_total_length",
         "Total length beyond the frame, and below the header length, are dropped.",
         "pod_a", None, [from_a(len=200) / UDP(sport=1, dport=2) / Raw(b"short"),
                         from_a(len=19) / UDP(sport=1, dport=2)],
         drops={"ip4_bad_total_length": 2})
    case("malformed/bad_ip_version", "The IPv4 ethertype carrying version 6 is dropped.",
         "pod_a", None, [from_a(version=6) / UDP(sport=1, dport=2)],
         drops={"ip4_bad_version": 1})
    case("malformed/non_ip_from_pod", "Pods speak IPv4 and ARP only: IPv6 from a pod is dropped.",
         "pod_a", None, [Ether(src=A_MAC, dst=GW_MAC) / IPv6(src="fe80::1", dst="ff02::1") /
                         ICMPv6ND_NS(tgt="fe80::2")],
         drops={"ethertype_unsupported": 1})
    case("malformed/uplink_frame_for_another_mac",
         "A unicast frame on the uplink addressed to another MAC is dropped.", "uplink", None,
         [Ether(src=ROUTER_MAC, dst="02:00:00:00:00:77") / IP(src=REMOTE_IP, dst=A_IP) / UDP()],
         drops={"eth_other_host": 1})

    # policy
    case("policy/spoofed_source", "Pod A sending from pod B's address is dropped.", "pod_a", None,
         [Ether(src=A_MAC, dst=GW_MAC) / IP(src=B_IP, dst=B_IP) / UDP(sport=1, dport=2),
          Ether(src=A_MAC, dst=GW_MAC) / IP(src="8.8.8.8", dst=B_IP) / ICMP()],
         drops={"source_spoofed": 2})
    case("policy/no_route",
         "Pod A to an address that is neither a local pod nor the node is dropped.", "pod_a",
         None, [from_a(dst="8.8.8.8") / UDP(sport=1, dport=53), from_a(dst="10.244.1.99") / ICMP()],
         drops={"no_route": 2})

    # exception path
    uarp = Ether(src=ROUTER_MAC, dst=BCAST) / ARP(op=1, hwsrc=ROUTER_MAC, psrc=REMOTE_IP,
                                                  pdst=NODE_IP)
    case("exception/uplink_arp_to_host", "ARP from the uplink goes to the host kernel untouched.",
         "uplink", "host", [uarp], [uarp], counts={"punted_to_host": 1, "arp_replies_sent": 0})
    storm = [Ether(src=ROUTER_MAC, dst=BCAST) / ARP(op=1, hwsrc=ROUTER_MAC, psrc=REMOTE_IP, pdst=t)
             for t in ("192.168.1.77", A_IP, REMOTE_IP)]
    case("arp/uplink_asks_for_others",
         "ARP requests on the uplink for addresses that are not the node's (another host, a pod, "
         "a gratuitous ARP) are dropped, not handed to the host kernel.",
         "uplink", None, storm, drops={"arp_not_for_us": 3})
    ns = Ether(src=ROUTER_MAC, dst="33:33:ff:00:00:10") / IPv6(src="fe80::99", dst="ff02::1:ff00:10") / \
        ICMPv6ND_NS(tgt="fe80::10")
    case("exception/uplink_non_ip_to_host", "Non-IPv4 from the uplink goes to the host untouched.",
         "uplink", "host", [ns], [ns], counts={"punted_to_host": 1})
    to_node = [from_uplink(NODE_IP) / TCP(sport=50000, dport=22, flags="S"),
               from_uplink(NODE_IP, ttl=1) / UDP(sport=1, dport=2)]
    case("exception/uplink_ip4_to_node_to_host",
         "IPv4 from the uplink for the node's address goes to the host untouched (TTL too).",
         "uplink", "host", to_node, to_node, counts={"punted_to_host": 2, "routed": 0})
    out = [from_host(REMOTE_IP) / TCP(sport=22, dport=50000, flags="SA"),
           Ether(src=HOST_MAC, dst=BCAST) / ARP(op=1, hwsrc=HOST_MAC, psrc=NODE_IP, pdst=REMOTE_IP)]
    case("exception/host_to_uplink",
         "What the host kernel sends that is not for a pod goes out of the uplink untouched.",
         "host", "uplink", out, out, counts={"host_to_uplink": 2})
    case("exception/punt_without_host_port",
         "Without an exception port, what the host would get is dropped.", "uplink", None,
         [uarp], drops={"port_unavailable": 1}, ports=["pod_a", "pod_b", "uplink"])

    # conntrack (a table of 64 connections; Services' DNAT cases come with svc_lb)
    tcp = [from_a(flags="DF") / TCP(sport=43210, dport=80, flags="S", seq=1000),
           from_a(flags="DF") / TCP(sport=43210, dport=80, flags="A", seq=1001, ack=5001),
           from_a(flags="DF") / TCP(sport=43210, dport=80, flags="PA", seq=1001, ack=5001) /
           Raw(b"GET / HTTP/1.1\r\n\r\n"),
           from_a(flags="DF") / TCP(sport=43211, dport=80, flags="A", seq=7, ack=9)]
    case("conntrack/tcp_flows_tracked",
         "Pod A opens a TCP connection to pod B and continues one whose start was not seen (loose "
         "pick-up): all routed unchanged, two connections created.",
         "pod_a", "pod_b", tcp, [routed(p, "pod_b") for p in tcp],
         counts={"routed": 4, "ct_created": 2}, conntrack=64)
    quoted = bytes(IP(src=B_IP, dst=A_IP, ttl=63) / UDP(sport=53, dport=40000) / Raw(b"answer"))
    stray = [from_a() / ICMP(type=3, code=3) / Raw(quoted)]
    case("conntrack/icmp_error_unrelated",
         "Pod A sends port-unreachable about a datagram of no tracked connection: dropped.",
         "pod_a", None, stray, drops={"ct_icmp_unrelated": 1}, conntrack=64)
    short = [from_a() / ICMP(type=3, code=3) / Raw(quoted[:24])]
    case("conntrack/icmp_error_quote_truncated",
         "An ICMP error quoting less than the IPv4 header and 8 bytes is dropped as truncated.",
         "pod_a", None, short, drops={"l4_truncated": 1}, conntrack=64)


# ---- Files ----

def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, data in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(data), len(data)))
            f.write(data)


def write_case(path, c):
    d = os.path.join(HERE, path)
    os.makedirs(d, exist_ok=True)
    lines = [f"# {c['doc']}", "# Generated by tests/pcap/make_cases.py; edit that, not this."]
    lines += [f"port {name} {ALL_PORTS[name]}" for name in c["ports"]]
    lines.append(f"input {c['input']}")
    if c["conntrack"]:
        lines.append(f"conntrack {c['conntrack']}")
    lines.append(f"expect {c['expect'] or 'none'}")
    lines += [f"drop {k} {v}" for k, v in sorted(c["drops"].items())]
    lines += [f"count {k} {v}" for k, v in sorted(c["counts"].items())]
    with open(os.path.join(d, "case.txt"), "w") as f:
        f.write("\n".join(lines) + "\n" + STATE)
    write_pcap(os.path.join(d, "in.pcap"), c["inputs"])
    write_pcap(os.path.join(d, "expected.pcap"), c["outputs"])


def main(prefixes):
    define_cases()
    n = 0
    for path, c in sorted(CASES.items()):
        if prefixes and not any(path.startswith(p) for p in prefixes):
            continue
        write_case(path, c)
        n += 1
        print(f"{path}: {len(c['inputs'])} in, {len(c['outputs'])} expected on "
              f"{c['expect'] or 'no port'}")
    print(f"{n} case(s) written under {HERE}")


if __name__ == "__main__":
    main(sys.argv[1:])
