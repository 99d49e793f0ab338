#include "dataplane/tables/policy_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>

namespace nodeplane::dp {
namespace {

constexpr uint32_t kMinEntries = 64;
constexpr uint32_t kMaxSet = (uint32_t{1} << 24) - 1;

std::string UniqueName(const char* what) {
  static std::atomic<uint64_t> seq{0};
  return std::string("np_pol_") + what + std::to_string(seq.fetch_add(1));
}

// (set, protocol, identity) in one 64-bit key.
inline uint64_t AllowKey(uint32_t set, PolicyProto proto, uint32_t identity) noexcept {
  return (uint64_t{set} << 40) | (uint64_t{static_cast<uint8_t>(proto)} << 32) | identity;
}

inline void* Pack(uint32_t offset, uint32_t count) {
  return reinterpret_cast<void*>((uintptr_t{offset} << 32) | count);
}

rte_hash* CreateHash(const char* what, size_t n, uint32_t key_len, std::string* error) {
  const std::string name = UniqueName(what);
  uint32_t entries = kMinEntries;
  while (entries < n * 2) entries *= 2;  // a low load factor: fewer probes per lookup
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = entries;
  params.key_len = key_len;
  params.hash_func = rte_hash_crc;
  params.socket_id = static_cast<int>(rte_socket_id());
  rte_hash* h = rte_hash_create(&params);
  if (h == nullptr) *error = std::string("policy table: rte_hash_create: ") + rte_strerror(rte_errno);
  return h;
}

}  // namespace

PolicyTable::~PolicyTable() {
  if (hosts_ != nullptr) rte_hash_free(hosts_);
  if (allows_ != nullptr) rte_hash_free(allows_);
}

bool PolicyTable::Build(const PolicySpec& spec, std::string* error) {
  if (spec.sets.size() > kMaxSet) {
    *error = "policy table: too many allow-sets";
    return false;
  }
  if (spec.sets.empty()) return true;  // nobody isolated: nothing to look up
  hosts_ = CreateHash("h", spec.hosts.size(), sizeof(uint32_t), error);
  if (hosts_ == nullptr) return false;
  for (const PolicyHostSpec& h : spec.hosts) {
    const uint32_t key = h.ip.be;
    if (rte_hash_lookup(hosts_, &key) >= 0) {
      *error = "policy table: address listed twice: " + h.ip.ToString();
      return false;
    }
    const int rc = rte_hash_add_key_data(
        hosts_, &key, reinterpret_cast<void*>(uintptr_t{host_entries_.size()}));
    if (rc != 0) {
      *error = std::string("policy table: add host: ") + rte_strerror(-rc);
      return false;
    }
    host_entries_.push_back(Host{h.identity, h.ingress_set, h.egress_set, h.node ? 1u : 0u});
  }
  for (const PolicyRangeSpec& r : spec.ranges) {
    if (!range_first_.empty() && r.first.host() <= range_first_.back()) {
      *error = "policy table: address ranges out of order";
      return false;
    }
    range_first_.push_back(r.first.host());
    range_identity_.push_back(r.identity);
  }
  if (!range_first_.empty() && range_first_.front() != 0) {
    *error = "policy table: address ranges must start at 0.0.0.0";
    return false;
  }
  for (const PolicySetSpec& s : spec.sets) {
    Set set;
    for (int p = 0; p < kPolicyProtos; ++p) {
      set.any_peer[p] = Span{static_cast<uint32_t>(ports_.size()),
                             static_cast<uint32_t>(s.any_peer[p].size())};
      ports_.insert(ports_.end(), s.any_peer[p].begin(), s.any_peer[p].end());
    }
    sets_.push_back(set);
  }
  allows_ = CreateHash("a", spec.allows.size(), sizeof(uint64_t), error);
  if (allows_ == nullptr) return false;
  for (const PolicyAllowSpec& a : spec.allows) {
    if (a.set == kNoPolicySet || a.set > sets_.size()) {
      *error = "policy table: allow row for an unknown set";
      return false;
    }
    const uint64_t key = AllowKey(a.set, a.proto, a.identity);
    const int rc = rte_hash_add_key_data(
        allows_, &key,
        Pack(static_cast<uint32_t>(ports_.size()), static_cast<uint32_t>(a.ports.size())));
    if (rc != 0) {
      *error = std::string("policy table: add allow row: ") + rte_strerror(-rc);
      return false;
    }
    ports_.insert(ports_.end(), a.ports.begin(), a.ports.end());
  }
  allow_rows_ = spec.allows.size();
  return true;
}

uint32_t PolicyTable::RangeIdentity(uint32_t ip_host) const noexcept {
  if (range_first_.empty()) return 0;
  // The last range starting at or before the address.
  const auto it = std::upper_bound(range_first_.begin(), range_first_.end(), ip_host);
  return range_identity_[static_cast<size_t>(it - range_first_.begin()) - 1];
}

void PolicyTable::LookupHosts(const uint32_t* ip_be, uint16_t n, Host* out) const noexcept {
  const void* keys[64];
  void* data[64];
  for (uint16_t i = 0; i < n; ++i) keys[i] = &ip_be[i];
  uint64_t hits = 0;
  if (n > 0 && rte_hash_lookup_bulk_data(hosts_, keys, n, &hits, data) < 0) hits = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if ((hits >> i) & 1) {
      out[i] = host_entries_[reinterpret_cast<uintptr_t>(data[i])];
    } else {
      out[i] = Host{RangeIdentity(__builtin_bswap32(ip_be[i])), kNoPolicySet, kNoPolicySet, 0};
    }
  }
}

bool PolicyTable::InSpan(Span s, uint16_t port) const noexcept {
  for (uint32_t i = 0; i < s.count; ++i) {
    const PolicyPortRange& r = ports_[s.offset + i];
    if (port < r.first) return false;  // sorted: no later range starts lower
    if (port <= r.last) return true;
  }
  return false;
}

void PolicyTable::Allowed(const Query* q, uint16_t n, bool* allowed) const noexcept {
  // Rules allowing any peer first; only what they leave undecided costs a hash lookup, and
  // consecutive questions about the same (set, identity, protocol) — a flow's packets — share one.
  uint64_t key[64];
  const void* keys[64];
  uint16_t idx[64];
  uint8_t slot[64];
  uint16_t k = 0, nk = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const Set& set = sets_[q[i].set - 1];
    allowed[i] = InSpan(set.any_peer[static_cast<uint8_t>(q[i].proto)], q[i].port);
    if (allowed[i]) continue;
    const uint64_t kk = AllowKey(q[i].set, q[i].proto, q[i].identity);
    if (nk == 0 || key[nk - 1] != kk) {
      key[nk] = kk;
      keys[nk] = &key[nk];
      ++nk;
    }
    slot[k] = static_cast<uint8_t>(nk - 1);
    idx[k++] = i;
  }
  if (k == 0 || allow_rows_ == 0) return;
  void* data[64];
  uint64_t hits = 0;
  if (rte_hash_lookup_bulk_data(allows_, keys, nk, &hits, data) < 0) hits = 0;
  for (uint16_t j = 0; j < k; ++j) {
    if (((hits >> slot[j]) & 1) == 0) continue;
    const uintptr_t packed = reinterpret_cast<uintptr_t>(data[slot[j]]);
    const Span s{static_cast<uint32_t>(packed >> 32), static_cast<uint32_t>(packed)};
    allowed[idx[j]] = InSpan(s, q[idx[j]].port);
  }
}

}  // namespace nodeplane::dp
