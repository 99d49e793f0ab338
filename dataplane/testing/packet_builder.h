// Pkt: builds test frames byte by byte (Ethernet, ARP, IPv4, ICMP, UDP, TCP) with checksums
// computed here, independently of the code under test, plus knobs that break a frame on purpose.
#pragma once
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodeplane/addr.h"

namespace nodeplane::dp::testing {

using Bytes = std::vector<uint8_t>;

inline constexpr uint16_t kEthTypeIp4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeIp6 = 0x86dd;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpAck = 0x10;

// Parses or aborts the test binary: for literals in tests only.
Ip4 A(std::string_view dotted);
Mac M(std::string_view colon_hex);

// RFC 1071 Internet checksum of `data` read as big-endian 16-bit words, continuing from `partial`
// (a sum of such words, e.g. a pseudo-header). Returns the value to store big-endian.
uint16_t InetChecksum(const uint8_t* data, size_t len, uint32_t partial = 0);

class Pkt {
 public:
  Pkt() = default;

  // Ethernet. The type follows from the next layer unless EthType() forces one.
  Pkt& Eth(Mac src, Mac dst);
  Pkt& EthType(uint16_t type);

  // ARP (Ethernet/IPv4). Requests carry tha = 00:00:00:00:00:00.
  Pkt& ArpRequest(Mac sha, Ip4 sip, Ip4 tip);
  Pkt& ArpReply(Mac sha, Ip4 sip, Mac tha, Ip4 tip);
  Pkt& ArpHardware(uint16_t hrd);  // break it: not Ethernet
  Pkt& ArpProtocolLength(uint8_t plen);

  // IPv4. Defaults: TTL 64, TOS 0, id 0, no flags, header checksum correct.
  Pkt& Ip4(nodeplane::Ip4 src, nodeplane::Ip4 dst);
  Pkt& Ttl(uint8_t ttl);
  Pkt& Tos(uint8_t tos);
  Pkt& Id(uint16_t id);
  Pkt& DontFragment();
  Pkt& FragmentOffset(uint16_t eight_byte_units, bool more_fragments = false);
  Pkt& Ip4Options(Bytes options);  // a multiple of 4 bytes
  Pkt& Ip4Proto(uint8_t proto);    // raw payload with this protocol number (no L4 header)

  // L4. The payload follows the L4 header (or the IPv4 header after Ip4Proto()).
  Pkt& Udp(uint16_t sport, uint16_t dport);
  Pkt& Tcp(uint16_t sport, uint16_t dport, uint8_t flags = kTcpSyn, uint32_t seq = 1000,
           uint32_t ack = 0);
  Pkt& IcmpEcho(uint16_t id, uint16_t seq);  // echo request
  Pkt& Icmp(uint8_t type, uint8_t code, uint32_t rest_of_header = 0);
  Pkt& Payload(Bytes payload);
  Pkt& Payload(std::string_view text);

  // Breakage.
  Pkt& BadIp4Checksum();             // the correct checksum, off by one
  Pkt& Ip4Version(uint8_t version);  // applied before the checksum is computed
  Pkt& Ihl(uint8_t words);           // applied before the checksum is computed
  Pkt& TotalLength(uint16_t bytes);  // applied before the checksum is computed
  Pkt& TruncateTo(size_t frame_len);
  Pkt& PadTo(size_t frame_len);  // Ethernet padding with zero bytes

  Bytes Build() const;
  operator Bytes() const { return Build(); }  // NOLINT: lets tests pass a Pkt where Bytes go

 private:
  enum class L3 { kNone, kArp, kIp4 };
  enum class L4 { kNone, kUdp, kTcp, kIcmp };

  Bytes BuildArp() const;
  Bytes BuildIp4() const;
  Bytes BuildL4() const;

  Mac eth_src_ = Mac{{0x02, 0, 0, 0, 0, 0x01}};
  Mac eth_dst_ = Mac{{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}};
  std::optional<uint16_t> eth_type_;

  L3 l3_ = L3::kNone;
  // ARP
  uint16_t arp_hrd_ = 1;
  uint8_t arp_plen_ = 4;
  uint16_t arp_op_ = 1;
  Mac arp_sha_, arp_tha_;
  nodeplane::Ip4 arp_sip_, arp_tip_;
  // IPv4
  nodeplane::Ip4 ip_src_, ip_dst_;
  uint8_t ttl_ = 64;
  uint8_t tos_ = 0;
  uint16_t id_ = 0;
  uint16_t frag_ = 0;  // flags + offset, host order
  Bytes ip_options_;
  std::optional<uint8_t> ip_proto_;
  bool bad_checksum_ = false;
  std::optional<uint8_t> version_, ihl_;
  std::optional<uint16_t> total_length_;
  // L4
  L4 l4_ = L4::kNone;
  uint16_t sport_ = 0, dport_ = 0;
  uint8_t tcp_flags_ = 0;
  uint32_t tcp_seq_ = 0, tcp_ack_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  Bytes payload_;
  // Frame
  std::optional<size_t> truncate_to_, pad_to_;
};

// Mbufs from the test pool (TestEal). ToMbuf aborts the test binary if the pool is empty.
rte_mbuf* ToMbuf(const Bytes& frame, uint16_t in_port);
Bytes FromMbuf(const rte_mbuf* m);

// Readable dump for assertion messages: offsets and hex, 16 bytes a line.
std::string Hex(const Bytes& b);
// "" when equal, else where they first differ and both lengths.
std::string FirstDifference(const Bytes& expected, const Bytes& actual);
// For EXPECT_TRUE(SameFrame(want, got)): on failure, the first differing byte and both hex dumps.
::testing::AssertionResult SameFrame(const Bytes& expected, const Bytes& actual);

}  // namespace nodeplane::dp::testing
