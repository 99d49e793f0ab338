#include "control/daemon/conntrack_ager.h"

#include <algorithm>

namespace nodeplane::ctl {

ConntrackAger::ConntrackAger(dp::Conntrack& ct, Config cfg) : ct_(ct), cfg_(cfg) {
  if (cfg_.slice == 0) cfg_.slice = std::max<uint32_t>(1024, ct_.key_slots() / 100);
}

ConntrackAger::~ConntrackAger() { Stop(); }

void ConntrackAger::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, cfg_.period, [this] { return stop_; })) {
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void ConntrackAger::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t ConntrackAger::Tick() { return ct_.Age(ct_.NowMs(), cfg_.slice); }

}  // namespace nodeplane::ctl
