#include "control/daemon/neighbor_cache.h"

namespace nodeplane::ctl {

void NeighborCache::AddStatic(Ip4 ip, Mac mac, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(ip);
  if (!inserted && !it->second.is_static) --learned_;
  it->second = Entry{mac, now, true};
}

NeighborCache::Change NeighborCache::Learn(Ip4 ip, Mac mac, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (learned_ >= capacity_) return Change::kRefused;
    entries_.emplace(ip, Entry{mac, now, false});
    ++learned_;
    return Change::kNew;
  }
  Entry& e = it->second;
  if (e.is_static) return e.mac == mac ? Change::kNone : Change::kRefused;
  const bool changed = e.mac != mac;
  e.mac = mac;
  e.learned = now;
  return changed ? Change::kMacChanged : Change::kRefreshed;
}

bool NeighborCache::Forget(Ip4 ip) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.is_static) return false;
  entries_.erase(it);
  --learned_;
  return true;
}

std::vector<Ip4> NeighborCache::LearnedBefore(Clock::time_point cutoff) const {
  std::lock_guard lock(mu_);
  std::vector<Ip4> out;
  for (const auto& [ip, e] : entries_) {
    if (!e.is_static && e.learned < cutoff) out.push_back(ip);
  }
  return out;
}

std::optional<NeighborCache::Entry> NeighborCache::Lookup(Ip4 ip) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(ip);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

NeighborMap NeighborCache::Resolved() const {
  std::lock_guard lock(mu_);
  NeighborMap out;
  for (const auto& [ip, e] : entries_) out.emplace(ip, e.mac);
  return out;
}

size_t NeighborCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace nodeplane::ctl
