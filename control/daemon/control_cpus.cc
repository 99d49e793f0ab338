#include "control/daemon/control_cpus.h"

#include <pthread.h>
#include <rte_lcore.h>

namespace nodeplane::ctl {

cpu_set_t ProcessCpus() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &cpus);
  }
  return cpus;
}

ControlCpus::ControlCpus(const cpu_set_t& process_cpus, const std::vector<unsigned>& worker_lcores) {
  CPU_ZERO(&before_);
  pthread_getaffinity_np(pthread_self(), sizeof(before_), &before_);
  control_ = process_cpus;
  for (unsigned lcore : worker_lcores) {
    const rte_cpuset_t lcpus = rte_lcore_cpuset(lcore);
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &lcpus)) CPU_CLR(c, &control_);
    }
  }
  if (CPU_COUNT(&control_) == 0) control_ = process_cpus;
  pthread_setaffinity_np(pthread_self(), sizeof(control_), &control_);
}

ControlCpus::~ControlCpus() { pthread_setaffinity_np(pthread_self(), sizeof(before_), &before_); }

}  // namespace nodeplane::ctl
