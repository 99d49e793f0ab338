// Pkt: the test frame builder. Checksums are computed here from first principles (RFC 1071), never
// with DPDK's helpers, so a test compares the dataplane against an independent computation.
#include "dataplane/testing/packet_builder.h"

#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp::testing {
namespace {

void Put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

void Put32(Bytes& b, size_t off, uint32_t v) {
  Put16(b, off, static_cast<uint16_t>(v >> 16));
  Put16(b, off + 2, static_cast<uint16_t>(v));
}

void PutIp(Bytes& b, size_t off, Ip4 ip) { Put32(b, off, ip.host()); }

void PutMac(Bytes& b, size_t off, const Mac& m) {
  std::memcpy(b.data() + off, m.bytes.data(), m.bytes.size());
}

uint32_t PseudoHeaderSum(Ip4 src, Ip4 dst, uint8_t proto, size_t l4_len) {
  const uint32_t s = src.host(), d = dst.host();
  return (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto +
         static_cast<uint32_t>(l4_len);
}

}  // namespace

Ip4 A(std::string_view dotted) {
  const auto ip = Ip4::Parse(dotted);
  if (!ip) {
    std::fprintf(stderr, "test literal is not an IPv4 address: %.*s\n",
                 static_cast<int>(dotted.size()), dotted.data());
    std::abort();
  }
  return *ip;
}

Mac M(std::string_view colon_hex) {
  const auto mac = Mac::Parse(colon_hex);
  if (!mac) {
    std::fprintf(stderr, "test literal is not a MAC address: %.*s\n",
                 static_cast<int>(colon_hex.size()), colon_hex.data());
    std::abort();
  }
  return *mac;
}

uint16_t InetChecksum(const uint8_t* data, size_t len, uint32_t partial) {
  uint64_t sum = partial;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (len % 2 != 0) sum += uint32_t{data[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Pkt& Pkt::Eth(Mac src, Mac dst) {
  eth_src_ = src;
  eth_dst_ = dst;
  return *this;
}
Pkt& Pkt::EthType(uint16_t type) {
  eth_type_ = type;
  return *this;
}

Pkt& Pkt::ArpRequest(Mac sha, nodeplane::Ip4 sip, nodeplane::Ip4 tip) {
  l3_ = L3::kArp;
  arp_op_ = 1;
  arp_sha_ = sha;
  arp_sip_ = sip;
  arp_tha_ = Mac{};
  arp_tip_ = tip;
  return *this;
}
Pkt& Pkt::ArpReply(Mac sha, nodeplane::Ip4 sip, Mac tha, nodeplane::Ip4 tip) {
  l3_ = L3::kArp;
  arp_op_ = 2;
  arp_sha_ = sha;
  arp_sip_ = sip;
  arp_tha_ = tha;
  arp_tip_ = tip;
  return *this;
}
Pkt& Pkt::ArpHardware(uint16_t hrd) {
  arp_hrd_ = hrd;
  return *this;
}
Pkt& Pkt::ArpProtocolLength(uint8_t plen) {
  arp_plen_ = plen;
  return *this;
}

Pkt& Pkt::Ip4(nodeplane::Ip4 src, nodeplane::Ip4 dst) {
  l3_ = L3::kIp4;
  ip_src_ = src;
  ip_dst_ = dst;
  return *this;
}
Pkt& Pkt::Ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}
Pkt& Pkt::Tos(uint8_t tos) {
  tos_ = tos;
  return *this;
}
Pkt& Pkt::Id(uint16_t id) {
  id_ = id;
  return *this;
}
Pkt& Pkt::DontFragment() {
  frag_ |= 0x4000;
  return *this;
}
Pkt& Pkt::FragmentOffset(uint16_t units, bool more_fragments) {
  frag_ =
      static_cast<uint16_t>((frag_ & 0x4000) | (more_fragments ? 0x2000 : 0) | (units & 0x1fff));
  return *this;
}
Pkt& Pkt::Ip4Options(Bytes options) {
  ip_options_ = std::move(options);
  return *this;
}
Pkt& Pkt::Ip4Proto(uint8_t proto) {
  ip_proto_ = proto;
  l4_ = L4::kNone;
  return *this;
}

Pkt& Pkt::Udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::kUdp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}
Pkt& Pkt::Tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack) {
  l4_ = L4::kTcp;
  sport_ = sport;
  dport_ = dport;
  tcp_flags_ = flags;
  tcp_seq_ = seq;
  tcp_ack_ = ack;
  return *this;
}
Pkt& Pkt::IcmpEcho(uint16_t id, uint16_t seq) { return Icmp(8, 0, (uint32_t{id} << 16) | seq); }
Pkt& Pkt::Icmp(uint8_t type, uint8_t code, uint32_t rest_of_header) {
  l4_ = L4::kIcmp;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest_of_header;
  return *this;
}
Pkt& Pkt::Payload(Bytes payload) {
  payload_ = std::move(payload);
  return *this;
}
Pkt& Pkt::Payload(std::string_view text) { return Payload(Bytes(text.begin(), text.end())); }

Pkt& Pkt::BadIp4Checksum() {
  bad_checksum_ = true;
  return *this;
}
Pkt& Pkt::Ip4Version(uint8_t version) {
  version_ = version;
  return *this;
}
Pkt& Pkt::Ihl(uint8_t words) {
  ihl_ = words;
  return *this;
}
Pkt& Pkt::TotalLength(uint16_t bytes) {
  total_length_ = bytes;
  return *this;
}
Pkt& Pkt::TruncateTo(size_t frame_len) {
  truncate_to_ = frame_len;
  return *this;
}
Pkt& Pkt::PadTo(size_t frame_len) {
  pad_to_ = frame_len;
  return *this;
}

Bytes Pkt::BuildArp() const {
  Bytes b(28);
  Put16(b, 0, arp_hrd_);
  Put16(b, 2, kEthTypeIp4);
  b[4] = 6;
  b[5] = arp_plen_;
  Put16(b, 6, arp_op_);
  PutMac(b, 8, arp_sha_);
  PutIp(b, 14, arp_sip_);
  PutMac(b, 18, arp_tha_);
  PutIp(b, 24, arp_tip_);
  return b;
}

Bytes Pkt::BuildL4() const {
  Bytes b;
  switch (l4_) {
    case L4::kNone:
      return payload_;
    case L4::kUdp: {
      b.resize(8);
      Put16(b, 0, sport_);
      Put16(b, 2, dport_);
      Put16(b, 4, static_cast<uint16_t>(8 + payload_.size()));
      b.insert(b.end(), payload_.begin(), payload_.end());
      uint16_t sum =
          InetChecksum(b.data(), b.size(), PseudoHeaderSum(ip_src_, ip_dst_, kProtoUdp, b.size()));
      Put16(b, 6, sum == 0 ? 0xffff : sum);  // RFC 768: a computed zero is sent as all ones
      return b;
    }
    case L4::kTcp: {
      b.resize(20);
      Put16(b, 0, sport_);
      Put16(b, 2, dport_);
      Put32(b, 4, tcp_seq_);
      Put32(b, 8, tcp_ack_);
      b[12] = 5 << 4;
      b[13] = tcp_flags_;
      Put16(b, 14, 65535);
      b.insert(b.end(), payload_.begin(), payload_.end());
      Put16(
          b, 16,
          InetChecksum(b.data(), b.size(), PseudoHeaderSum(ip_src_, ip_dst_, kProtoTcp, b.size())));
      return b;
    }
    case L4::kIcmp: {
      b.resize(8);
      b[0] = icmp_type_;
      b[1] = icmp_code_;
      Put32(b, 4, icmp_rest_);
      b.insert(b.end(), payload_.begin(), payload_.end());
      Put16(b, 2, InetChecksum(b.data(), b.size()));
      return b;
    }
  }
  return b;
}

Bytes Pkt::BuildIp4() const {
  const Bytes l4 = BuildL4();
  const size_t hlen = 20 + ip_options_.size();
  Bytes b(hlen);
  const uint8_t ihl = ihl_.value_or(static_cast<uint8_t>(hlen / 4));
  b[0] = static_cast<uint8_t>((version_.value_or(4) << 4) | (ihl & 0xf));
  b[1] = tos_;
  Put16(b, 2, total_length_.value_or(static_cast<uint16_t>(hlen + l4.size())));
  Put16(b, 4, id_);
  Put16(b, 6, frag_);
  b[8] = ttl_;
  uint8_t proto = 0;
  switch (l4_) {
    case L4::kNone:
      proto = ip_proto_.value_or(0xfd);  // 253: "use for experimentation"
      break;
    case L4::kUdp:
      proto = kProtoUdp;
      break;
    case L4::kTcp:
      proto = kProtoTcp;
      break;
    case L4::kIcmp:
      proto = kProtoIcmp;
      break;
  }
  b[9] = proto;
  PutIp(b, 12, ip_src_);
  PutIp(b, 16, ip_dst_);
  std::copy(ip_options_.begin(), ip_options_.end(), b.begin() + 20);
  uint16_t sum = InetChecksum(b.data(), hlen);
  if (bad_checksum_) sum = static_cast<uint16_t>(sum + 1);
  Put16(b, 10, sum);
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

Bytes Pkt::Build() const {
  Bytes l3;
  uint16_t type = 0x88b5;  // IEEE "local experimental" when there is no L3
  switch (l3_) {
    case L3::kNone:
      l3 = payload_;
      break;
    case L3::kArp:
      l3 = BuildArp();
      type = kEthTypeArp;
      break;
    case L3::kIp4:
      l3 = BuildIp4();
      type = kEthTypeIp4;
      break;
  }
  Bytes f(14 + l3.size());
  PutMac(f, 0, eth_dst_);
  PutMac(f, 6, eth_src_);
  Put16(f, 12, eth_type_.value_or(type));
  if (!l3.empty()) std::memcpy(f.data() + 14, l3.data(), l3.size());
  if (pad_to_ && f.size() < *pad_to_) f.resize(*pad_to_, 0);
  if (truncate_to_ && f.size() > *truncate_to_) f.resize(*truncate_to_);
  return f;
}

rte_mbuf* ToMbuf(const Bytes& frame, uint16_t in_port) {
  rte_mbuf* m = rte_pktmbuf_alloc(Eal().pool);
  if (m == nullptr || frame.size() > rte_pktmbuf_tailroom(m)) {
    std::fprintf(stderr, "test mbuf pool exhausted or frame too long (%zu bytes)\n", frame.size());
    std::abort();
  }
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (!frame.empty()) std::memcpy(data, frame.data(), frame.size());
  m->port = in_port;
  return m;
}

Bytes FromMbuf(const rte_mbuf* m) {
  Bytes b(rte_pktmbuf_pkt_len(m));
  if (!b.empty()) {
    const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(b.size()), b.data());
    if (p != b.data()) std::memcpy(b.data(), p, b.size());
  }
  return b;
}

std::string Hex(const Bytes& b) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < b.size(); ++i) {
    if (i % 16 == 0) {
      std::snprintf(buf, sizeof(buf), "\n%04zx:", i);
      out += buf;
    }
    std::snprintf(buf, sizeof(buf), " %02x", b[i]);
    out += buf;
  }
  return out;
}

std::string FirstDifference(const Bytes& expected, const Bytes& actual) {
  const size_t n = std::min(expected.size(), actual.size());
  for (size_t i = 0; i < n; ++i) {
    if (expected[i] != actual[i]) {
      char buf[128];
      std::snprintf(buf, sizeof(buf), "first difference at byte %zu: expected 0x%02x, got 0x%02x",
                    i, expected[i], actual[i]);
      return std::string(buf) + "\nexpected:" + Hex(expected) + "\nactual:" + Hex(actual);
    }
  }
  if (expected.size() != actual.size()) {
    return "length differs: expected " + std::to_string(expected.size()) + " bytes, got " +
           std::to_string(actual.size()) + "\nexpected:" + Hex(expected) +
           "\nactual:" + Hex(actual);
  }
  return "";
}

::testing::AssertionResult SameFrame(const Bytes& expected, const Bytes& actual) {
  const std::string diff = FirstDifference(expected, actual);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "frames differ: " << diff;
}

}  // namespace nodeplane::dp::testing
