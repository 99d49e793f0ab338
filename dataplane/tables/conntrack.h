// Conntrack: the connections this node has seen, with the NAT each one got, so that every later
// packet of a connection (either direction) follows the first one's decisions.
//
// Who writes it: workers create entries (ct_commit) and update an entry's protocol state, last-seen
// time and policy generation (ct_lookup, ct_commit) with relaxed atomic stores; control deletes
// (ageing, flushes) and frees. Who reads it: workers (one bulk lookup per burst in ct_lookup),
// control (listing, ageing).
// Lifetime: one per process, created at start-up by nodeplaned; every Snapshot refers to it (not
// owned), so connections survive every publication. Like dataplane/tables/fib.h.
//
// Structure (DESIGN §4 asked for rte_hash; see dataplane/README.md "Connection tracking" for why
// this is not it): every connection is one 64-byte record (CtRecord: its original and reply keys
// and its CtEntry) in an array sized at start-up, found through CtBuckets (ct_buckets.h), a
// lock-free two-choice bucketed index holding each connection twice, under its original tuple (as
// first received) and under its reply tuple (what the other side sends back after NAT); a slot's
// tag says which. Free records are indices in an rte_ring. Workers hash each key once, inline
// (CtKeyHash). Lookups only load; adds claim a slot with one compare-and-swap: no worker ever
// takes a lock or waits, on any path.
//
// Removal (control threads only, one at a time): clear both slots, wait for an RCU grace period
// on the process's rte_rcu_qsbr, then return the record to the free ring. A worker holding an
// entry pointer thus never sees it reused within its loop iteration.
//
// Full table (defined behaviour): when no record is free, or both buckets of a key are full, the
// new connection is refused (the stage drops it with CT_TABLE_FULL); established connections are
// untouched and nothing waits. An entry whose reply key could not be placed is marked dying and
// removed by the next ageing pass.
//
// Memory: at most 160 bytes per connection all-in, measured from the EAL heap when the table is
// created (bytes_per_connection()): the 64-byte record, the buckets (two keys per connection in
// seven-slot lines at half load when full, plus the extension reserve: 41 bytes), 32 bytes of
// ct_fastpath's memory (CtFastpathSlot) and 4 bytes of free ring: 142 bytes at the default
// capacity.
// kDefaultBytesPerConnection is the figure for the default capacity (perf/RESULTS.md).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/core/crc32c.h"
#include "dataplane/tables/ct_buckets.h"

struct rte_ring;
struct rte_rcu_qsbr;

namespace nodeplane::dp {

// A packed IPv4 5-tuple: addresses and ports in network order; ICMP echo uses its identifier as
// both ports, other ICMP and other protocols use ports 0.
struct CtKey {
  uint32_t src_ip;
  uint32_t dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
  uint8_t proto;
  uint8_t pad[3];  // always zero: part of the hashed key

  bool operator==(const CtKey&) const = default;
};
static_assert(sizeof(CtKey) == 16);

// A key's hash exactly as the table computes it (its hash function, CRC32-C from 0): workers
// compute it once, inline, and hand it to every table call for that key.
inline uint32_t CtKeyHash(const CtKey& k) noexcept { return Crc32c(&k, sizeof(k), 0); }

// Protocol state of a connection. TCP follows Linux's nf_conntrack states (flags only, no window
// tracking); UDP and SCTP are simplified (ct_lookup.h has the transitions). Only TCP, UDP, SCTP and
// ICMP are tracked, so the state also says the protocol.
enum class CtProto : uint8_t {
  kNone = 0,
  kTcpSynSent,
  kTcpSynRecv,
  kTcpEstablished,
  kTcpFinWait,    // the original side sent the first FIN
  kTcpCloseWait,  // the reply side sent the first FIN
  kTcpLastAck,    // both sides sent FIN
  kTcpTimeWait,
  kTcpClose,  // RST seen
  kUdpUnreplied,
  kUdpAssured,  // a reply was seen
  kSctpInit,
  kSctpEstablished,
  kSctpShutdown,
  kIcmp,
  kDying,  // half-inserted (its reply key could not be placed): removed by the next ageing
  kCount,
};

// Idle timeout of a connection in each state, milliseconds (Linux nf_conntrack defaults where
// Linux has the state; the table is in conntrack.cc and dataplane/README.md).
uint32_t CtTimeoutMs(CtProto state) noexcept;
const char* CtProtoName(CtProto state) noexcept;

// Time as entries record it: 128 ms ticks in 24 bits (wraps after 24.8 days, far above the longest
// timeout, 5 days), so that state and time share one atomic word.
inline constexpr uint32_t kCtTickMs = 128;
inline constexpr uint32_t kCtTickMask = 0xffffff;

// One connection: 32 bytes. The plain fields are written once by the creating worker before the
// entry is published in the hash. `policy_gen` and `seen` are rewritten by workers with relaxed
// atomic stores (a lost update between two workers costs one state step or an older timestamp).
struct CtEntry {
  uint32_t orig_src_ip;  // the original tuple, as first received (network order)
  uint32_t orig_dst_ip;
  uint16_t orig_src_port;
  uint16_t orig_dst_port;
  uint32_t dnat_ip;                  // destination after DNAT (network order); 0 = no DNAT
  uint32_t snat_ip;                  // source after SNAT (network order); 0 = no SNAT
  uint16_t dnat_port;                // 0 = port unchanged
  uint16_t snat_port;                // 0 = port unchanged
  std::atomic<uint32_t> policy_gen;  // dp: rw, ctl: ro  generation that last admitted it
  std::atomic<uint32_t> seen;        // dp: rw, ctl: ro  bits 0-7 CtProto, 8-31 last packet tick

  CtProto state() const noexcept {
    return static_cast<CtProto>(seen.load(std::memory_order_relaxed) & 0xff);
  }
  uint32_t last_tick() const noexcept { return seen.load(std::memory_order_relaxed) >> 8; }
  // This node translated the connection (a Service's DNAT, SNAT, or both).
  bool translated() const noexcept { return (dnat_ip | snat_ip) != 0; }
  static uint32_t Seen(CtProto s, uint32_t tick) noexcept {
    return static_cast<uint32_t>(s) | ((tick & kCtTickMask) << 8);
  }
  // The connection's original tuple for protocol `proto`.
  CtKey Orig(uint8_t proto) const noexcept {
    return CtKey{orig_src_ip, orig_dst_ip, orig_src_port, orig_dst_port, proto, {}};
  }
  // The tuple the other side sends back: source = where the packet went after DNAT, destination
  // = where it came from after SNAT. ICMP keeps its echo identifier (ports are not translated).
  CtKey Reply(uint8_t proto) const noexcept {
    CtKey r{};
    r.src_ip = dnat_ip != 0 ? dnat_ip : orig_dst_ip;
    r.dst_ip = snat_ip != 0 ? snat_ip : orig_src_ip;
    const bool xlate_ports = proto != 1;  // IPPROTO_ICMP
    r.src_port = xlate_ports && dnat_port != 0 ? dnat_port : orig_dst_port;
    r.dst_port = xlate_ports && snat_port != 0 ? snat_port : orig_src_port;
    r.proto = proto;
    return r;
  }
};
static_assert(sizeof(CtEntry) == 32);

// One connection as the table keeps it: one cache line holding both keys (the lookup compares
// the matched one) and the entry.
struct alignas(64) CtRecord {
  CtKey key[2];  // [0] original tuple, [1] reply tuple (equal for a packet to itself)
  CtEntry entry;
};
static_assert(sizeof(CtRecord) == 64);

// What ct_fastpath remembers about one connection, per direction ([0] original, [1] reply): the
// route word (core/ct_route.h) and the checksum deltas of its NAT plus one hop (core/nat_apply.h
// NatHopDeltas: IPv4 header in bits 0-15, transport in 16-31), which depend only on the
// connection. Written by ip4_forward, deltas before the word; read by ct_fastpath, word first.
struct alignas(32) CtFastpathSlot {
  std::atomic<uint64_t> route[2];
  std::atomic<uint32_t> deltas[2];
  uint64_t unused;
};
static_assert(sizeof(CtFastpathSlot) == 32);

// A listing/flush filter; 0 fields match anything. Addresses and ports network order.
struct CtFilter {
  uint32_t src_ip = 0;  // the original source
  uint32_t dst_ip = 0;  // the original destination or the DNAT destination
  uint16_t port = 0;    // any port of either tuple
  uint8_t proto = 0;

  bool Matches(const CtKey& orig, const CtEntry& e) const noexcept;
};

// A connection as control reports it.
struct CtConnection {
  CtKey orig;
  CtKey reply;
  uint32_t dnat_ip, snat_ip;
  uint16_t dnat_port, snat_port;
  CtProto state;
  uint32_t idle_ms;        // since the last packet
  uint32_t expires_in_ms;  // until ageing removes it (0: due)
  uint32_t policy_gen;
};

// The keys one worker added to the table while committing one burst (ct_commit), by hash. A packet
// ct_lookup found new in this burst can hold a tuple already in the table only if an earlier packet
// of the same burst added it, so Conntrack::AddNew searches here instead of the table. A small
// open-addressed index (at most 2 keys per packet, under half full) keeps each search O(1).
class CtBurstAdds {
 public:
  static constexpr uint16_t kMax = 128;  // 2 keys x kBurstMax packets

  void Clear() noexcept {
    __builtin_memset(slot_, 0, sizeof(slot_));
    n_ = 0;
  }
  // The tagged entry stored under `k` during this burst, or 0.
  uintptr_t Find(const CtKey& k, uint32_t hash) const noexcept {
    for (uint32_t s = hash & kMask;; s = (s + 1) & kMask) {
      const uint8_t at = slot_[s];
      if (at == 0) return 0;
      if (hash_[at - 1] == hash && key_[at - 1] == k) return data_[at - 1];
    }
  }
  void Record(const CtKey& k, uint32_t hash, uintptr_t data) noexcept {
    if (n_ == kMax) return;  // cannot happen: callers add at most kMax keys per burst
    uint32_t s = hash & kMask;
    while (slot_[s] != 0) s = (s + 1) & kMask;
    key_[n_] = k;
    hash_[n_] = hash;
    data_[n_] = data;
    slot_[s] = static_cast<uint8_t>(++n_);
  }

 private:
  static constexpr uint32_t kSlots = 256;
  static constexpr uint32_t kMask = kSlots - 1;
  uint8_t slot_[kSlots];  // 1 + index into the arrays below; 0 = empty
  uint16_t n_ = 0;
  uint32_t hash_[kMax];
  CtKey key_[kMax];
  uintptr_t data_[kMax];
};

class Conntrack {
 public:
  static constexpr uint32_t kDefaultEntries = 258048;  // see "Memory" above
  // bytes_per_connection() of a table of kDefaultEntries (documented in perf/RESULTS.md).
  static constexpr uint32_t kDefaultBytesPerConnection = 142;
  static constexpr uint32_t kMaxBytesPerConnection = 160;
  static constexpr uint16_t kLookupBulkMax = 64;  // keys per LookupBulk (a hit mask's bits)

  struct Limits {
    uint32_t entries = kDefaultEntries;  // connections
  };

  enum class Insert : uint8_t {
    kOk = 0,
    kFull,       // no entry or no hash slot left
    kCollision,  // the reply tuple is already another connection's
    kExists,     // the original tuple is already in the table (*entry = that entry)
  };

  struct Stats {
    uint64_t expired = 0;
    uint64_t flushed = 0;
  };

  Conntrack() = default;
  ~Conntrack();
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  // Control thread, at start-up. `qsbr`: the process's RCU variable; nullptr only where no worker
  // reads concurrently (tests). `name` must be unique in the process (EAL object names).
  bool Init(const Limits& limits, rte_rcu_qsbr* qsbr, std::string* error,
            const char* name = "np_ct");

  // Any thread: milliseconds since Init (TSC based; workers read it once per burst).
  uint32_t NowMs() const noexcept;
  static uint32_t Tick(uint32_t ms) noexcept { return (ms / kCtTickMs) & kCtTickMask; }

  // Worker. n <= 64 keys. hit bit i set: entry[i] is the connection, reply[i] says which key.
  void LookupBulk(const CtKey* keys, uint16_t n, uint64_t* hit_mask, CtEntry** entry,
                  bool* reply) const noexcept;
  // Worker: a new connection. The entry starts in `state` at `now_ms` with `policy_gen`. On
  // kExists, *entry is the connection already holding `orig` (an earlier packet of the burst).
  Insert Add(const CtKey& orig, uint32_t dnat_ip, uint16_t dnat_port, uint32_t snat_ip,
             uint16_t snat_port, CtProto state, uint32_t now_ms, uint32_t policy_gen,
             CtEntry** entry) noexcept;
  // Worker: the same for a packet ct_lookup did not find in this burst. `orig_hash` is
  // CtKeyHash(orig); `adds` holds what this worker added earlier in the burst (kExists comes
  // from there: the table is not searched for `orig`) and receives the keys added now. Each key
  // is hashed once; the table sees one reply-key lookup and the two adds. Like Add's own
  // search-then-add, this does not guard against another worker adding the same original tuple
  // meanwhile (RSS keeps a tuple on one queue).
  Insert AddNew(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip, uint16_t dnat_port,
                uint32_t snat_ip, uint16_t snat_port, CtProto state, uint32_t now_ms,
                uint32_t policy_gen, CtEntry** entry, CtBurstAdds& adds) noexcept;

  // Control threads (serialised among themselves; never blocking a worker). Visits up to `budget`
  // key slots (key_slots() in all) from where the last call stopped (wrapping around), removes the
  // connections idle longer than their state's timeout at `now_ms`, waits for one grace period if
  // it removed any, frees them. Returns how many it removed.
  size_t Age(uint32_t now_ms, uint32_t budget);
  // Control thread. Remove every connection the filter matches (all with the default filter).
  size_t Flush(const CtFilter& filter);
  // Control thread. Remove the UDP connections whose reply comes from backend ip:port (after
  // DNAT, or addressed to it directly): Services call it when an endpoint disappears.
  size_t FlushUdpToBackend(uint32_t ip_be, uint16_t port_be);
  // Control thread. Up to `max` connections the filter matches.
  std::vector<CtConnection> List(const CtFilter& filter, size_t max) const;

  // Worker. What ct_fastpath remembers about connection `e` (core/ct_route.h): beside the
  // records, cleared when a record is given to a new connection. dp: rw (relaxed), ctl: none.
  CtFastpathSlot& Fastpath(const CtEntry* e) const noexcept { return fastpath_index().Of(e); }
  // Worker. Fastpath for a burst: the slot found from the entry's address by arithmetic alone (a
  // record is two slots long), with the table's addresses read once.
  struct FastpathIndex {
    uintptr_t first_entry;
    uintptr_t slots;
    CtFastpathSlot& Of(const CtEntry* e) const noexcept {
      static_assert(sizeof(CtRecord) == 2 * sizeof(CtFastpathSlot));
      return *reinterpret_cast<CtFastpathSlot*>(
          slots + ((reinterpret_cast<uintptr_t>(e) - first_entry) >> 1));
    }
  };
  FastpathIndex fastpath_index() const noexcept {
    return FastpathIndex{reinterpret_cast<uintptr_t>(&records_[0].entry),
                         reinterpret_cast<uintptr_t>(fastpath_)};
  }
  // Worker. The tuple of connection `e` as it arrives in one direction (`reply`: the reply key).
  static const CtKey& Key(const CtEntry* e, bool reply) noexcept {
    return RecordOf(e)->key[reply ? 1 : 0];
  }

  uint32_t capacity() const { return capacity_; }
  uint32_t key_slots() const { return buckets_.size() * CtBucket::kSlots; }
  uint32_t connections() const;  // entries in use (including those awaiting their grace period)
  uint64_t bytes_per_connection() const { return bytes_per_connection_; }
  Stats stats() const {
    return Stats{expired_.load(std::memory_order_relaxed),
                 flushed_.load(std::memory_order_relaxed)};
  }

 private:
  // Add and AddNew once `orig` is known to be absent: creates the record and places both keys.
  Insert Create(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip, uint16_t dnat_port,
                uint32_t snat_ip, uint16_t snat_port, CtProto state, uint32_t now_ms,
                uint32_t policy_gen, CtEntry** entry, CtBurstAdds* adds) noexcept;
  // The slot value holding `key` with hash `hash`, or 0.
  uint64_t FindSlot(const CtKey& key, uint32_t hash) const noexcept;
  bool KeyAt(uint64_t slot, const CtKey& key) const noexcept;
  static const CtRecord* RecordOf(const CtEntry* e) noexcept {
    return reinterpret_cast<const CtRecord*>(reinterpret_cast<const char*>(e) -
                                             offsetof(CtRecord, entry));
  }
  void FreeRecord(uint32_t record) noexcept;
  // Control: clears both slots of record `r`; its record is freed by Reclaim.
  void Unlink(uint32_t r, std::vector<uint32_t>& out);
  void Reclaim(std::vector<uint32_t>& removed);
  // Control: the empty extension buckets of main buckets [from, from + count) back to the
  // reserve, after a grace period.
  void RetireExtensions(uint32_t from, uint32_t count);
  // Control: the records of the original-key slots in [from, from + count), wrapping at the end.
  template <typename Pred>
  void Collect(uint32_t from, uint32_t count, Pred pred, std::vector<uint32_t>& out) const;
  template <typename Pred>
  size_t RemoveIf(Pred pred);

  CtBuckets buckets_;  // dp: lookups, inserts; ctl: clears
  CtBucket* bucket_mem_ = nullptr;
  CtRecord* records_ = nullptr;         // dp: written by the creating worker before it is published
  CtFastpathSlot* fastpath_ = nullptr;  // one per record (Fastpath); dp: rw
  rte_ring* free_ = nullptr;      // dp: take (and give back unpublished); ctl: give after grace
  rte_ring* free_ext_ = nullptr;  // extension buckets: dp takes; ctl gives after grace
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t capacity_ = 0;
  uint64_t tsc0_ = 0;
  uint64_t cycles_per_ms_ = 1;
  uint64_t bytes_per_connection_ = 0;
  // Control operations (ageing, flushes, listing) run on different control threads (the ager,
  // gRPC): one at a time, so that no connection is unlinked twice.
  mutable std::mutex ctl_mu_;
  uint32_t age_next_ = 0;     // guarded by ctl_mu_: the next key slot ageing visits
  uint32_t retire_next_ = 0;  // guarded by ctl_mu_: the next chain ageing frees extensions of
  std::atomic<uint64_t> expired_{0};
  std::atomic<uint64_t> flushed_{0};
};

}  // namespace nodeplane::dp
