#include "nodeplane/addr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace nodeplane {

std::optional<Ip4> Ip4::Parse(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  char buf[16];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return Ip4{a.s_addr};
}

std::string Ip4::ToString() const {
  char buf[INET_ADDRSTRLEN];
  in_addr a{be};
  inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

std::optional<Ip4Prefix> Ip4Prefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto ip = Ip4::Parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  unsigned len = 32;
  if (slash != std::string_view::npos) {
    const std::string_view l = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), len);
    if (ec != std::errc() || end != l.data() + l.size() || l.empty() || len > 32) return std::nullopt;
  }
  Ip4Prefix p{*ip, static_cast<uint8_t>(len)};
  const uint32_t host_bits = len == 32 ? 0 : ~uint32_t{0} >> len;
  if ((ip->host() & host_bits) != 0) return std::nullopt;
  return p;
}

std::string Ip4Prefix::ToString() const { return addr.ToString() + "/" + std::to_string(len); }

std::optional<Mac> Mac::Parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac m;
  for (int i = 0; i < 6; ++i) {
    const char* p = text.data() + i * 3;
    if (i < 5 && p[2] != ':') return std::nullopt;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p, p + 2, v, 16);
    if (ec != std::errc() || end != p + 2) return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::string Mac::ToString() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

}  // namespace nodeplane
