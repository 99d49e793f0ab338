#include "dataplane/tables/conntrack.h"

#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
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

// CtBurstAdds keeps an entry pointer with bit 0 set for the reply key (entries are 32-aligned).
constexpr uintptr_t kReplyTag = 1;
CtEntry* Untag(uintptr_t v) { return reinterpret_cast<CtEntry*>(v & ~kReplyTag); }

// Buckets for two keys per connection at half the slots when the table is full: first buckets
// then hold Poisson(3.5) keys, so about one key in seventy-five finds its first bucket full and
// lives in its second or, rarely, in the first bucket's chain (a reserve of one extension bucket
// per eight).
uint32_t MainBucketsFor(uint32_t connections) {
  const uint64_t keys = uint64_t{connections} * 2;
  return static_cast<uint32_t>((keys * 2 + CtBucket::kSlots - 1) / CtBucket::kSlots);
}
uint32_t ExtensionBucketsFor(uint32_t main) { return main / 8 > 8 ? main / 8 : 8; }

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
  if (free_ != nullptr) rte_ring_free(free_);
  if (free_ext_ != nullptr) rte_ring_free(free_ext_);
  rte_free(fastpath_);
  rte_free(records_);
  rte_free(bucket_mem_);
}

bool Conntrack::Init(const Limits& limits, rte_rcu_qsbr* qsbr, std::string* error,
                     const char* name) {
  if (limits.entries < 8 || limits.entries > (uint32_t{1} << 30)) {
    *error = "conntrack: entries must be between 8 and 2^30";
    return false;
  }
  const uint64_t before = HeapAllocated();
  const int socket = static_cast<int>(rte_socket_id());
  const uint32_t main_buckets = MainBucketsFor(limits.entries);
  const uint32_t extension_buckets = ExtensionBucketsFor(main_buckets);
  bucket_mem_ = static_cast<CtBucket*>(rte_zmalloc_socket(
      "np_ct_buckets", sizeof(CtBucket) * (main_buckets + extension_buckets), 64, socket));
  records_ = static_cast<CtRecord*>(
      rte_zmalloc_socket("np_ct_records", sizeof(CtRecord) * limits.entries, 64, socket));
  fastpath_ = static_cast<CtFastpathSlot*>(
      rte_zmalloc_socket("np_ct_fastpath", sizeof(CtFastpathSlot) * limits.entries, 64, socket));
  const std::string ring_name = std::string(name) + "_free";
  free_ = rte_ring_create_elem(ring_name.c_str(), sizeof(uint32_t), limits.entries, socket,
                               RING_F_EXACT_SZ);
  const std::string ext_ring_name = std::string(name) + "_ext";
  free_ext_ = rte_ring_create_elem(ext_ring_name.c_str(), sizeof(uint32_t), extension_buckets,
                                   socket, RING_F_EXACT_SZ);
  if (bucket_mem_ == nullptr || records_ == nullptr || fastpath_ == nullptr || free_ == nullptr ||
      free_ext_ == nullptr) {
    *error = std::string("conntrack: no memory for ") + std::to_string(limits.entries) +
             " connections (" + rte_strerror(rte_errno) + ")";
    if (free_ != nullptr) rte_ring_free(free_);
    if (free_ext_ != nullptr) rte_ring_free(free_ext_);
    free_ext_ = nullptr;
    rte_free(fastpath_);
    rte_free(records_);
    rte_free(bucket_mem_);
    free_ = nullptr;
    fastpath_ = nullptr;
    records_ = nullptr;
    bucket_mem_ = nullptr;
    return false;
  }
  buckets_.Attach(bucket_mem_, main_buckets, extension_buckets);
  std::vector<uint32_t> all(limits.entries);
  for (uint32_t i = 0; i < limits.entries; ++i) all[i] = i;
  rte_ring_enqueue_bulk_elem(free_, all.data(), sizeof(uint32_t), limits.entries, nullptr);
  std::vector<uint32_t> ext(extension_buckets);
  for (uint32_t i = 0; i < extension_buckets; ++i) ext[i] = main_buckets + i;
  rte_ring_enqueue_bulk_elem(free_ext_, ext.data(), sizeof(uint32_t), extension_buckets, nullptr);
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

bool Conntrack::KeyAt(uint64_t slot, const CtKey& key) const noexcept {
  // Two word compares (the pad bytes are zero in both).
  uint64_t a[2], b[2];
  std::memcpy(a, &records_[CtBuckets::RecordOf(slot)].key[CtBuckets::ReplyOf(slot)], sizeof(a));
  std::memcpy(b, &key, sizeof(b));
  return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

uint64_t Conntrack::FindSlot(const CtKey& key, uint32_t hash) const noexcept {
  return buckets_.Find(buckets_.Place(hash), [&](uint64_t v) { return KeyAt(v, key); });
}

void Conntrack::FreeRecord(uint32_t record) noexcept {
  rte_ring_mp_enqueue_elem(free_, &record, sizeof(record));
}

// Three passes so that the cache misses of a burst overlap: every key's first bucket is
// prefetched, then each bucket's first signature match names a record to prefetch, then keys are
// compared. A signature that matches a different key, or a key that overflowed to its second
// bucket, takes the full search.
void Conntrack::LookupBulk(const CtKey* keys, uint16_t n, uint64_t* hit_mask, CtEntry** entry,
                           bool* reply) const noexcept {
  uint32_t mixed[kLookupBulkMax];
  uint32_t first[kLookupBulkMax];
  uint64_t slot[kLookupBulkMax];
  for (uint16_t i = 0; i < n; ++i) {
    mixed[i] = CtBuckets::Mix(CtKeyHash(keys[i]));
    first[i] = buckets_.First(mixed[i]);
    buckets_.Prefetch(first[i]);
  }
  for (uint16_t i = 0; i < n; ++i) {
    slot[i] = buckets_.Scan(first[i], CtBuckets::Sig(mixed[i]), [](uint64_t) { return true; });
    if (slot[i] != 0) {
      rte_prefetch0(&records_[CtBuckets::RecordOf(slot[i])]);
      rte_prefetch0(&fastpath_[CtBuckets::RecordOf(slot[i])]);  // ct_fastpath reads it next
    }
  }
  uint64_t hits = 0;
  for (uint16_t i = 0; i < n; ++i) {
    uint64_t v = slot[i];
    if (v == 0 || !KeyAt(v, keys[i])) [[unlikely]] {
      const auto same = [&](uint64_t c) { return KeyAt(c, keys[i]); };
      const CtPlace place = buckets_.PlaceMixed(mixed[i]);
      v = v == 0 ? buckets_.FindBeyondFirst(place, same) : buckets_.Find(place, same);
      if (v == 0) continue;
    }
    hits |= uint64_t{1} << i;
    entry[i] = &records_[CtBuckets::RecordOf(v)].entry;
    reply[i] = CtBuckets::ReplyOf(v);
  }
  *hit_mask = hits;
}

Conntrack::Insert Conntrack::Add(const CtKey& orig, uint32_t dnat_ip, uint16_t dnat_port,
                                 uint32_t snat_ip, uint16_t snat_port, CtProto state,
                                 uint32_t now_ms, uint32_t policy_gen, CtEntry** entry) noexcept {
  const uint32_t h = CtKeyHash(orig);
  if (const uint64_t v = FindSlot(orig, h); v != 0) {
    *entry = &records_[CtBuckets::RecordOf(v)].entry;
    return Insert::kExists;
  }
  return Create(orig, h, dnat_ip, dnat_port, snat_ip, snat_port, state, now_ms, policy_gen, entry,
                nullptr);
}

Conntrack::Insert Conntrack::AddNew(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip,
                                    uint16_t dnat_port, uint32_t snat_ip, uint16_t snat_port,
                                    CtProto state, uint32_t now_ms, uint32_t policy_gen,
                                    CtEntry** entry, CtBurstAdds& adds) noexcept {
  if (const uintptr_t existing = adds.Find(orig, orig_hash); existing != 0) {
    *entry = Untag(existing);
    return Insert::kExists;
  }
  return Create(orig, orig_hash, dnat_ip, dnat_port, snat_ip, snat_port, state, now_ms, policy_gen,
                entry, &adds);
}

Conntrack::Insert Conntrack::Create(const CtKey& orig, uint32_t orig_hash, uint32_t dnat_ip,
                                    uint16_t dnat_port, uint32_t snat_ip, uint16_t snat_port,
                                    CtProto state, uint32_t now_ms, uint32_t policy_gen,
                                    CtEntry** entry, CtBurstAdds* adds) noexcept {
  uint32_t r = 0;
  if (rte_ring_mc_dequeue_elem(free_, &r, sizeof(r)) != 0) return Insert::kFull;
  CtRecord& rec = records_[r];
  CtEntry* e = &rec.entry;
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
  // Nothing is remembered about where the record's previous connection went.
  for (int d = 0; d < 2; ++d) fastpath_[r].route[d].store(0, std::memory_order_relaxed);
  rec.key[0] = orig;
  rec.key[1] = e->Reply(orig.proto);
  const CtKey& reply = rec.key[1];
  const bool two_keys = !(reply == orig);  // a packet to itself has one tuple
  const uint32_t reply_hash = two_keys ? CtKeyHash(reply) : orig_hash;
  if (two_keys && FindSlot(reply, reply_hash) != 0) {
    FreeRecord(r);
    return Insert::kCollision;
  }
  // An extension bucket from the reserve, or 0 when it is empty.
  const auto take = [this]() noexcept {
    uint32_t x = 0;
    return rte_ring_mc_dequeue_elem(free_ext_, &x, sizeof(x)) == 0 ? x : 0;
  };
  // The original key publishes the record (release); nothing has seen it if that fails.
  const CtPlace orig_place = buckets_.Place(orig_hash);
  if (!buckets_.Insert(orig_place, CtBuckets::SlotValue(orig_place.sig, r, false), take)) {
    FreeRecord(r);
    return Insert::kFull;
  }
  if (adds != nullptr) adds->Record(orig, orig_hash, reinterpret_cast<uintptr_t>(e));
  if (two_keys) {
    const CtPlace reply_place = buckets_.Place(reply_hash);
    if (!buckets_.Insert(reply_place, CtBuckets::SlotValue(reply_place.sig, r, true), take)) {
      // Readers may already hold it through the original key: leave it for the ager.
      e->seen.store(CtEntry::Seen(CtProto::kDying, Tick(now_ms)), std::memory_order_relaxed);
      return Insert::kFull;
    }
    if (adds != nullptr)
      adds->Record(reply, reply_hash, reinterpret_cast<uintptr_t>(e) | kReplyTag);
  }
  *entry = e;
  return Insert::kOk;
}

void Conntrack::Unlink(uint32_t r, std::vector<uint32_t>& out) {
  const CtRecord& rec = records_[r];
  const CtPlace orig = buckets_.Place(CtKeyHash(rec.key[0]));
  buckets_.Remove(orig, CtBuckets::SlotValue(orig.sig, r, false));
  // A dying record has no reply slot; one whose creator is still placing it gets it checked
  // again after the grace period (Reclaim).
  if (!(rec.key[1] == rec.key[0])) {
    const CtPlace reply = buckets_.Place(CtKeyHash(rec.key[1]));
    buckets_.Remove(reply, CtBuckets::SlotValue(reply.sig, r, true));
  }
  out.push_back(r);
}

void Conntrack::Reclaim(std::vector<uint32_t>& removed) {
  if (removed.empty()) return;
  if (qsbr_ != nullptr) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  // A worker that published the original key just before Unlink may have placed the reply key
  // after it; its burst has ended now, so the slot is there to clear, and one more grace period
  // covers readers that found it.
  bool late = false;
  for (const uint32_t r : removed) {
    const CtRecord& rec = records_[r];
    if (rec.key[1] == rec.key[0]) continue;
    const CtPlace reply = buckets_.Place(CtKeyHash(rec.key[1]));
    late |= buckets_.Remove(reply, CtBuckets::SlotValue(reply.sig, r, true));
  }
  if (late && qsbr_ != nullptr) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  for (const uint32_t r : removed) FreeRecord(r);
  removed.clear();
}

void Conntrack::RetireExtensions(uint32_t from, uint32_t count) {
  std::vector<uint32_t> retired;
  buckets_.RetireEmpty(from, count, retired);
  if (retired.empty()) return;
  if (qsbr_ != nullptr) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  buckets_.Recycle(retired);
  rte_ring_mp_enqueue_bulk_elem(free_ext_, retired.data(), sizeof(uint32_t),
                                static_cast<unsigned>(retired.size()), nullptr);
}

template <typename Pred>
void Conntrack::Collect(uint32_t from, uint32_t count, Pred pred,
                        std::vector<uint32_t>& out) const {
  const uint32_t total = key_slots();
  for (uint32_t k = 0, at = from; k < count && k < total; ++k, at = at + 1 == total ? 0 : at + 1) {
    const uint64_t v = buckets_.bucket(at / CtBucket::kSlots)
                           .slot[at % CtBucket::kSlots]
                           .load(std::memory_order_acquire);
    // Each connection once, by its original key.
    if (!CtBuckets::HoldsKey(v) || CtBuckets::ReplyOf(v)) continue;
    const uint32_t r = CtBuckets::RecordOf(v);
    if (pred(records_[r].key[0], records_[r].entry)) out.push_back(r);
  }
}

template <typename Pred>
size_t Conntrack::RemoveIf(Pred pred) {
  std::vector<uint32_t> victims;
  Collect(0, key_slots(), pred, victims);
  std::vector<uint32_t> removed;
  removed.reserve(victims.size());
  for (const uint32_t r : victims) Unlink(r, removed);
  const size_t n = removed.size();
  Reclaim(removed);
  RetireExtensions(0, buckets_.main_buckets());
  return n;
}

size_t Conntrack::Age(uint32_t now_ms, uint32_t budget) {
  std::lock_guard lock(ctl_mu_);
  const uint32_t now = Tick(now_ms);
  const uint32_t total = key_slots();
  const uint32_t count = budget < total ? budget : total;
  std::vector<uint32_t> victims;
  Collect(
      age_next_, count,
      [&](const CtKey&, const CtEntry& e) {
        const uint32_t idle_ms = ((now - e.last_tick()) & kCtTickMask) * kCtTickMs;
        const CtProto s = e.state();
        return s == CtProto::kDying || idle_ms > CtTimeoutMs(s);
      },
      victims);
  age_next_ = static_cast<uint32_t>((uint64_t{age_next_} + count) % total);
  std::vector<uint32_t> removed;
  for (const uint32_t r : victims) Unlink(r, removed);
  const size_t n = removed.size();
  Reclaim(removed);
  // The chains of the main buckets this slice covered give their empty extension buckets back.
  const uint32_t main = buckets_.main_buckets();
  const uint32_t chains = std::min(main, count / CtBucket::kSlots + 1);
  RetireExtensions(retire_next_, chains);
  if (retire_next_ + chains > main) RetireExtensions(0, retire_next_ + chains - main);
  retire_next_ = (retire_next_ + chains) % main;
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
  std::vector<uint32_t> found;
  Collect(
      0, key_slots(), [&](const CtKey& k, const CtEntry& e) { return filter.Matches(k, e); },
      found);
  std::vector<CtConnection> out;
  const uint32_t now = Tick(NowMs());
  for (const uint32_t r : found) {
    if (out.size() >= max) break;
    const CtKey& k = records_[r].key[0];
    const CtEntry* e = &records_[r].entry;
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
  return free_ == nullptr ? 0 : capacity_ - rte_ring_count(free_);
}

}  // namespace nodeplane::dp
