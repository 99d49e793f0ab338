// rtnetlink message builder and attribute reader.
#include "control/netns/netlink_message.h"

#include <linux/rtnetlink.h>

#include <cstddef>

namespace nodeplane::ctl::nl {

void Request::Append(const void* data, size_t len) {
  if (len > 0) body_.append(static_cast<const char*>(data), len);
  body_.resize(NLMSG_ALIGN(body_.size()), '\0');
}

void Request::AddAttr(uint16_t type, const void* data, size_t len) {
  rtattr rta{};
  rta.rta_type = type;
  rta.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  body_.append(reinterpret_cast<const char*>(&rta), sizeof rta);  // RTA_LENGTH(0) == sizeof rta
  Append(data, len);
}

void Request::AddString(uint16_t type, std::string_view s) {
  std::string z(s);
  AddAttr(type, z.c_str(), z.size() + 1);
}

size_t Request::BeginNest(uint16_t type) {
  const size_t nest = body_.size();
  AddAttr(type, nullptr, 0);
  return nest;
}

void Request::EndNest(size_t nest) {
  // The length covers the header and everything appended since (already padded, so aligned).
  const auto len = static_cast<uint16_t>(body_.size() - nest);
  std::memcpy(body_.data() + nest + offsetof(rtattr, rta_len), &len, sizeof len);
}

Attrs::Attrs(std::string_view payload, size_t offset) {
  size_t pos = NLMSG_ALIGN(offset);
  while (pos + sizeof(rtattr) <= payload.size()) {
    rtattr rta;
    std::memcpy(&rta, payload.data() + pos, sizeof rta);
    if (rta.rta_len < sizeof rta || pos + rta.rta_len > payload.size()) break;  // malformed: stop
    const uint16_t type = rta.rta_type & NLA_TYPE_MASK;
    attrs_.emplace_back(type, payload.substr(pos + sizeof rta, rta.rta_len - sizeof rta));
    pos += RTA_ALIGN(rta.rta_len);
  }
}

std::optional<std::string_view> Attrs::Get(uint16_t type) const {
  for (auto it = attrs_.rbegin(); it != attrs_.rend(); ++it) {
    if (it->first == type) return it->second;
  }
  return std::nullopt;
}

std::optional<uint32_t> Attrs::U32(uint16_t type) const {
  auto data = Get(type);
  if (!data || data->size() < sizeof(uint32_t)) return std::nullopt;
  uint32_t v;
  std::memcpy(&v, data->data(), sizeof v);
  return v;
}

std::optional<std::string> Attrs::String(uint16_t type) const {
  auto data = Get(type);
  if (!data) return std::nullopt;
  return std::string(data->substr(0, data->find('\0')));
}

}  // namespace nodeplane::ctl::nl
