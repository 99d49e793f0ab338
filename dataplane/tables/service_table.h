// ServiceTable: (VIP, port, protocol) → what svc_lb does with a new connection there — for
// ClusterIPs, externalIPs, load-balancer IPs, and NodePorts on every node address.
//
// Who writes it: the control thread (control/daemon/service_applier.cc), per key, in place.
// Who reads it: workers, through Snapshot::services — svc_lb, one bulk lookup per burst.
// Lifetime: one per process, created at start-up, destroyed after the last Snapshot that refers to
// it. Like the Fib it is not rebuilt per generation: a change to one Service touches only that
// Service's keys, whatever the number of Services.
//
// Publication, per key: the hash is a lock-free rte_hash (RW_CONCURRENCY_LF) whose values are
// pointers to immutable, flat ServiceEntry blocks. Set() builds the new block, then swaps the
// pointer in one store; the old block (and a deleted key's slot) is reclaimed only after an RCU
// grace period (Reclaim()), so a worker holding the old pointer for the rest of its burst is safe.
// Capacity is fixed at start-up; Fits() says beforehand whether a change would fit, so nothing
// fails once a change is being applied.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables/service_entry_spec.h"

struct rte_hash;
struct rte_rcu_qsbr;

namespace nodeplane::dp {

struct ServiceBackend {
  uint32_t ip_be;
  uint16_t port_be;
  uint8_t local;       // in the local set (this node's, as endpoint selection chose them)
  uint8_t in_cluster;  // in the cluster set
  uint8_t remote_node;  // another node's own address (ServiceBackendSpec::remote_node)
};

// One flat, immutable block: the header, then backends, Maglev tables and source ranges.
struct ServiceEntry {
  uint32_t service_id;
  uint32_t affinity_timeout_s;  // 0: none
  uint32_t snat_ip_be;
  uint32_t cluster_slots;       // Maglev table lengths (0: empty set)
  uint32_t local_slots;
  uint16_t n_backends;
  uint16_t n_ranges;
  ServiceAddressKind kind;
  bool external_local;
  bool internal_local;
  bool has_any_endpoint;
  const ServiceBackend* backends;
  const uint16_t* cluster_table;
  const uint16_t* local_table;
  const SourceRangeSpec* ranges;
};

class ServiceTable {
 public:
  ServiceTable() = default;
  ~ServiceTable();
  ServiceTable(const ServiceTable&) = delete;
  ServiceTable& operator=(const ServiceTable&) = delete;

  // Control thread, at start-up. `capacity`: keys (VIP:port and NodePort × node address pairs).
  // `qsbr`: the process's RCU variable; nullptr only where no worker reads concurrently (tests).
  bool Init(uint32_t capacity, rte_rcu_qsbr* qsbr, std::string* error);

  // Control thread. Would the table hold `keys` keys in total?
  bool Fits(size_t keys) const { return keys <= capacity_; }
  // Control thread. Adds or replaces the key's entry (old entry kept for Reclaim). False only on a
  // key beyond capacity or no memory: the table is unchanged then.
  bool Set(const ServiceTableKey& key, const ServiceEntrySpec& spec, std::string* error);
  // Control thread. Removes the key (its entry and slot kept for Reclaim); unknown keys: no-op.
  void Delete(const ServiceTableKey& key);
  // Control thread. Waits for one grace period, then frees what Set and Delete replaced.
  void Reclaim();
  // Control thread. Starts the grace period for what Set and Delete replaced so far, without
  // waiting; if nothing is replaced after it, Reclaim() waits only for what is left of it —
  // nothing, when another grace period (a snapshot's publication) has passed in between.
  void StartGrace();

  // Worker. n <= 64 keys → entry[i], nullptr where none.
  void LookupBulk(const ServiceTableKey* keys, uint16_t n, const ServiceEntry** entry) const noexcept;
  const ServiceEntry* Lookup(const ServiceTableKey& key) const noexcept;

  // Any thread (workers skip the lookup when it is 0).
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return capacity_; }

 private:
  rte_hash* hash_ = nullptr;  // dp: ro (lookups), ctl: rw (per key, see above)
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t capacity_ = 0;
  std::atomic<size_t> size_{0};  // ctl: rw, dp: ro
  std::vector<ServiceEntry*> retired_;  // ctl only: replaced or deleted, freed after a grace period
  std::vector<int32_t> freed_slots_;    // ctl only: deleted key positions, released after it
  uint64_t grace_token_ = 0;            // ctl only: StartGrace()'s token ...
  size_t grace_covers_ = 0;             // ... and how many retired items it covers (0: none)
};

// Builds the flat block for a spec (exposed for tests); free with FreeServiceEntry.
ServiceEntry* MakeServiceEntry(const ServiceEntrySpec& spec);
void FreeServiceEntry(ServiceEntry* e);

}  // namespace nodeplane::dp
