#include "dataplane/tables/service_table.h"

#include "dataplane/core/crc32c.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace nodeplane::dp {
namespace {

std::string UniqueName() {
  static std::atomic<uint32_t> seq{0};
  return "np_svc_" + std::to_string(seq++);
}

size_t AlignUp(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

ServiceEntry* MakeServiceEntry(const ServiceEntrySpec& spec) {
  const size_t head = AlignUp(sizeof(ServiceEntry));
  const size_t backends = AlignUp(spec.backends.size() * sizeof(ServiceBackend));
  const size_t cluster = AlignUp(spec.cluster_table.size() * sizeof(uint16_t));
  const size_t local = AlignUp(spec.local_table.size() * sizeof(uint16_t));
  const size_t ranges = spec.source_ranges.size() * sizeof(SourceRangeSpec);
  auto* block = static_cast<uint8_t*>(std::calloc(1, head + backends + cluster + local + ranges));
  if (block == nullptr) return nullptr;
  auto* e = reinterpret_cast<ServiceEntry*>(block);
  e->service_id = spec.service_id;
  e->affinity_timeout_s = spec.affinity_timeout_s;
  e->snat_ip_be = spec.snat_ip_be;
  e->cluster_slots = static_cast<uint32_t>(spec.cluster_table.size());
  e->local_slots = static_cast<uint32_t>(spec.local_table.size());
  e->n_backends = static_cast<uint16_t>(spec.backends.size());
  e->n_ranges = static_cast<uint16_t>(spec.source_ranges.size());
  e->kind = spec.kind;
  e->external_local = spec.external_local;
  e->internal_local = spec.internal_local;
  e->has_any_endpoint = spec.has_any_endpoint;
  uint8_t* p = block + head;
  auto* b = reinterpret_cast<ServiceBackend*>(p);
  for (size_t i = 0; i < spec.backends.size(); ++i) {
    b[i] = ServiceBackend{spec.backends[i].ip_be, spec.backends[i].port_be, 0, 0,
                          spec.backends[i].remote_node};
  }
  // Set membership from the Maglev tables (what affinity checks a remembered backend against).
  for (uint16_t i : spec.cluster_table) b[i].in_cluster = 1;
  for (uint16_t i : spec.local_table) b[i].local = 1;
  e->backends = b;
  p += backends;
  std::memcpy(p, spec.cluster_table.data(), spec.cluster_table.size() * sizeof(uint16_t));
  e->cluster_table = reinterpret_cast<const uint16_t*>(p);
  p += cluster;
  std::memcpy(p, spec.local_table.data(), spec.local_table.size() * sizeof(uint16_t));
  e->local_table = reinterpret_cast<const uint16_t*>(p);
  p += local;
  std::memcpy(p, spec.source_ranges.data(), ranges);
  e->ranges = reinterpret_cast<const SourceRangeSpec*>(p);
  return e;
}

void FreeServiceEntry(ServiceEntry* e) { std::free(e); }

ServiceTable::~ServiceTable() {
  if (hash_ != nullptr) {
    const void* key;
    void* data;
    uint32_t next = 0;
    while (rte_hash_iterate(hash_, &key, &data, &next) >= 0) {
      FreeServiceEntry(static_cast<ServiceEntry*>(data));
    }
    rte_hash_free(hash_);
  }
  for (ServiceEntry* e : retired_) FreeServiceEntry(e);
}

bool ServiceTable::Init(uint32_t capacity, rte_rcu_qsbr* qsbr, std::string* error) {
  const std::string name = UniqueName();
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity < 64 ? 64 : capacity;
  params.key_len = sizeof(ServiceTableKey);
  // CRC32-C: one instruction for the 8-byte key, and workers compute it inline (LookupBulk).
  params.hash_func = rte_hash_crc;
  params.socket_id = static_cast<int>(rte_socket_id());
  // Lock-free readers while control writes; the extendable bucket table makes every insert up to
  // `entries` succeed, which Fits() promises.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ == nullptr) {
    *error = std::string("service table: rte_hash_create: ") + rte_strerror(rte_errno);
    return false;
  }
  capacity_ = params.entries;
  qsbr_ = qsbr;
  return true;
}

bool ServiceTable::Set(const ServiceTableKey& key, const ServiceEntrySpec& spec,
                       std::string* error) {
  void* old = nullptr;
  const bool exists = rte_hash_lookup_data(hash_, &key, &old) >= 0;
  if (!exists && size_ >= capacity_) {
    *error = "service table: full";
    return false;
  }
  ServiceEntry* e = MakeServiceEntry(spec);
  if (e == nullptr) {
    *error = "service table: out of memory";
    return false;
  }
  const int rc = rte_hash_add_key_data(hash_, &key, e);
  if (rc != 0) {
    FreeServiceEntry(e);
    *error = std::string("service table: add: ") + rte_strerror(-rc);
    return false;
  }
  if (exists) {
    retired_.push_back(static_cast<ServiceEntry*>(old));
  } else {
    ++size_;
  }
  return true;
}

void ServiceTable::Delete(const ServiceTableKey& key) {
  void* old = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &old) < 0) return;
  const int32_t pos = rte_hash_del_key(hash_, &key);
  if (pos < 0) return;
  retired_.push_back(static_cast<ServiceEntry*>(old));
  freed_slots_.push_back(pos);
  --size_;
}

void ServiceTable::StartGrace() {
  if (qsbr_ == nullptr || (retired_.empty() && freed_slots_.empty())) return;
  grace_token_ = rte_rcu_qsbr_start(qsbr_);
  grace_covers_ = retired_.size() + freed_slots_.size();
}

void ServiceTable::Reclaim() {
  if (retired_.empty() && freed_slots_.empty()) return;
  if (qsbr_ != nullptr) {
    // The token started earlier covers everything only if nothing was replaced since.
    const bool covered = grace_covers_ != 0 && grace_covers_ == retired_.size() + freed_slots_.size();
    rte_rcu_qsbr_check(qsbr_, covered ? grace_token_ : rte_rcu_qsbr_start(qsbr_), true);
  }
  grace_covers_ = 0;
  // With RW_CONCURRENCY_LF a deleted key's slot is not reused until released explicitly.
  for (int32_t pos : freed_slots_) rte_hash_free_key_with_position(hash_, pos);
  for (ServiceEntry* e : retired_) FreeServiceEntry(e);
  retired_.clear();
  freed_slots_.clear();
}

void ServiceTable::LookupBulk(const ServiceTableKey* keys, uint16_t n,
                              const ServiceEntry** entry) const noexcept {
  const void* k[64];
  hash_sig_t sig[64];
  void* data[64];
  for (uint16_t i = 0; i < n; ++i) {
    k[i] = &keys[i];
    sig[i] = Crc32c(&keys[i], sizeof(keys[i]), 0);
  }
  uint64_t hits = 0;
  if (n > 0 && rte_hash_lookup_with_hash_bulk_data(hash_, k, sig, n, &hits, data) < 0) hits = 0;
  for (uint16_t i = 0; i < n; ++i) {
    entry[i] = ((hits >> i) & 1) ? static_cast<const ServiceEntry*>(data[i]) : nullptr;
  }
}

const ServiceEntry* ServiceTable::Lookup(const ServiceTableKey& key) const noexcept {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) return nullptr;
  return static_cast<const ServiceEntry*>(data);
}

}  // namespace nodeplane::dp
