// Counter: worker event counters that are not drops (generated from counters.def).
#pragma once
#include <cstdint>
#include <string_view>

namespace nodeplane {

enum class Counter : uint8_t {
#define NP_COUNTER(num, cpp, metric, text) cpp = num,
#include "nodeplane/counters.def"
#undef NP_COUNTER
};

inline constexpr uint8_t kCounterCount = 0
#define NP_COUNTER(num, cpp, metric, text) +1
#include "nodeplane/counters.def"
#undef NP_COUNTER
    ;

constexpr std::string_view CounterName(Counter c) {
  switch (c) {
#define NP_COUNTER(num, cpp, metric, text) \
  case Counter::cpp:                       \
    return #metric;
#include "nodeplane/counters.def"
#undef NP_COUNTER
  }
  return "unknown";
}

}  // namespace nodeplane
