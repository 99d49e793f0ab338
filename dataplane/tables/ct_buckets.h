// CtBuckets: conntrack's key index — from a key's hash to the connection records that may hold
// it. Lock-free for every worker: readers only load, workers add with compare-and-swap, and only
// control (one thread at a time) clears.
//
// Each key has two candidate buckets of seven slots, one cache line each. A key goes to its first
// bucket when a slot is free there, else to its second, else to a chain of extension buckets
// hanging off its first bucket; the first bucket then counts one more key living elsewhere
// ("overflow"), so that a lookup reads further only when some key of its first bucket overflowed.
// At the load the table is sized for (half the slots when full), about 74 keys in 75 sit in their
// first bucket: an established packet reads one bucket line and one record line. Extension
// buckets come from a fixed reserve (the caller's free list) and go back to it once empty:
// workers link a new one at the head of a chain; control retires an empty one by filling its
// free slots with tombstones (compare-and-swap, so no worker can claim one meanwhile; a slot a
// worker took first makes control give up), unlinking it, and returning it to the reserve after
// an RCU grace period (RetireEmpty, Recycle).
//
// A slot is one 64-bit word: 0 = empty; kTombstone = an empty slot of a bucket being retired;
// else the key's 16-bit signature (never 0), the reply tag and 1 + the record index. The
// signature filters records before their keys are compared.
//
// Memory ordering: a worker writes the record, then publishes it with the slot's compare-and-swap
// (release); an extension bucket is filled before it is linked (release); readers load with
// acquire. Control clears a slot with a release store and reuses the record only after an RCU
// grace period (conntrack.cc).
#pragma once
#include <rte_prefetch.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace nodeplane::dp {

struct alignas(64) CtBucket {
  static constexpr uint32_t kSlots = 7;
  std::atomic<uint64_t> slot[kSlots];
  std::atomic<uint32_t> overflow;  // keys whose first choice is this bucket, living elsewhere
  std::atomic<uint32_t> next;      // the next extension bucket of this one's chain; 0 = none
};
static_assert(sizeof(CtBucket) == 64);

// Where a key's slots may be, from its hash.
struct CtPlace {
  uint32_t first;   // bucket index
  uint32_t second;  // bucket index (may equal first in tiny tables)
  uint16_t sig;     // never 0
};

class CtBuckets {
 public:
  static constexpr uint64_t kReplyBit = uint64_t{1} << 32;
  // Signature 0, which no key has: lookups never match it, inserts never take it.
  static constexpr uint64_t kTombstone = 1;
  static bool HoldsKey(uint64_t v) noexcept { return v != 0 && v != kTombstone; }

  static uint64_t SlotValue(uint16_t sig, uint32_t record, bool reply) noexcept {
    return (uint64_t{sig} << 48) | (reply ? kReplyBit : 0) | (uint64_t{record} + 1);
  }
  static uint32_t RecordOf(uint64_t v) noexcept { return static_cast<uint32_t>(v) - 1; }
  static bool ReplyOf(uint64_t v) noexcept { return (v & kReplyBit) != 0; }
  static uint16_t SigOf(uint64_t v) noexcept { return static_cast<uint16_t>(v >> 48); }

  // `main + extension` lines of storage (zeroed, 64-byte aligned) owned by the caller.
  void Attach(CtBucket* buckets, uint32_t main, uint32_t extension) noexcept {
    b_ = buckets;
    n_ = main;
    n_ext_ = extension;
  }
  uint32_t size() const noexcept { return n_ + n_ext_; }  // buckets in all
  CtBucket& bucket(uint32_t i) const noexcept { return b_[i]; }

  // The key hash (CRC32-C, linear over the key's bits) is first mixed (a multiply-xorshift
  // finaliser): the tuples of a busy node differ in few bits, and a linear hash of them leaves
  // whole ranges of buckets unused. The first bucket comes from the high bits (multiply-shift range
  // reduction, so the count needs not be a power of two), the signature from the low bits, the
  // second bucket from a second multiply.
  static uint32_t Mix(uint32_t hash) noexcept {
    uint32_t x = hash ^ (hash >> 16);
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    return x ^ (x >> 16);
  }
  static uint16_t Sig(uint32_t mixed) noexcept {
    const auto sig = static_cast<uint16_t>(mixed);
    return sig != 0 ? sig : 1;
  }
  // A lookup's common case needs only the first bucket (and the signature): the second is
  // computed when the first overflowed (PlaceMixed).
  uint32_t First(uint32_t mixed) const noexcept { return Range(mixed); }
  CtPlace PlaceMixed(uint32_t mixed) const noexcept {
    const uint32_t y = mixed * 0x9e3779b1u;
    return CtPlace{Range(mixed), Range(y ^ (y >> 15)), Sig(mixed)};
  }
  CtPlace Place(uint32_t hash) const noexcept { return PlaceMixed(Mix(hash)); }
  void Prefetch(uint32_t bucket) const noexcept { rte_prefetch0(&b_[bucket]); }

  // Calls `fn(slot value)` for each slot of `bucket` with signature `sig` until it returns true;
  // returns the value it stopped at, or 0.
  template <typename Fn>
  uint64_t Scan(uint32_t bucket, uint16_t sig, Fn&& fn) const noexcept {
    const CtBucket& b = b_[bucket];
#pragma GCC unroll 7
    for (uint32_t s = 0; s < CtBucket::kSlots; ++s) {
      const uint64_t v = b.slot[s].load(std::memory_order_acquire);
      if (SigOf(v) == sig && fn(v)) return v;
    }
    return 0;
  }
  // Every bucket the key may be in: the second and the chain only when the first overflowed.
  template <typename Fn>
  uint64_t Find(const CtPlace& p, Fn&& fn) const noexcept {
    if (const uint64_t v = Scan(p.first, p.sig, fn); v != 0) return v;
    return FindBeyondFirst(p, fn);
  }
  // The same for a key known not to be in its first bucket.
  template <typename Fn>
  uint64_t FindBeyondFirst(const CtPlace& p, Fn&& fn) const noexcept {
    if (b_[p.first].overflow.load(std::memory_order_acquire) == 0) return 0;
    if (p.second != p.first) {
      if (const uint64_t v = Scan(p.second, p.sig, fn); v != 0) return v;
    }
    for (uint32_t b = b_[p.first].next.load(std::memory_order_acquire); b != 0;
         b = b_[b].next.load(std::memory_order_acquire)) {
      if (const uint64_t v = Scan(b, p.sig, fn); v != 0) return v;
    }
    return 0;
  }

  // Worker: claims a free slot for `value`. `take_extension()` gives a free extension bucket's
  // index (zeroed), or 0 when the reserve is empty. False when the key's buckets and the
  // reserve are all full.
  template <typename TakeExtension>
  bool Insert(const CtPlace& p, uint64_t value, TakeExtension&& take_extension) noexcept {
    if (Claim(b_[p.first], value)) return true;
    // Counted before it is visible, so a reader that finds nothing in the first bucket and no
    // overflow is right that the key is absent.
    b_[p.first].overflow.fetch_add(1, std::memory_order_release);
    if (p.second != p.first && Claim(b_[p.second], value)) return true;
    std::atomic<uint32_t>& head = b_[p.first].next;
    for (uint32_t b = head.load(std::memory_order_acquire); b != 0;
         b = b_[b].next.load(std::memory_order_acquire)) {
      if (Claim(b_[b], value)) return true;
    }
    const uint32_t fresh = take_extension();
    if (fresh == 0) {
      b_[p.first].overflow.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    b_[fresh].slot[0].store(value, std::memory_order_relaxed);
    // Linked at the chain's head (filled first, then published by the release): only control
    // ever changes an extension bucket's link, so it can unlink one without racing a worker.
    uint32_t first = head.load(std::memory_order_acquire);
    do {
      b_[fresh].next.store(first, std::memory_order_relaxed);
    } while (!head.compare_exchange_weak(first, fresh, std::memory_order_release,
                                         std::memory_order_acquire));
    return true;
  }

  // Control (one thread at a time): unlinks the empty extension buckets of the chains of main
  // buckets [from, from + count) and appends them to `retired`. Workers may be reading or
  // claiming in them until the next RCU grace period; then Recycle.
  void RetireEmpty(uint32_t from, uint32_t count, std::vector<uint32_t>& retired) noexcept {
    for (uint32_t m = from; m < from + count && m < n_; ++m) {
      std::atomic<uint32_t>* link = &b_[m].next;
      uint32_t x = link->load(std::memory_order_acquire);
      while (x != 0) {
        const uint32_t after = b_[x].next.load(std::memory_order_acquire);
        if (!Tombstone(b_[x])) {
          link = &b_[x].next;
          x = after;
          continue;
        }
        // Only the head link can have changed (a worker linked a bucket before x): then x's
        // predecessor is found again from the head.
        uint32_t expected = x;
        while (!link->compare_exchange_strong(expected, after, std::memory_order_release,
                                              std::memory_order_acquire)) {
          link = &b_[m].next;
          for (uint32_t y = link->load(std::memory_order_acquire); y != x;
               y = link->load(std::memory_order_acquire)) {
            link = &b_[y].next;
          }
          expected = x;
        }
        retired.push_back(x);
        x = after;
      }
    }
  }
  // Control, after a grace period that followed RetireEmpty: the buckets are empty again.
  void Recycle(const std::vector<uint32_t>& retired) noexcept {
    for (const uint32_t x : retired) {
      for (auto& slot : b_[x].slot) slot.store(0, std::memory_order_relaxed);
      b_[x].overflow.store(0, std::memory_order_relaxed);
      b_[x].next.store(0, std::memory_order_relaxed);
    }
  }
  uint32_t main_buckets() const noexcept { return n_; }
  uint32_t extension_buckets() const noexcept { return n_ext_; }

  // Control: clears the slot holding exactly `value` (a key of one record). False if none does.
  bool Remove(const CtPlace& p, uint64_t value) noexcept {
    if (ClearIn(p.first, value)) return true;
    bool found = p.second != p.first && ClearIn(p.second, value);
    for (uint32_t b = b_[p.first].next.load(std::memory_order_acquire); !found && b != 0;
         b = b_[b].next.load(std::memory_order_acquire)) {
      found = ClearIn(b, value);
    }
    if (found) b_[p.first].overflow.fetch_sub(1, std::memory_order_relaxed);
    return found;
  }

 private:
  uint32_t Range(uint32_t h) const noexcept {
    return static_cast<uint32_t>((uint64_t{h} * n_) >> 32);
  }
  static bool Claim(CtBucket& b, uint64_t value) noexcept {
    for (uint32_t s = 0; s < CtBucket::kSlots; ++s) {
      uint64_t empty = 0;
      if (b.slot[s].load(std::memory_order_relaxed) == 0 &&
          b.slot[s].compare_exchange_strong(empty, value, std::memory_order_release,
                                            std::memory_order_relaxed))
        return true;
    }
    return false;
  }
  // Control: every slot of an empty bucket becomes a tombstone. False, with the bucket as it
  // was, if a slot holds a key (or a worker claims one first).
  static bool Tombstone(CtBucket& b) noexcept {
    for (uint32_t s = 0; s < CtBucket::kSlots; ++s) {
      uint64_t empty = 0;
      if (!b.slot[s].compare_exchange_strong(empty, kTombstone, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
        for (uint32_t u = 0; u < s; ++u) b.slot[u].store(0, std::memory_order_release);
        return false;
      }
    }
    return true;
  }
  bool ClearIn(uint32_t bucket, uint64_t value) noexcept {
    CtBucket& b = b_[bucket];
    for (uint32_t s = 0; s < CtBucket::kSlots; ++s) {
      if (b.slot[s].load(std::memory_order_relaxed) == value) {
        b.slot[s].store(0, std::memory_order_release);
        return true;
      }
    }
    return false;
  }

  CtBucket* b_ = nullptr;
  uint32_t n_ = 0;      // buckets a key hashes to
  uint32_t n_ext_ = 0;  // extension buckets after them
};

}  // namespace nodeplane::dp
