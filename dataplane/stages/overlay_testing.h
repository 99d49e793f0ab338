// Test-only helpers for the overlay's unit tests (vxlan_decap, vxlan_encap, ip4_lookup and
// ip4_forward towards remote nodes, the encap/decap round trip): the standard topology plus this
// node's VTEP, two remote nodes and a Fib; VXLAN frames built byte by byte, independently of the
// code under test; and a harness that runs the whole stage order including the overlay stages.
// Never linked into nodeplaned.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/stage.h"
#include "dataplane/tables/fib.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp::testing {

// The standard topology (uplink 0 with our VTEP = Topo::NodeIp(), host 1, pods A and B in
// 10.244.1.0/24) plus two remote nodes: B (slot 1, resolved) and C (slot 2, next hop unknown).
struct Overlay {
  static constexpr uint32_t kVni = 42;
  static constexpr uint16_t kPort = 4789;
  static constexpr uint16_t kUplinkMtu = 1500;
  static constexpr uint32_t kSlotB = 1;
  static constexpr uint32_t kSlotC = 2;
  static Mac VtepMac() { return M("ee:ee:ee:ee:ee:ee"); }       // ours: inner source
  static Ip4 NodeBIp() { return A("192.168.1.20"); }            // B's VTEP
  static Mac NodeBMac() { return M("02:00:00:00:00:20"); }      // B's uplink, our next hop
  static Mac NodeBVtepMac() { return M("02:00:00:00:0b:ee"); }  // inner destination B accepts
  static Ip4Prefix NodeBCidr() { return *Ip4Prefix::Parse("10.244.2.0/24"); }
  static Ip4 PodOnB() { return A("10.244.2.7"); }
  static Ip4 NodeCIp() { return A("192.168.1.30"); }
  static Mac NodeCVtepMac() { return M("02:00:00:00:0c:ee"); }
  static Ip4Prefix NodeCCidr() { return *Ip4Prefix::Parse("10.244.3.0/24"); }
  static Ip4 PodOnC() { return A("10.244.3.9"); }
};

// This node's VTEP on the test overlay's VNI, port and MTU.
inline void EnableOverlay(SnapshotSpec& spec, Ip4 vtep_ip, Mac vtep_mac) {
  spec.overlay.enabled = true;
  spec.overlay.vtep_ip = vtep_ip;
  spec.overlay.vni = Overlay::kVni;
  spec.overlay.udp_port = Overlay::kPort;
  spec.overlay.vtep_mac = vtep_mac;
  spec.overlay.uplink_mtu = Overlay::kUplinkMtu;
}

// A remote node on the test overlay's VNI and port.
inline RemoteNodeSpec OverlayRemoteNode(uint32_t slot, Ip4 underlay, Mac vtep_mac, Mac next_hop) {
  RemoteNodeSpec r;
  r.slot = slot;
  r.underlay_ip = underlay;
  r.vni = Overlay::kVni;
  r.udp_port = Overlay::kPort;
  r.vtep_mac = vtep_mac;
  r.next_hop_mac = next_hop;
  return r;
}

// The spec: StandardTopology + overlay + remote nodes B and C (on the given port ids).
inline SnapshotSpec OverlayTopologySpec(TopoPorts ids = {}) {
  SnapshotSpec spec = StandardTopology(ids).spec();
  EnableOverlay(spec, Topo::NodeIp(), Overlay::VtepMac());
  RemoteNodeSpec b = OverlayRemoteNode(Overlay::kSlotB, Overlay::NodeBIp(), Overlay::NodeBVtepMac(),
                                       Overlay::NodeBMac());
  RemoteNodeSpec c = b;
  c.slot = Overlay::kSlotC;
  c.underlay_ip = Overlay::NodeCIp();
  c.vtep_mac = Overlay::NodeCVtepMac();
  c.next_hop_mac.reset();
  spec.remote_nodes = {b, c};
  return spec;
}

// A Fib with B's and C's pod CIDRs, and the snapshot referring to it. The Fib is 64 MiB of EAL
// memory: keep one alive at a time.
// Node B's view of the same overlay: its VTEP is Overlay::NodeBIp(), its pod Overlay::PodOnB() on
// port kNodeBPodPort, and this node (Topo::NodeIp(), 10.244.1.0/24) is its remote node in slot 1.
inline constexpr uint16_t kNodeBPodPort = 2;
inline Mac NodeBPodMac() { return M("02:00:0a:f4:02:07"); }
inline SnapshotSpec NodeBSpec() {
  SpecBuilder b;
  b.Uplink(Topo::kUplink, Overlay::NodeBMac(), Overlay::NodeBIp())
      .Host(Topo::kHost, Topo::GatewayMac(), M("02:00:00:00:00:21"), Overlay::NodeBIp())
      .Pod(kNodeBPodPort, Overlay::PodOnB(), NodeBPodMac(), Topo::GatewayMac(), Topo::PodGateway())
      .Route(Overlay::PodOnB(), kNodeBPodPort)
      .Route(Overlay::NodeBIp(), Topo::kHost);
  SnapshotSpec spec = b.spec();
  EnableOverlay(spec, Overlay::NodeBIp(), Overlay::NodeBVtepMac());
  spec.remote_nodes = {OverlayRemoteNode(1, Topo::NodeIp(), Overlay::VtepMac(), Topo::UplinkMac())};
  return spec;
}

struct OverlayWorld {
  explicit OverlayWorld(const SnapshotSpec& spec = OverlayTopologySpec()) {
    Eal();
    std::string error;
    if (!fib.Init(Fib::Limits{.max_routes = 1024, .tbl8_groups = 64}, nullptr, &error) ||
        !fib.Add(Overlay::NodeBCidr(), Overlay::kSlotB, &error) ||
        !fib.Add(Overlay::NodeCCidr(), Overlay::kSlotC, &error)) {
      ADD_FAILURE() << error;
    }
    snap = BuildSnapshot(spec, &fib, &error);
    if (snap == nullptr) ADD_FAILURE() << "overlay topology rejected: " << error;
  }
  Fib fib;
  std::unique_ptr<Snapshot> snap;
};

// The 8-byte VXLAN header: flags (I = 0x08) and VNI.
inline Bytes VxlanHeader(uint32_t vni, uint8_t flags = 0x08) {
  return Bytes{flags,
               0,
               0,
               0,
               static_cast<uint8_t>(vni >> 16),
               static_cast<uint8_t>(vni >> 8),
               static_cast<uint8_t>(vni),
               0};
}

struct OuterFields {
  Mac eth_src = Overlay::NodeBMac();
  Mac eth_dst = Topo::UplinkMac();
  Ip4 ip_src = Overlay::NodeBIp();
  Ip4 ip_dst = Topo::NodeIp();
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  uint16_t frag = 0;  // flags + fragment offset, host order (0x2000: MF)
  uint16_t sport = 50000;
  uint16_t dport = Overlay::kPort;
  uint32_t vni = Overlay::kVni;
  uint8_t flags = 0x08;
  uint16_t udp_checksum = 0;
};

// An outer Ethernet/IPv4/UDP/VXLAN frame around `inner`, built by hand (RFC 791 / 768 / 7348):
// IPv4 without options, DF clear, header checksum computed here; UDP checksum as given (0).
inline Bytes VxlanFrame(const Bytes& inner, const OuterFields& o = {}) {
  Bytes f(50);
  auto put16 = [&f](size_t at, uint16_t v) {
    f[at] = static_cast<uint8_t>(v >> 8);
    f[at + 1] = static_cast<uint8_t>(v);
  };
  auto put_ip = [&f](size_t at, Ip4 ip) {
    const uint32_t h = ip.host();
    for (int i = 0; i < 4; ++i) f[at + i] = static_cast<uint8_t>(h >> (24 - 8 * i));
  };
  std::copy(o.eth_dst.bytes.begin(), o.eth_dst.bytes.end(), f.begin());
  std::copy(o.eth_src.bytes.begin(), o.eth_src.bytes.end(), f.begin() + 6);
  put16(12, 0x0800);
  const uint16_t udp_len = static_cast<uint16_t>(16 + inner.size());
  f[14] = 0x45;
  put16(16, static_cast<uint16_t>(20 + udp_len));
  put16(18, o.ip_id);
  put16(20, o.frag);
  f[22] = o.ttl;
  f[23] = kProtoUdp;
  put_ip(26, o.ip_src);
  put_ip(30, o.ip_dst);
  put16(24, InetChecksum(f.data() + 14, 20));
  put16(34, o.sport);
  put16(36, o.dport);
  put16(38, udp_len);
  put16(40, o.udp_checksum);
  const Bytes vx = VxlanHeader(o.vni, o.flags);
  std::copy(vx.begin(), vx.end(), f.begin() + 42);
  f.insert(f.end(), inner.begin(), inner.end());
  return f;
}

// The outer UDP source port of an encapsulated frame `got` (a flow hash, in the dynamic range).
inline uint16_t OuterSourcePort(const Bytes& got) {
  const uint16_t sport = got.size() >= 36 ? static_cast<uint16_t>(got[34] << 8 | got[35]) : 0;
  EXPECT_GE(sport, 49152) << "outer UDP source port from the inner flow hash";
  return sport;
}

// This node's outer headers towards node B (our uplink → B's, our VTEP → B's), default port/VNI.
inline OuterFields OuterToB() {
  OuterFields o;
  o.eth_src = Topo::UplinkMac();
  o.eth_dst = Overlay::NodeBMac();
  o.ip_src = Topo::NodeIp();
  o.ip_dst = Overlay::NodeBIp();
  return o;
}

// What this node's vxlan_encap puts around `inner` for B (the source port taken from `got`).
inline Bytes VxlanToB(const Bytes& inner, const Bytes& got) {
  OuterFields o = OuterToB();
  o.sport = OuterSourcePort(got);
  return VxlanFrame(inner, o);
}

using OverlayOutcome = Outcome;

// StageHarness for frames that all arrive on one port, with an RSS hash knob (vxlan_encap takes
// the outer UDP source port from it).
template <Stage S>
class OverlayHarness {
 public:
  explicit OverlayHarness(const Snapshot& snap) : harness_(snap) {}

  OverlayOutcome Run(const Bytes& frame, uint16_t in_port, uint64_t ol_flags = 0,
                     uint32_t rss = 0) {
    return RunBurst({frame}, in_port, ol_flags, rss).front();
  }

  std::vector<OverlayOutcome> RunBurst(const std::vector<Bytes>& frames, uint16_t in_port,
                                       uint64_t ol_flags = 0, uint32_t rss = 0) {
    std::vector<Input> inputs;
    for (const Bytes& f : frames) inputs.push_back(Input{f, in_port, ol_flags, rss});
    return harness_.RunBurst(inputs);
  }

  uint64_t drops(DropReason r) const { return harness_.drops(r); }
  uint64_t events(Counter c) const { return harness_.events(c); }
  int leaked_mbufs() const { return harness_.leaked_mbufs(); }

 private:
  StageHarness<S> harness_;
};

}  // namespace nodeplane::dp::testing
