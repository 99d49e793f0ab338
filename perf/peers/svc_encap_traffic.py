#!/usr/bin/python3
"""Writes the svc-encap traffic (scenario.txt + in.pcap) into a directory, for the OVS-DPDK peer
until perf/scenarios/make.py has its own `svc-encap`; then perf/peers/ovs uses that one.

  /usr/bin/python3 perf/peers/svc_encap_traffic.py DIR

Pod A (10.244.1.2) on this node (192.168.1.10) sends 4,096 UDP flows (distinct source ports) of
64-byte frames to the ClusterIP 10.96.0.10 port 80; its four backends 10.244.2.10-13 port 8080
are on remote node B (VTEP 192.168.1.20, VNI 1, UDP 4789): DNAT to a backend, then VXLAN encap.
"""
import os
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

GATEWAY_MAC = "ee:ee:ee:ee:ee:ee"
FRAME_LEN, FLOWS = 64, 4096
NODE_IP, UPLINK_MAC = "192.168.1.10", "02:00:00:00:00:10"
NODE_B_IP, NODE_B_MAC, NODE_B_VTEP_MAC = "192.168.1.20", "02:00:00:00:00:20", "02:00:00:00:0b:ee"
POD_A_MAC, POD_A_IP = "02:00:0a:f4:01:02", "10.244.1.2"
CLUSTER_IP, SVC_PORT, TARGET_PORT = "10.96.0.10", 80, 8080
BACKENDS = [f"10.244.2.{10 + i}" for i in range(4)]

SCENARIO = f"""\
# svc-encap: pod A ({POD_A_IP}) sends {FLOWS} UDP flows of {FRAME_LEN}-byte frames to the ClusterIP
# {CLUSTER_IP}:{SVC_PORT}; the four backends ({BACKENDS[0]}-{BACKENDS[-1].split('.')[-1]}:{TARGET_PORT}) are on remote node B
# ({NODE_B_IP}, VNI 1, port 4789): ct_lookup, svc_lb (DNAT), ct_commit, nat_rewrite, ip4_lookup,
# ip4_forward, vxlan_encap, port_tx. Written by perf/peers/svc_encap_traffic.py.
port pod_a pod default/a {POD_A_MAC}
port uplink uplink {UPLINK_MAC}
neighbor {NODE_B_IP} {NODE_B_MAC}
input pod_a
conntrack 258048
expect uplink
state {{
  node {{ name: "bench-node" addresses: "{NODE_IP}/24" pod_cidrs: "10.244.1.0/24" }}
  pods {{ key {{ namespace: "default" name: "a" }} ips: "{POD_A_IP}" node_name: "bench-node" }}
  remote_nodes {{ name: "node-b" underlay_address: "{NODE_B_IP}" pod_cidrs: "10.244.2.0/24"
                 vtep_mac: "{NODE_B_VTEP_MAC}" }}
  services {{ key {{ namespace: "default" name: "web" }} type: CLUSTER_IP cluster_ips: "{CLUSTER_IP}"
             ports {{ protocol: UDP port: {SVC_PORT} target_port_number: {TARGET_PORT} }} }}
  endpoint_slices {{ key {{ namespace: "default" name: "web-1" }} service_name: "web"
                    address_type: "IPv4" ports {{ protocol: UDP port: {TARGET_PORT} }}
{"".join(f'''                    endpoints {{ addresses: "{b}" node_name: "node-b"
                                conditions {{ ready: true serving: true }} }}
''' for b in BACKENDS)}  }}
}}
"""


def frames():
    out = []
    for flow in range(FLOWS):
        f = (Ether(src=POD_A_MAC, dst=GATEWAY_MAC) / IP(src=POD_A_IP, dst=CLUSTER_IP, ttl=64) /
             UDP(sport=10000 + flow, dport=SVC_PORT))
        f = f / bytes(FRAME_LEN - len(f))
        assert len(bytes(f)) == FRAME_LEN
        out.append(Ether(bytes(f)))
    return out


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "scenario.txt"), "w") as f:
        f.write(SCENARIO)
    with PcapWriter(os.path.join(out_dir, "in.pcap"), linktype=1, sync=False) as w:
        for i, f in enumerate(frames()):
            f.time = 1700000000 + i / 1e6
            w.write(f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
