// rtnetlink message builder and attribute reader (the small part of libmnl we need).
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nodeplane::ctl::nl {

// One request: nlmsghdr + a family header (ifinfomsg, ifaddrmsg, rtmsg) + attributes. The body is
// kept apart from the nlmsghdr so the socket can fill in length and sequence number when sending.
class Request {
 public:
  template <typename FamilyHeader>
  Request(uint16_t type, uint16_t flags, const FamilyHeader& family_header)
      : type_(type), flags_(flags) {
    Append(&family_header, sizeof family_header);
  }

  void AddAttr(uint16_t type, const void* data, size_t len);
  void AddU32(uint16_t type, uint32_t value) { AddAttr(type, &value, sizeof value); }
  // Names go NUL-terminated: the kernel copies them with nla_strscpy.
  void AddString(uint16_t type, std::string_view s);

  // A nested attribute: everything added between BeginNest and EndNest (attributes, or a family
  // header with AddHeader, as in a veth peer's ifinfomsg) becomes its payload. Nests may nest.
  size_t BeginNest(uint16_t type);
  void EndNest(size_t nest);
  template <typename FamilyHeader>
  void AddHeader(const FamilyHeader& header) {
    Append(&header, sizeof header);
  }

  uint16_t type() const { return type_; }
  uint16_t flags() const { return flags_; }
  const std::string& body() const { return body_; }

 private:
  void Append(const void* data, size_t len);  // pads to NLMSG_ALIGNTO

  uint16_t type_;
  uint16_t flags_;
  std::string body_;
};

// One received message, copied out of the socket buffer (payload = bytes after the nlmsghdr).
struct Message {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  std::string payload;

  // The family header at the start of the payload; nullopt if the payload is too short.
  template <typename T>
  std::optional<T> Header() const {
    if (payload.size() < sizeof(T)) return std::nullopt;
    T out;
    std::memcpy(&out, payload.data(), sizeof(T));
    return out;
  }
};

// The attributes that follow a header of `offset` bytes (rounded up to the 4-byte alignment).
// Later duplicates win; nested attributes are left as raw bytes.
class Attrs {
 public:
  Attrs(std::string_view payload, size_t offset);

  std::optional<std::string_view> Get(uint16_t type) const;
  std::optional<uint32_t> U32(uint16_t type) const;
  std::optional<std::string> String(uint16_t type) const;  // up to the first NUL

 private:
  std::vector<std::pair<uint16_t, std::string_view>> attrs_;
};

}  // namespace nodeplane::ctl::nl
