#include "dataplane/tables/conntrack.h"

#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <cstring>
#include <utility>

namespace nodeplane::dp {
namespace {

constexpr uint32_t kSecond = 1000;

// Bytes the EAL heaps hold, all sockets: the table's footprint is the difference across Init.
uint64_t HeapAllocated() {
  uint64_t total = 0;
  for (int s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(s, &st) == 0) total += st.heap_allocsz_bytes;
  }
  return total;
}

CtEntry* Untag(void* data, bool* reply) {
  const auto v = reinterpret_cast<uintptr_t>(data);
  if (reply != nullptr) *reply = (v & kCtReplyTag) != 0;
  return reinterpret_cast<CtEntry*>(v & ~kCtReplyTag);
}

}  // namespace

uint32_t CtTimeoutMs(CtProto state) noexcept {
  switch (state) {
    case CtProto::kTcpSynSent:
      return 120 * kSecond;
    case CtProto::kTcpSynRecv:
      return 60 * kSecond;
    case CtProto::kTcpEstablished:
      return 432000 * kSecond;  // 5 days
    case CtProto::kTcpFinWait:
      return 120 * kSecond;
    case CtProto::kTcpCloseWait:
      return 60 * kSecond;
    case CtProto::kTcpLastAck:
      return 30 * kSecond;
    case CtProto::kTcpTimeWait:
      return 120 * kSecond;
    case CtProto::kTcpClose:
      return 10 * kSecond;
    case CtProto::kUdpUnreplied:
      return 30 * kSecond;
    case CtProto::kUdpAssured:
      return 120 * kSecond;
    case CtProto::kSctpInit:
      return 3 * kSecond;
    case CtProto::kSctpEstablished:
      return 210 * kSecond;
    case CtProto::kSctpShutdown:
      return 3 * kSecond;
    case CtProto::kIcmp:
      return 30 * kSecond;
    case CtProto::kNone:
    case CtProto::kDying:
    case CtProto::kCount:
      break;
  }
  return 0;
}

const char* CtProtoName(CtProto state) noexcept {
  switch (state) {
    case CtProto::kNone:
      return "none";
    case CtProto::kTcpSynSent:
      return "SYN_SENT";
    case CtProto::kTcpSynRecv:
      return "SYN_RECV";
    case CtProto::kTcpEstablished:
      return "ESTABLISHED";
    case CtProto::kTcpFinWait:
      return "FIN_WAIT";
    case CtProto::kTcpCloseWait:
      return "CLOSE_WAIT";
    case CtProto::kTcpLastAck:
      return "LAST_ACK";
    case CtProto::kTcpTimeWait:
      return "TIME_WAIT";
    case CtProto::kTcpClose:
      return "CLOSE";
    case CtProto::kUdpUnreplied:
      return "UNREPLIED";
    case CtProto::kUdpAssured:
      return "ASSURED";
    case CtProto::kSctpInit:
      return "INIT";
    case CtProto::kSctpEstablished:
      return "ESTABLISHED";
    case CtProto::kSctpShutdown:
      return "SHUTDOWN";
    case CtProto::kIcmp:
      return "ICMP";
    case CtProto::kDying:
      return "DYING";
    case CtProto::kCount:
      break;
  }
  return "?";
}

bool CtFilter::Matches(const CtKey& orig, const CtEntry& e) const noexcept {
  if (proto != 0 && orig.proto != proto) return false;
  if (src_ip != 0 && orig.src_ip != src_ip) return false;
  if (dst_ip != 0 && orig.dst_ip != dst_ip && e.dnat_ip != dst_ip) return false;
  if (port != 0) {
    const CtKey r = e.Reply(orig.proto);
    if (orig.src_port != port && orig.dst_port != port && r.src_port != port && r.dst_port != port)
      return false;
  }
  return true;
}

Conntrack::~Conntrack() {
  if (hash_ != nullptr) rte_hash_free(hash_);
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

bool Conntrack::Init(const Limits& limits, rte_rcu_qsbr* qsbr, std::string* error,
                     const char* name) {
  if (limits.entries < 8 || limits.entries > (uint32_t{1} << 30)) {
    *error = "conntrack: entries must be between 8 and 2^30";
    return false;
  }
  const uint64_t before = HeapAllocated();
  std::string hash_name = std::string(name) + "_h";
  rte_hash_parameters p{};
  p.name = hash_name.c_str();
  p.entries = limits.entries * 2;  // the original and the reply key of every connection
  p.key_len = sizeof(CtKey);
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD;
  hash_ = rte_hash_create(&p);
  if (hash_ == nullptr) {
    *error = std::string("conntrack: rte_hash_create: ") + rte_strerror(rte_errno);
    return false;
  }
  // No per-lcore cache: every entry can be handed out wherever it was freed, so the table holds
  // exactly `entries` connections; no cache alignment or channel spreading: 32 + 24 header bytes.
  const std::string pool_name = std::string(name) + "_e";
  pool_ = rte_mempool_create(pool_name.c_str(), limits.entries, sizeof(CtEntry), 0, 0, nullptr,
                             nullptr, nullptr, nullptr, static_cast<int>(rte_socket_id()),
                             RTE_MEMPOOL_F_NO_CACHE_ALIGN | RTE_MEMPOOL_F_NO_SPREAD);
  if (pool_ == nullptr) {
    *error = std::string("conntrack: rte_mempool_create: ") + rte_strerror(rte_errno);
    rte_hash_free(hash_);
    hash_ = nullptr;
    return false;
  }
  const uint64_t after = HeapAllocated();
  capacity_ = limits.entries;
  bytes_per_connection_ = (after - before + capacity_ - 1) / capacity_;
  qsbr_ = qsbr;
  tsc0_ = rte_get_tsc_cycles();
  cycles_per_ms_ = rte_get_tsc_hz() / 1000;
  if (cycles_per_ms_ == 0) cycles_per_ms_ = 1;
  return true;
}

uint32_t Conntrack::NowMs() const noexcept {
  return static_cast<uint32_t>((rte_get_tsc_cycles() - tsc0_) / cycles_per_ms_);
}

void Conntrack::LookupBulk(const CtKey* const* keys, uint16_t n, uint64_t* hit_mask,
                           CtEntry** entry, bool* reply) const noexcept {
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  *hit_mask = 0;
  if (n == 0) return;
  // Hashed here, inline: rte_hash would call its hash function through a pointer per key.
  const void* k[RTE_HASH_LOOKUP_BULK_MAX];
  hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];
  for (uint16_t i = 0; i < n; ++i) {
    k[i] = keys[i];
    sig[i] = CtKeyHash(*keys[i]);
  }
  rte_hash_lookup_with_hash_bulk_data(hash_, k, sig, n, hit_mask, data);
  for (uint16_t i = 0; i < n; ++i) {
    if ((*hit_mask >> i) & 1) {
      entry[i] = Untag(data[i], &reply[i]);
      rte_prefetch0(entry[i]);  // the caller reads and steps its state next
    }
  }
}

Conntrack::Insert Conntrack::Add(const CtKey& orig, uint32_t dnat_ip, uint16_t dnat_port,
                                 uint32_t snat_ip, uint16_t snat_port, CtProto state,
                                 uint32_t now_ms, uint32_t policy_gen, CtEntry** entry) noexcept {
  const uint32_t h = CtKeyHash(orig);
  void* existing = nullptr;
  if (rte_hash_lookup_with_hash_data(hash_, &orig, h, &existing) >= 0) {
    *entry = Untag(existing, nullptr);
    return Insert::kExists;
  }
  return Place(orig, h, dnat_ip, dnat_port, snat_ip, snat_port, state, now_ms, policy_gen, entry,
               nullptr);
}

Conntrack::Insert Conntrack::AddNew(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip,
                                    uint16_t dnat_port, uint32_t snat_ip, uint16_t snat_port,
                                    CtProto state, uint32_t now_ms, uint32_t policy_gen,
                                    CtEntry** entry, CtBurstAdds& adds) noexcept {
  if (const uintptr_t existing = adds.Find(orig, orig_hash); existing != 0) {
    *entry = Untag(reinterpret_cast<void*>(existing), nullptr);
    return Insert::kExists;
  }
  return Place(orig, orig_hash, dnat_ip, dnat_port, snat_ip, snat_port, state, now_ms, policy_gen,
               entry, &adds);
}

Conntrack::Insert Conntrack::Place(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip,
                                   uint16_t dnat_port, uint32_t snat_ip, uint16_t snat_port,
                                   CtProto state, uint32_t now_ms, uint32_t policy_gen,
                                   CtEntry** entry, CtBurstAdds* adds) noexcept {
  void* obj = nullptr;
  if (rte_mempool_get(pool_, &obj) != 0) return Insert::kFull;
  auto* e = static_cast<CtEntry*>(obj);
  e->orig_src_ip = orig.src_ip;
  e->orig_dst_ip = orig.dst_ip;
  e->orig_src_port = orig.src_port;
  e->orig_dst_port = orig.dst_port;
  e->dnat_ip = dnat_ip;
  e->snat_ip = snat_ip;
  e->dnat_port = dnat_port;
  e->snat_port = snat_port;
  e->policy_gen.store(policy_gen, std::memory_order_relaxed);
  e->seen.store(CtEntry::Seen(state, Tick(now_ms)), std::memory_order_relaxed);
  const CtKey reply = e->Reply(orig.proto);
  const bool two_keys = !(reply == orig);  // a packet to itself has one tuple
  const uint32_t reply_hash = two_keys ? CtKeyHash(reply) : orig_hash;
  if (two_keys && rte_hash_lookup_with_hash(hash_, &reply, reply_hash) >= 0) {
    rte_mempool_put(pool_, e);
    return Insert::kCollision;
  }
  // The add publishes the entry (release); nothing has seen it if it fails.
  if (rte_hash_add_key_with_hash_data(hash_, &orig, orig_hash, e) != 0) {
    rte_mempool_put(pool_, e);
    return Insert::kFull;
  }
  if (adds != nullptr) adds->Record(orig, orig_hash, reinterpret_cast<uintptr_t>(e));
  if (two_keys) {
    const uintptr_t tagged = reinterpret_cast<uintptr_t>(e) | kCtReplyTag;
    if (rte_hash_add_key_with_hash_data(hash_, &reply, reply_hash,
                                        reinterpret_cast<void*>(tagged)) != 0) {
      // Readers may already hold it through the original key: leave it for the ager.
      e->seen.store(CtEntry::Seen(CtProto::kDying, Tick(now_ms)), std::memory_order_relaxed);
      return Insert::kFull;
    }
    if (adds != nullptr) adds->Record(reply, reply_hash, tagged);
  }
  *entry = e;
  return Insert::kOk;
}

void Conntrack::Unlink(const CtKey& orig, CtEntry* e, std::vector<Removed>& out) {
  Removed r{e, -1, -1};
  const CtKey reply = e->Reply(orig.proto);
  void* data = nullptr;
  // The reply key is removed only if it is this entry's (a dying entry may have none, and its
  // tuple may since belong to another connection).
  if (!(reply == orig) && rte_hash_lookup_data(hash_, &reply, &data) >= 0 &&
      Untag(data, nullptr) == e) {
    r.reply_pos = rte_hash_del_key(hash_, &reply);
  }
  r.orig_pos = rte_hash_del_key(hash_, &orig);
  out.push_back(r);
}

void Conntrack::Reclaim(std::vector<Removed>& removed) {
  if (removed.empty()) return;
  if (qsbr_ != nullptr) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  // rte_hash (MULTI_WRITER_ADD) returns a freed key slot through the calling lcore's slot cache,
  // indexed by rte_lcore_id(): a control thread that is not an EAL lcore (gRPC, the ager) borrows
  // an lcore id for the frees. Slots left in that cache stay within rte_hash's per-lcore reserve,
  // so the table's capacity is unaffected.
  const bool borrowed = rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() == 0;
  const bool can_free_slots = rte_lcore_id() != LCORE_ID_ANY;
  for (const Removed& r : removed) {
    if (can_free_slots) {
      if (r.reply_pos >= 0) rte_hash_free_key_with_position(hash_, r.reply_pos);
      if (r.orig_pos >= 0) rte_hash_free_key_with_position(hash_, r.orig_pos);
    } else {
      lost_slots_.fetch_add((r.reply_pos >= 0) + (r.orig_pos >= 0), std::memory_order_relaxed);
    }
    rte_mempool_put(pool_, r.entry);
  }
  if (borrowed) rte_thread_unregister();
  removed.clear();
}

template <typename Pred>
size_t Conntrack::RemoveIf(Pred pred) {
  // Collect first, delete after: deleting while rte_hash_iterate walks could skip keys moved by
  // the deletion's neighbours.
  std::vector<std::pair<CtKey, CtEntry*>> victims;
  const void* key = nullptr;
  void* data = nullptr;
  uint32_t next = 0;
  while (rte_hash_iterate(hash_, &key, &data, &next) >= 0) {
    bool reply = false;
    CtEntry* e = Untag(data, &reply);
    if (reply) continue;  // each connection once, by its original key
    const auto& k = *static_cast<const CtKey*>(key);
    if (pred(k, *e)) victims.emplace_back(k, e);
  }
  std::vector<Removed> removed;
  removed.reserve(victims.size());
  for (auto& [k, e] : victims) Unlink(k, e, removed);
  const size_t n = removed.size();
  Reclaim(removed);
  return n;
}

size_t Conntrack::Age(uint32_t now_ms, uint32_t budget) {
  std::lock_guard lock(ctl_mu_);
  const uint32_t now = Tick(now_ms);
  std::vector<std::pair<CtKey, CtEntry*>> victims;
  const void* key = nullptr;
  void* data = nullptr;
  for (uint32_t visited = 0; visited < budget; ++visited) {
    if (rte_hash_iterate(hash_, &key, &data, &age_next_) < 0) {
      age_next_ = 0;  // end of the table: the next slice starts over
      break;
    }
    bool reply = false;
    CtEntry* e = Untag(data, &reply);
    if (reply) continue;
    const uint32_t idle_ms = ((now - e->last_tick()) & kCtTickMask) * kCtTickMs;
    const CtProto s = e->state();
    if (s == CtProto::kDying || idle_ms > CtTimeoutMs(s)) {
      victims.emplace_back(*static_cast<const CtKey*>(key), e);
    }
  }
  std::vector<Removed> removed;
  for (auto& [k, e] : victims) Unlink(k, e, removed);
  const size_t n = removed.size();
  Reclaim(removed);
  expired_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

size_t Conntrack::Flush(const CtFilter& filter) {
  std::lock_guard lock(ctl_mu_);
  const size_t n = RemoveIf([&](const CtKey& k, const CtEntry& e) { return filter.Matches(k, e); });
  flushed_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

size_t Conntrack::FlushUdpToBackend(uint32_t ip_be, uint16_t port_be) {
  std::lock_guard lock(ctl_mu_);
  const size_t n = RemoveIf([&](const CtKey& k, const CtEntry& e) {
    if (k.proto != IPPROTO_UDP) return false;
    const CtKey r = e.Reply(k.proto);
    return r.src_ip == ip_be && r.src_port == port_be;
  });
  flushed_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

std::vector<CtConnection> Conntrack::List(const CtFilter& filter, size_t max) const {
  std::lock_guard lock(ctl_mu_);
  std::vector<CtConnection> out;
  const uint32_t now = Tick(NowMs());
  const void* key = nullptr;
  void* data = nullptr;
  uint32_t next = 0;
  while (out.size() < max && rte_hash_iterate(hash_, &key, &data, &next) >= 0) {
    bool reply = false;
    const CtEntry* e = Untag(data, &reply);
    if (reply) continue;
    const auto& k = *static_cast<const CtKey*>(key);
    if (!filter.Matches(k, *e)) continue;
    const CtProto s = e->state();
    const uint32_t idle_ms = ((now - e->last_tick()) & kCtTickMask) * kCtTickMs;
    const uint32_t timeout = CtTimeoutMs(s);
    out.push_back(CtConnection{k, e->Reply(k.proto), e->dnat_ip, e->snat_ip, e->dnat_port,
                               e->snat_port, s, idle_ms, idle_ms < timeout ? timeout - idle_ms : 0,
                               e->policy_gen.load(std::memory_order_relaxed)});
  }
  return out;
}

uint32_t Conntrack::connections() const {
  return pool_ == nullptr ? 0 : rte_mempool_in_use_count(pool_);
}

}  // namespace nodeplane::dp
