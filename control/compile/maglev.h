// Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted: the lookup table of one
// Service port, built on the control thread and read by svc_lb with one multiply-shift and one
// load per new connection. Backends are identified by a stable key (address and port), so adding or
// removing one moves only about 1/N of the flows, and a flow whose conntrack entry is lost still
// lands on the same backend in most cases.
//
// Size: the table length M is the smallest prime >= kSlotsPerBackend × N (at least kMinSlots), so
// the imbalance between backends stays within about 1% (the paper's M >> N). Entries are 16-bit
// backend indices: 10 backends → M = 1009 → 2,018 bytes; 10k Services × 10 endpoints ≈ 20 MB for
// the cluster tables (each Service port with eTP/iTP Local adds a table for its local set, sized
// from that set). At kMaxBackendsPerService (4096) M = 409,609: 800 KiB.
//
// Weights: a backend's share of the slots is its weight over the sum of the weights, to within a
// slot or two. With weights of at most kSlotsPerBackend (the API's limit, kMaxEndpointWeight) a
// backend of weight 1 beside N-1 of the largest weight still gets a slot, as M >= kSlotsPerBackend
// × N; building takes about M × max weight / sum of weights rounds over the N backends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nodeplane::ctl {

inline constexpr uint32_t kSlotsPerBackend = 100;
inline constexpr uint32_t kMinSlots = 211;

struct MaglevBackend {
  uint64_t key = 0;     // stable identity: (address << 16) | port
  uint32_t weight = 1;  // relative share; 0 = takes no slots (only when another backend has weight)
};

// The table length for n backends: a prime, >= kMinSlots.
uint32_t MaglevTableSize(size_t n);

// Slot → index into `backends`. Empty when `backends` is empty or every weight is 0.
std::vector<uint16_t> BuildMaglevTable(const std::vector<MaglevBackend>& backends, uint32_t size);

// The slot a flow hash selects (also what svc_lb computes): multiply-shift, no division.
inline uint32_t MaglevSlot(uint32_t flow_hash, uint32_t size) {
  return static_cast<uint32_t>((static_cast<uint64_t>(flow_hash) * size) >> 32);
}

}  // namespace nodeplane::ctl
