// DropReason: why a packet left the pipeline without being sent (generated from drop_reasons.def).
#pragma once
#include <cstdint>
#include <string_view>

namespace nodeplane {

enum class DropReason : uint8_t {
#define NP_DROP_REASON(num, cpp, proto, metric, text) cpp = num,
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
};

// One more than the highest number: counters are indexed by number, and numbers are reserved in
// blocks per area, so some below it are unused ("unknown").
inline constexpr uint8_t kDropReasonCount = [] {
  int top = -1;
#define NP_DROP_REASON(num, cpp, proto, metric, text) top = (num) > top ? (num) : top;
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
  return static_cast<uint8_t>(top + 1);
}();

// Metric-style name ("ip4_bad_checksum"); "unknown" for numbers not in the table.
constexpr std::string_view DropReasonName(DropReason r) {
  switch (r) {
#define NP_DROP_REASON(num, cpp, proto, metric, text) \
  case DropReason::cpp:                    \
    return #metric;
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
  }
  return "unknown";
}

// Proto enum name ("IP4_BAD_CHECKSUM").
constexpr std::string_view DropReasonProtoName(DropReason r) {
  switch (r) {
#define NP_DROP_REASON(num, cpp, proto, metric, text) \
  case DropReason::cpp:                    \
    return #proto;
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
  }
  return "unknown";
}

constexpr std::string_view DropReasonText(DropReason r) {
  switch (r) {
#define NP_DROP_REASON(num, cpp, proto, metric, text) \
  case DropReason::cpp:                    \
    return text;
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
  }
  return "unknown";
}

}  // namespace nodeplane
