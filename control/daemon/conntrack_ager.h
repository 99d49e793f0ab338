// ConntrackAger: the control thread that removes expired connections from the conntrack table,
// a slice at a time so that no single pass holds the table's control lock (or a grace period)
// for long, and workers never wait: they only report quiescent as they always do.
// Every `period` it visits `slice` key slots; a full sweep of the table takes
// (key_slots / slice) × period (about 10 s by default), so a connection outlives its timeout by
// at most that.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "dataplane/tables/conntrack.h"

namespace nodeplane::ctl {

class ConntrackAger {
 public:
  struct Config {
    std::chrono::milliseconds period{100};
    uint32_t slice = 0;  // 0: key_slots / 100 (a sweep in 100 periods), at least 1024
  };

  ConntrackAger(dp::Conntrack& ct, Config cfg);
  ~ConntrackAger();  // stops the thread
  ConntrackAger(const ConntrackAger&) = delete;
  ConntrackAger& operator=(const ConntrackAger&) = delete;

  void Start();
  void Stop();

  // One slice now (what the thread does every period); returns the connections removed.
  size_t Tick();

 private:
  dp::Conntrack& ct_;
  Config cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nodeplane::ctl
