// Address value types shared by the dataplane and the control plane. Dependency-light: no DPDK,
// no protobuf. IPv4 addresses are kept in network byte order, as they sit in the packet.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nodeplane {

struct Ip4 {
  uint32_t be = 0;  // network byte order

  static std::optional<Ip4> Parse(std::string_view text);
  std::string ToString() const;
  static constexpr Ip4 FromHost(uint32_t host_order) { return Ip4{__builtin_bswap32(host_order)}; }
  constexpr uint32_t host() const { return __builtin_bswap32(be); }
  friend constexpr bool operator==(Ip4, Ip4) = default;
  friend constexpr auto operator<=>(const Ip4& a, const Ip4& b) { return a.host() <=> b.host(); }
};

struct Ip4Prefix {
  Ip4 addr;
  uint8_t len = 32;

  // "10.244.1.0/24"; a bare address means /32. Rejects host bits set beyond the length.
  static std::optional<Ip4Prefix> Parse(std::string_view text);
  std::string ToString() const;
  bool Contains(Ip4 ip) const {
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return (ip.host() & mask) == (addr.host() & mask);
  }
  // True when the two share any address (one contains the other's network address).
  bool Overlaps(const Ip4Prefix& o) const { return Contains(o.addr) || o.Contains(addr); }
  friend constexpr bool operator==(const Ip4Prefix&, const Ip4Prefix&) = default;
  // By address, then length: a total order, so prefixes can key ordered maps.
  friend constexpr auto operator<=>(const Ip4Prefix& a, const Ip4Prefix& b) {
    if (auto c = a.addr <=> b.addr; c != 0) return c;
    return a.len <=> b.len;
  }
};

struct Mac {
  std::array<uint8_t, 6> bytes{};

  static std::optional<Mac> Parse(std::string_view text);  // "02:00:00:00:00:01"
  std::string ToString() const;
  // Neither a group (multicast/broadcast) address nor all zeros: usable as a frame's source.
  constexpr bool IsUnicast() const { return (bytes[0] & 1) == 0 && *this != Mac{}; }
  friend constexpr bool operator==(const Mac&, const Mac&) = default;
};

}  // namespace nodeplane
