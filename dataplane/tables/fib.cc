// rte_lpm_rcu_qsbr_add is still marked experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "dataplane/tables/fib.h"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <tmmintrin.h>

#include <atomic>
#include <set>

namespace nodeplane::dp {
namespace {

std::string UniqueName() {
  static std::atomic<uint64_t> seq{0};
  return "np_fib_" + std::to_string(seq.fetch_add(1));
}

std::string Errno(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

}  // namespace

Fib::~Fib() {
  if (lpm_ != nullptr) rte_lpm_free(lpm_);
}

bool Fib::Init(const Limits& limits, rte_rcu_qsbr* qsbr, std::string* error) {
  limits_ = limits;
  rte_lpm_config config{};
  config.max_rules = limits.max_routes;
  config.number_tbl8s = limits.tbl8_groups;
  const std::string name = UniqueName();
  lpm_ = rte_lpm_create(name.c_str(), static_cast<int>(rte_socket_id()), &config);
  if (lpm_ == nullptr) {
    *error = std::string("fib: rte_lpm_create: ") + rte_strerror(rte_errno);
    return false;
  }
  if (qsbr != nullptr) {
    rte_lpm_rcu_config rcu{};
    rcu.v = qsbr;
    rcu.mode = RTE_LPM_QSBR_MODE_SYNC;  // a freed tbl8 group is free again when Delete returns
    if (const int rc = rte_lpm_rcu_qsbr_add(lpm_, &rcu); rc != 0) {
      *error = "fib: rte_lpm_rcu_qsbr_add: " + Errno(rte_errno);
      rte_lpm_free(lpm_);
      lpm_ = nullptr;
      return false;
    }
  }
  return true;
}

bool Fib::Fits(const std::vector<Ip4Prefix>& routes, std::string* why) const {
  if (routes.size() > limits_.max_routes) {
    *why = std::to_string(routes.size()) + " remote pod CIDRs; the table holds " +
           std::to_string(limits_.max_routes);
    return false;
  }
  std::set<uint32_t> deep_24s;  // each /24 holding a longer prefix takes one tbl8 group
  for (const Ip4Prefix& p : routes) {
    if (p.len > 24) deep_24s.insert(p.addr.host() >> 8);
  }
  if (deep_24s.size() > limits_.tbl8_groups) {
    *why = std::to_string(deep_24s.size()) +
           " /24s hold pod CIDRs longer than /24; the table has " +
           std::to_string(limits_.tbl8_groups) + " groups for them";
    return false;
  }
  return true;
}

bool Fib::Add(const Ip4Prefix& prefix, uint32_t slot, std::string* error) {
  if (slot == kMiss || slot > kMaxSlot) {
    *error = "fib: slot out of range: " + std::to_string(slot);
    return false;
  }
  const int rc = rte_lpm_add(lpm_, prefix.addr.host(), prefix.len, slot);
  if (rc != 0) {
    *error = "fib: add " + prefix.ToString() + ": " + Errno(rc);
    return false;
  }
  return true;
}

bool Fib::Delete(const Ip4Prefix& prefix, std::string* error) {
  const int rc = rte_lpm_delete(lpm_, prefix.addr.host(), prefix.len);
  if (rc != 0) {
    *error = "fib: delete " + prefix.ToString() + ": " + Errno(rc);
    return false;
  }
  return true;
}

void Fib::LookupBulk(const uint32_t* dst_be, uint16_t n, uint32_t* slot) const noexcept {
  // Four at a time with the LPM's vector lookup (misses come back as kMiss), after swapping each
  // 32-bit lane to host order in one shuffle.
  const __m128i to_host = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  uint16_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128i be = _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst_be + i));
    rte_lpm_lookupx4(lpm_, _mm_shuffle_epi8(be, to_host), slot + i, kMiss);
  }
  for (; i < n; ++i) slot[i] = Lookup(dst_be[i]);
}

uint32_t Fib::Lookup(uint32_t dst_be) const noexcept {
  uint32_t hop = 0;
  if (rte_lpm_lookup(lpm_, rte_be_to_cpu_32(dst_be), &hop) != 0) return kMiss;
  return hop;
}

}  // namespace nodeplane::dp
