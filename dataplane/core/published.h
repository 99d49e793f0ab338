// Published<T>: one RCU-published pointer. Workers Get() once per loop iteration and drop the
// pointer before reporting quiescent; the single control writer publishes a fully built object,
// waits for the grace period (never a sleep) and frees the old one on its own thread.
#pragma once
#include <atomic>
#include <memory>

#include "dataplane/core/rcu.h"

namespace nodeplane::dp {

template <typename T>
class Published {
 public:
  explicit Published(Rcu& rcu) : rcu_(rcu) {}
  ~Published() { delete current_.load(); }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // Worker: valid until the caller's next quiescent report.
  const T* Get() const noexcept { return current_.load(std::memory_order_acquire); }

  // Control (single writer). Nothing here can fail: `next` is already built and validated.
  // Returns after every worker has left the old object behind, which is then freed.
  void Publish(std::unique_ptr<const T> next) {
    const T* old = current_.exchange(next.release(), std::memory_order_acq_rel);
    rcu_.Synchronize();
    delete old;
  }

  // Control: the RCU variable workers report to, for grace periods outside Publish().
  Rcu& rcu() const noexcept { return rcu_; }

 private:
  Rcu& rcu_;
  std::atomic<const T*> current_{nullptr};  // dp: ro, ctl: rw
  static_assert(std::atomic<const T*>::is_always_lock_free);
};

}  // namespace nodeplane::dp
