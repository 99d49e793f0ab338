// NeighborResolver: resolves the remote nodes' underlay next hops by ARP on the uplink.
//   Learning:  workers report ARP requests and replies from wanted next hops through
//              dp::NeighborEvents; every period (~100 ms) the resolver drains them into
//              Applier::LearnNeighbor (which republishes when a next hop's MAC appears or changes).
//   Asking:    for each unresolved next hop it broadcasts an ARP request on the uplink — from its
//              own tx queue when the uplink has one past the workers', else through a worker
//              (dp::ControlTx, drained by worker 0 on its own queue) — at most once a second per
//              address, backing off to once every 30 s while nobody answers.
//   Ageing:    a learned entry not confirmed for 60 s is re-asked once a second; after 3 requests
//              without an answer it is forgotten (Applier::ForgetNeighbor: the remote node is
//              unresolved again and its packets are dropped as neighbor_unresolved).
// The timing is NeighborSchedule, a pure class driven by the caller's clock (tested without sleeping).
#pragma once
#include <rte_mempool.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "control/daemon/applier.h"
#include "dataplane/core/control_tx.h"
#include "dataplane/core/neighbor_events.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

class NeighborSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  struct Params {
    Clock::duration first_retry = std::chrono::seconds(1);  // unresolved: 1 s, 2 s, 4 s, …
    Clock::duration max_retry = std::chrono::seconds(30);
    Clock::duration refresh_after = std::chrono::seconds(60);  // learned: re-ask once this old
    Clock::duration refresh_retry = std::chrono::seconds(1);
    uint32_t max_unanswered = 3;  // re-asks without an answer before a learned entry is forgotten
  };
  struct Actions {
    std::vector<Ip4> ask;     // send an ARP request for each
    std::vector<Ip4> forget;  // ForgetNeighbor each
  };

  NeighborSchedule() = default;
  explicit NeighborSchedule(Params p) : p_(p) {}

  // `unresolved`: next hops without a MAC. `stale`: learned entries last confirmed longer than
  // refresh_after ago (NeighborCache::LearnedBefore(now − refresh_after)). Anything in neither is
  // resolved and fresh: its retry state is dropped (an answer resets the count).
  Actions Tick(Clock::time_point now, const std::vector<Ip4>& unresolved,
               const std::vector<Ip4>& stale);
  const Params& params() const { return p_; }

 private:
  struct State {
    Clock::time_point next;      // not before this
    Clock::duration backoff{};   // current retry interval (unresolved)
    uint32_t unanswered = 0;     // requests sent since the last answer (stale)
    bool stale = false;
  };
  Params p_;
  std::map<Ip4, State> state_;
};

// Builds a broadcast ARP request for `target` from (mac, ip) into `frame` (42 bytes).
void BuildArpRequest(Mac mac, Ip4 sender, Ip4 target, uint8_t (&frame)[42]);

class NeighborResolver {
 public:
  struct Config {
    std::optional<uint16_t> port;      // the uplink; unset: no uplink, nothing to resolve
    std::optional<uint16_t> tx_queue;  // the resolver's own queue; unset: through control_tx
    dp::ControlTx* control_tx = nullptr;  // a worker sends for it; with neither: passive only
    Mac mac;                           // the uplink's MAC (ARP sender hardware address)
    rte_mempool* pool = nullptr;       // for the requests it sends
    std::chrono::milliseconds period{100};
    NeighborSchedule::Params schedule;
  };
  struct Stats {
    std::atomic<uint64_t> learned{0}, requests_sent{0}, requests_failed{0}, forgotten{0};
  };

  NeighborResolver(Applier& applier, dp::NeighborEvents& events, Config config);
  ~NeighborResolver();  // Stop()s

  void Start();
  void Stop();
  // One round (what the thread does every period): drain, schedule, send. For tests.
  void RunOnce(NeighborSchedule::Clock::time_point now);
  const Stats& stats() const { return stats_; }

 private:
  void Loop();
  bool Send(Ip4 sender, Ip4 target);

  Applier& applier_;
  dp::NeighborEvents& events_;
  const Config config_;
  NeighborSchedule schedule_;  // resolver thread only
  Stats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nodeplane::ctl
