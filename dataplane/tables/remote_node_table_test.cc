// Unit tests of the remote node table: the precomputed 50-byte VXLAN outer header matches a header
// built by hand (RFC 791/768/7348), its IPv4 checksum is the one for total length 0, an unresolved
// next hop leaves the Ethernet destination zero, and slots are looked up safely.
#include "dataplane/tables/remote_node_table.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/stages/overlay_testing.h"
#include "dataplane/testing/packet_builder.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::Overlay;
using testing::Topo;

RemoteNodeSpec NodeB() { return testing::OverlayTopologySpec().remote_nodes[0]; }
RemoteNodeSpec NodeC() { return testing::OverlayTopologySpec().remote_nodes[1]; }

Bytes Template(const RemoteNodeSpec& node) {
  Bytes out(kVxlanEncapLen);
  BuildVxlanTemplate(testing::OverlayTopologySpec().overlay, Topo::UplinkMac(), node, out.data());
  return out;
}

TEST(VxlanTemplate, IsTheHandBuiltOuterHeaderWithLengthsAndSourcePortZero) {
  testing::OuterFields o;
  o.eth_src = Topo::UplinkMac();
  o.eth_dst = Overlay::NodeBMac();
  o.ip_src = Topo::NodeIp();
  o.ip_dst = Overlay::NodeBIp();
  o.sport = 0;
  Bytes want = testing::VxlanFrame({}, o);  // lengths for an empty payload: 36 and 16
  // The template leaves the lengths 0 and carries the checksum for total length 0.
  want[16] = want[17] = 0;
  want[38] = want[39] = 0;
  want[24] = want[25] = 0;
  const uint16_t sum = testing::InetChecksum(want.data() + 14, 20);
  want[24] = static_cast<uint8_t>(sum >> 8);
  want[25] = static_cast<uint8_t>(sum);
  EXPECT_TRUE(testing::SameFrame(want, Template(NodeB())));
}

TEST(VxlanTemplate, CarriesTheNodesPortAndVniAndTtl64WithDfClear) {
  RemoteNodeSpec b = NodeB();
  b.udp_port = 8472;  // Flannel's
  b.vni = 0xabcdef;
  const Bytes t = Template(b);
  EXPECT_EQ(t[22], 64) << "TTL";
  EXPECT_EQ(t[20] & 0x40, 0) << "DF clear";
  EXPECT_EQ(t[23], testing::kProtoUdp);
  EXPECT_EQ((t[36] << 8) | t[37], 8472);
  EXPECT_EQ(t[40], 0);
  EXPECT_EQ(t[41], 0) << "UDP checksum 0 (RFC 7348 over IPv4)";
  EXPECT_EQ(t[42], 0x08) << "I flag only";
  EXPECT_EQ(t[46], 0xab);
  EXPECT_EQ(t[47], 0xcd);
  EXPECT_EQ(t[48], 0xef);
  EXPECT_EQ(t[49], 0) << "reserved";
}

TEST(VxlanTemplate, UnresolvedNextHopLeavesTheDestinationMacZero) {
  const Bytes t = Template(NodeC());
  EXPECT_EQ(Bytes(t.begin(), t.begin() + 6), Bytes(6, 0));
}

TEST(RemoteNodeTable, FindsNodesBySlotAndNothingElse) {
  testing::Eal();
  RemoteNodeTable table;
  std::string error;
  const SnapshotSpec spec = testing::OverlayTopologySpec();
  ASSERT_TRUE(table.Build(spec.overlay, Topo::UplinkMac(), spec.remote_nodes, &error)) << error;
  EXPECT_EQ(table.size(), 2u);
  ASSERT_NE(table.Find(Overlay::kSlotB), nullptr);
  EXPECT_TRUE(table.Find(Overlay::kSlotB)->resolved);
  EXPECT_EQ(table.Find(Overlay::kSlotB)->underlay_ip(), Overlay::NodeBIp().be);
  EXPECT_EQ(table.Find(Overlay::kSlotB)->vtep_mac, Overlay::NodeBVtepMac().bytes);
  ASSERT_NE(table.Find(Overlay::kSlotC), nullptr);
  EXPECT_FALSE(table.Find(Overlay::kSlotC)->resolved);
  EXPECT_EQ(table.Find(0), nullptr) << "slot 0 means no remote node";
  EXPECT_EQ(table.Find(3), nullptr);
  EXPECT_EQ(table.Find(0xffffffff), nullptr);
}

TEST(RemoteNodeTable, SparseSlotsLeaveTheGapsEmpty) {
  RemoteNodeTable table;
  std::string error;
  RemoteNodeSpec b = NodeB();
  b.slot = 9;
  ASSERT_TRUE(table.Build(testing::OverlayTopologySpec().overlay, Topo::UplinkMac(), {b}, &error))
      << error;
  EXPECT_NE(table.Find(9), nullptr);
  for (uint32_t s = 0; s < 9; ++s) EXPECT_EQ(table.Find(s), nullptr) << s;
}

TEST(RemoteNodeTable, RejectsSlotZeroOutOfRangeAndDuplicates) {
  const OverlaySpec overlay = testing::OverlayTopologySpec().overlay;
  std::string error;
  RemoteNodeSpec zero = NodeB();
  zero.slot = 0;
  EXPECT_FALSE(RemoteNodeTable().Build(overlay, Topo::UplinkMac(), {zero}, &error));
  RemoteNodeSpec big = NodeB();
  big.slot = 1u << 24;
  EXPECT_FALSE(RemoteNodeTable().Build(overlay, Topo::UplinkMac(), {big}, &error));
  RemoteNodeSpec twice = NodeC();
  twice.slot = NodeB().slot;
  EXPECT_FALSE(RemoteNodeTable().Build(overlay, Topo::UplinkMac(), {NodeB(), twice}, &error));
  EXPECT_NE(error.find("twice"), std::string::npos) << error;
}

}  // namespace
}  // namespace nodeplane::dp
