// Unit tests of svc_lb: each kind of Service address hits its own entry; the endpoint set follows
// the traffic policies; SNAT where replies would otherwise miss this node; source ranges; ClientIP
// affinity with a clock the test moves; REJECT builds a valid RST / ICMP port unreachable.
#include "dataplane/stages/svc_lb.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/service_table.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::Pkt;
using testing::StageHarness;
using testing::Topo;

constexpr uint8_t kRst = 0x04;
const Ip4 kVip = A("10.96.0.10");
const Ip4 kLbIp = A("203.0.113.7");
const Ip4 kExtIp = A("203.0.113.250");
const Ip4 kClient = A("198.51.100.9");  // off-cluster, beyond the uplink
const Ip4 kLocal1 = A("10.244.1.2");    // pod A, on this node
const Ip4 kRemote1 = A("10.244.2.5");   // pods of other nodes
const Ip4 kRemote2 = A("10.244.2.6");

uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

struct Backend {
  Ip4 ip;
  bool local;
};

// An entry over `backends`: every one in the cluster set, the local ones in the local set, each
// Maglev table simply round-robin (the stage only indexes it).
ServiceEntrySpec Entry(ServiceAddressKind kind, const std::vector<Backend>& backends) {
  ServiceEntrySpec s;
  s.service_id = 7;
  s.kind = kind;
  s.snat_ip_be = Topo::NodeIp().be;
  s.has_any_endpoint = !backends.empty();
  std::vector<uint16_t> cluster, local;
  for (size_t i = 0; i < backends.size(); ++i) {
    s.backends.push_back({backends[i].ip.be, Be16(8080), backends[i].local, 1});
    cluster.push_back(static_cast<uint16_t>(i));
    if (backends[i].local) local.push_back(static_cast<uint16_t>(i));
  }
  for (uint32_t slot = 0; slot < 211 && !cluster.empty(); ++slot) {
    s.cluster_table.push_back(cluster[slot % cluster.size()]);
  }
  for (uint32_t slot = 0; slot < 211 && !local.empty(); ++slot) {
    s.local_table.push_back(local[slot % local.size()]);
  }
  return s;
}

ServiceTableKey Key(Ip4 ip, uint16_t port, uint8_t proto = IPPROTO_TCP) {
  return ServiceTableKey{ip.be, Be16(port), proto, 0};
}

uint32_t g_now_s = 1000;
uint32_t FakeClock() { return g_now_s; }

class SvcLbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Eal();
    std::string error;
    ASSERT_TRUE(table_.Init(256, nullptr, &error)) << error;
    affinity_.SetClock(FakeClock);
    ASSERT_TRUE(affinity_.Init(4096, &error)) << error;
    snap_ = testing::StandardTopology().Build();
    snap_->services = &table_;
    snap_->affinity = &affinity_;
  }

  void Set(const ServiceTableKey& k, const ServiceEntrySpec& s) {
    std::string error;
    ASSERT_TRUE(table_.Set(k, s, &error)) << error;
  }

  static Bytes FromPodA(Ip4 dst, uint16_t sport, uint16_t dport, bool udp = false) {
    Pkt p = Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), dst);
    return udp ? p.Udp(sport, dport) : p.Tcp(sport, dport);
  }
  static Bytes FromOutside(Ip4 src, Ip4 dst, uint16_t sport, uint16_t dport, bool udp = false) {
    Pkt p = Pkt().Eth(Topo::RouterMac(), Topo::UplinkMac()).Ip4(src, dst);
    return udp ? p.Udp(sport, dport) : p.Tcp(sport, dport);
  }

  ServiceTable table_;
  AffinityTable affinity_;
  std::unique_ptr<Snapshot> snap_;
};

TEST_F(SvcLbTest, ClusterIpFromAPodGoesToABackendWithItsSourceKept) {
  Set(Key(kVip, 80), Entry(ServiceAddressKind::kClusterIp, {{kRemote1, false}, {kRemote2, false}}));
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromPodA(kVip, 40000, 80), Topo::kPodA);
  ASSERT_EQ(out.decided_by, SvcLbStage::kName);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.xlate_dst_ip == kRemote1.be || out.meta.xlate_dst_ip == kRemote2.be);
  EXPECT_EQ(out.meta.xlate_dst_port, Be16(8080));
  EXPECT_EQ(out.meta.xlate_src_ip, 0u) << "pod → ClusterIP keeps the client's address";
  // Another port or protocol of the same VIP is not this Service.
  EXPECT_EQ(h.Run(FromPodA(kVip, 40000, 81), Topo::kPodA).meta.xlate_dst_ip, 0u);
  EXPECT_EQ(h.Run(FromPodA(kVip, 40000, 80, true), Topo::kPodA).meta.xlate_dst_ip, 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST_F(SvcLbTest, NewConnectionsSpreadOverTheBackendsInOneBurst) {
  Set(Key(kVip, 80), Entry(ServiceAddressKind::kClusterIp,
                           {{kRemote1, false}, {kRemote2, false}, {kLocal1, true}}));
  std::vector<testing::Input> in;
  for (uint16_t i = 0; i < 64; ++i) in.push_back({FromPodA(kVip, 20000 + i * 7, 80), Topo::kPodA});
  StageHarness<SvcLbStage> h(*snap_);
  std::map<uint32_t, int> hits;
  for (const auto& o : h.RunBurst(in)) hits[o.meta.xlate_dst_ip]++;
  EXPECT_EQ(hits.size(), 3u) << "64 flows over 3 backends all reach each one";
  EXPECT_EQ(hits.count(0), 0u);
}

TEST_F(SvcLbTest, NodePortFromOutsideWithClusterPolicyIsSnattedToTheNode) {
  Set(Key(Topo::NodeIp(), 30080), Entry(ServiceAddressKind::kNodePort, {{kRemote1, false}}));
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromOutside(kClient, Topo::NodeIp(), 5555, 30080), Topo::kUplink);
  EXPECT_EQ(out.meta.xlate_dst_ip, kRemote1.be);
  EXPECT_EQ(out.meta.xlate_src_ip, Topo::NodeIp().be) << "replies must come back through us";
}

TEST_F(SvcLbTest, ExternalPolicyLocalKeepsTheClientAndUsesOnlyLocalEndpoints) {
  ServiceEntrySpec s = Entry(ServiceAddressKind::kNodePort, {{kRemote1, false}, {kLocal1, true}});
  s.external_local = true;
  Set(Key(Topo::NodeIp(), 30080), s);
  StageHarness<SvcLbStage> h(*snap_);
  for (uint16_t sport = 1000; sport < 1020; ++sport) {
    const auto out = h.Run(FromOutside(kClient, Topo::NodeIp(), sport, 30080), Topo::kUplink);
    EXPECT_EQ(out.meta.xlate_dst_ip, kLocal1.be);
    EXPECT_EQ(out.meta.xlate_src_ip, 0u) << "eTP Local preserves the client source";
  }
  // No local endpoint (one elsewhere): dropped, not rejected.
  Set(Key(Topo::NodeIp(), 30080), [] {
    ServiceEntrySpec r = Entry(ServiceAddressKind::kNodePort, {{kRemote1, false}});
    r.external_local = true;
    return r;
  }());
  const auto out = h.Run(FromOutside(kClient, Topo::NodeIp(), 1000, 30080), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kSvcNoLocalEndpoint);
  EXPECT_EQ(h.drops(DropReason::kSvcNoLocalEndpoint), 1u);
}

TEST_F(SvcLbTest, ExternalIpFromAPodGetsClusterSemantics) {
  ServiceEntrySpec s = Entry(ServiceAddressKind::kExternalIp, {{kRemote1, false}});
  s.external_local = true;  // no local endpoint, but in-cluster traffic short-circuits
  Set(Key(kExtIp, 80), s);
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromPodA(kExtIp, 40000, 80), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.xlate_dst_ip, kRemote1.be);
  EXPECT_EQ(out.meta.xlate_src_ip, 0u);
}

TEST_F(SvcLbTest, InternalPolicyLocalUsesOnlyThisNodesEndpoints) {
  ServiceEntrySpec s = Entry(ServiceAddressKind::kClusterIp, {{kRemote1, false}, {kLocal1, true}});
  s.internal_local = true;
  Set(Key(kVip, 80), s);
  StageHarness<SvcLbStage> h(*snap_);
  for (uint16_t sport = 1000; sport < 1020; ++sport) {
    const auto out = h.Run(
        Pkt().Eth(Topo::PodBMac(), Topo::GatewayMac()).Ip4(Topo::PodBIp(), kVip).Tcp(sport, 80),
        Topo::kPodB);
    EXPECT_EQ(out.meta.xlate_dst_ip, kLocal1.be);
  }
}

TEST_F(SvcLbTest, LoadBalancerSourceRangesFilterClients) {
  ServiceEntrySpec s = Entry(ServiceAddressKind::kLoadBalancer, {{kRemote1, false}});
  s.source_ranges = {{A("198.51.100.0").be, A("255.255.255.0").be}};
  Set(Key(kLbIp, 443), s);
  StageHarness<SvcLbStage> h(*snap_);
  auto in = h.Run(FromOutside(kClient, kLbIp, 7000, 443), Topo::kUplink);
  EXPECT_EQ(in.edge, Edge::kNext);
  EXPECT_EQ(in.meta.xlate_dst_ip, kRemote1.be);
  auto out = h.Run(FromOutside(A("192.0.2.1"), kLbIp, 7000, 443), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kSvcSourceRange);
  // Pods are filtered too (kube-proxy drops before DNAT whatever the source).
  auto pod = h.Run(FromPodA(kLbIp, 7000, 443), Topo::kPodA);
  EXPECT_EQ(pod.meta.drop, DropReason::kSvcSourceRange);
}

TEST_F(SvcLbTest, HairpinIsSnattedToThePodsGateway) {
  Set(Key(kVip, 80), Entry(ServiceAddressKind::kClusterIp, {{kLocal1, true}}));
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromPodA(kVip, 40000, 80), Topo::kPodA);
  EXPECT_EQ(out.meta.xlate_dst_ip, Topo::PodAIp().be);
  EXPECT_EQ(out.meta.xlate_src_ip, Topo::PodGateway().be);
}

TEST_F(SvcLbTest, ClientIpAffinitySticksThenSpreadsAfterTheTimeout) {
  ServiceEntrySpec s = Entry(ServiceAddressKind::kClusterIp,
                             {{kRemote1, false}, {kRemote2, false}, {kLocal1, true}});
  s.affinity_timeout_s = 125;
  Set(Key(kVip, 80), s);
  StageHarness<SvcLbStage> h(*snap_);
  g_now_s = 1000;
  const uint32_t first = h.Run(FromPodA(kVip, 30000, 80), Topo::kPodA).meta.xlate_dst_ip;
  for (uint16_t i = 1; i < 15; ++i) {  // the e2e test's 15 requests, one new connection each
    g_now_s += 5;
    EXPECT_EQ(h.Run(FromPodA(kVip, 30000 + i * 13, 80), Topo::kPodA).meta.xlate_dst_ip, first);
  }
  // Past the timeout since the last connection: Maglev decides again, per connection.
  g_now_s += 126;
  std::set<uint32_t> seen;
  for (uint16_t i = 0; i < 64; ++i) {
    g_now_s += 126;  // every connection finds the previous one expired
    seen.insert(h.Run(FromPodA(kVip, 50000 + i * 7, 80), Topo::kPodA).meta.xlate_dst_ip);
  }
  EXPECT_EQ(seen.size(), 3u);
}

// The Internet checksum of `len` bytes from `p` plus a partial sum: 0 when the data is valid.
uint16_t Sum(const uint8_t* p, size_t len, uint32_t partial = 0) {
  return testing::InetChecksum(p, len, partial);
}

TEST_F(SvcLbTest, NoEndpointsRejectsTcpWithAValidReset) {
  Set(Key(kVip, 80), Entry(ServiceAddressKind::kClusterIp, {}));
  StageHarness<SvcLbStage> h(*snap_);
  const Bytes syn = Pkt()
                        .Eth(Topo::PodAMac(), Topo::GatewayMac())
                        .Ip4(Topo::PodAIp(), kVip)
                        .Tcp(40000, 80, testing::kTcpSyn, 5000)
                        .Payload("x");
  const auto out = h.Run(syn, Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA);
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 1u);
  const Bytes& b = out.bytes;
  ASSERT_EQ(b.size(), 14u + 20 + 20);
  EXPECT_TRUE(std::equal(b.begin(), b.begin() + 6, Topo::PodAMac().bytes.begin()));
  EXPECT_TRUE(std::equal(b.begin() + 6, b.begin() + 12, Topo::GatewayMac().bytes.begin()));
  const uint8_t* ip = b.data() + 14;
  EXPECT_EQ(Sum(ip, 20), 0) << "IPv4 header checksum";
  EXPECT_EQ(std::memcmp(ip + 12, &kVip.be, 4), 0) << "from the VIP the client called";
  const uint32_t pod_a = Topo::PodAIp().be;
  EXPECT_EQ(std::memcmp(ip + 16, &pod_a, 4), 0);
  const uint8_t* tcp = ip + 20;
  EXPECT_EQ((tcp[0] << 8) | tcp[1], 80);
  EXPECT_EQ((tcp[2] << 8) | tcp[3], 40000);
  EXPECT_EQ(tcp[13], kRst | testing::kTcpAck);
  const uint32_t ack = (tcp[8] << 24) | (tcp[9] << 16) | (tcp[10] << 8) | tcp[11];
  EXPECT_EQ(ack, 5000u + 1 + 1) << "SEQ + SYN + one byte of payload";
  // Pseudo-header: addresses, protocol, TCP length.
  uint32_t pseudo = 0;
  for (int i = 12; i < 20; i += 2) pseudo += (ip[i] << 8) | ip[i + 1];
  pseudo += IPPROTO_TCP + 20;
  EXPECT_EQ(Sum(tcp, 20, pseudo), 0) << "TCP checksum";
}

TEST_F(SvcLbTest, NoEndpointsRejectsUdpWithPortUnreachable) {
  Set(Key(Topo::NodeIp(), 30053, IPPROTO_UDP), Entry(ServiceAddressKind::kNodePort, {}));
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromOutside(kClient, Topo::NodeIp(), 12345, 30053, true), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  const Bytes& b = out.bytes;
  ASSERT_GE(b.size(), 14u + 20 + 8 + 28);
  const uint8_t* ip = b.data() + 14;
  EXPECT_EQ(ip[9], IPPROTO_ICMP);
  EXPECT_EQ(Sum(ip, 20), 0);
  EXPECT_EQ(std::memcmp(ip + 16, &kClient.be, 4), 0);
  const uint8_t* icmp = ip + 20;
  EXPECT_EQ(icmp[0], 3);
  EXPECT_EQ(icmp[1], 3) << "port unreachable";
  EXPECT_EQ(Sum(icmp, b.size() - 34), 0) << "ICMP checksum";
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 1u);
}

TEST_F(SvcLbTest, NonServiceTrafficIsUntouched) {
  Set(Key(kVip, 80), Entry(ServiceAddressKind::kClusterIp, {{kRemote1, false}}));
  StageHarness<SvcLbStage> h(*snap_);
  const auto out = h.Run(FromPodA(Topo::PodBIp(), 40000, 80), Topo::kPodA);
  EXPECT_EQ(out.meta.xlate_dst_ip, 0u);
  EXPECT_EQ(out.meta.xlate_src_ip, 0u);
  snap_->services = nullptr;  // no table at all: nothing to do
  EXPECT_EQ(h.Run(FromPodA(kVip, 40000, 80), Topo::kPodA).meta.xlate_dst_ip, 0u);
}

}  // namespace
}  // namespace nodeplane::dp
