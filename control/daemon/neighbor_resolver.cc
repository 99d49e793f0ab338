#include "control/daemon/neighbor_resolver.h"

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace nodeplane::ctl {

NeighborSchedule::Actions NeighborSchedule::Tick(Clock::time_point now,
                                                 const std::vector<Ip4>& unresolved,
                                                 const std::vector<Ip4>& stale) {
  Actions out;
  std::map<Ip4, State> next;
  for (const Ip4& ip : unresolved) {
    State s;
    if (auto it = state_.find(ip); it != state_.end() && !it->second.stale) s = it->second;
    if (s.backoff == Clock::duration{} || now >= s.next) {
      out.ask.push_back(ip);
      s.backoff = s.backoff == Clock::duration{} ? p_.first_retry
                                                 : std::min(s.backoff * 2, p_.max_retry);
      s.next = now + s.backoff;
    }
    next[ip] = s;
  }
  for (const Ip4& ip : stale) {
    if (next.count(ip) != 0) continue;
    State s;
    s.stale = true;
    if (auto it = state_.find(ip); it != state_.end() && it->second.stale) s = it->second;
    if (s.unanswered > 0 && now < s.next) {
      next[ip] = s;
      continue;
    }
    if (s.unanswered >= p_.max_unanswered) {
      out.forget.push_back(ip);  // and no state: if still a next hop it is unresolved from now on
      continue;
    }
    out.ask.push_back(ip);
    ++s.unanswered;
    s.next = now + p_.refresh_retry;
    next[ip] = s;
  }
  state_ = std::move(next);
  return out;
}

void BuildArpRequest(Mac mac, Ip4 sender, Ip4 target, uint8_t (&frame)[42]) {
  std::memset(frame, 0, sizeof(frame));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  std::memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
  std::memcpy(eth->src_addr.addr_bytes, mac.bytes.data(), RTE_ETHER_ADDR_LEN);
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = sizeof(uint32_t);
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, mac.bytes.data(), RTE_ETHER_ADDR_LEN);
  arp->arp_data.arp_sip = sender.be;
  arp->arp_data.arp_tip = target.be;  // tha stays zero
}

NeighborResolver::NeighborResolver(Applier& applier, dp::NeighborEvents& events, Config config)
    : applier_(applier), events_(events), config_(config), schedule_(config.schedule) {}

NeighborResolver::~NeighborResolver() { Stop(); }

void NeighborResolver::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void NeighborResolver::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NeighborResolver::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    RunOnce(NeighborSchedule::Clock::now());
    lock.lock();
    cv_.wait_for(lock, config_.period, [this] { return stop_; });
  }
}

void NeighborResolver::RunOnce(NeighborSchedule::Clock::time_point now) {
  dp::NeighborEvent batch[64];
  unsigned n = 0;
  while ((n = events_.Drain(batch, 64)) > 0) {
    for (unsigned i = 0; i < n; ++i) {
      Ip4 ip;
      ip.be = batch[i].ip;
      Mac mac;
      mac.bytes = batch[i].mac;
      if (applier_.LearnNeighbor(ip, mac).ok()) stats_.learned.fetch_add(1);
    }
  }
  const std::vector<Ip4> unresolved = applier_.UnresolvedNextHops();
  // Ageing needs asking: a resolver that cannot send keeps what it learned (passive refresh only).
  const bool can_ask = config_.port && (config_.tx_queue || config_.control_tx != nullptr) &&
                       config_.pool != nullptr;
  const std::vector<Ip4> stale =
      can_ask ? applier_.neighbors().LearnedBefore(now - config_.schedule.refresh_after)
              : std::vector<Ip4>{};
  const NeighborSchedule::Actions actions = schedule_.Tick(now, unresolved, stale);
  for (const Ip4& ip : actions.forget) {
    if (applier_.ForgetNeighbor(ip).ok()) stats_.forgotten.fetch_add(1);
  }
  if (actions.ask.empty() || !can_ask) return;
  // The sender address: this node's on the underlay (its VTEP, else its first address).
  Ip4 sender;
  if (const auto& node = applier_.state().node; node) {
    sender = node->vtep != Ip4{} ? node->vtep
                                 : (node->addresses.empty() ? Ip4{} : node->addresses.front().addr);
  }
  for (const Ip4& ip : actions.ask) {
    if (Send(sender, ip)) {
      stats_.requests_sent.fetch_add(1);
    } else {
      stats_.requests_failed.fetch_add(1);
    }
  }
}

bool NeighborResolver::Send(Ip4 sender, Ip4 target) {
  uint8_t frame[42];
  BuildArpRequest(config_.mac, sender, target, frame);
  rte_mbuf* m = rte_pktmbuf_alloc(config_.pool);
  if (m == nullptr) return false;
  char* p = rte_pktmbuf_append(m, sizeof(frame));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(p, frame, sizeof(frame));
  const bool queued = config_.tx_queue
                          ? rte_eth_tx_burst(*config_.port, *config_.tx_queue, &m, 1) == 1
                          : config_.control_tx->Offer(m, *config_.port);
  if (!queued) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

}  // namespace nodeplane::ctl
