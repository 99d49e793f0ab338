// Control threads off the workers' CPUs. The EAL pins the main thread to the main lcore's CPU and
// every thread started from it inherits that pinning: the gRPC server's threads, whose Applier
// spins in RCU grace periods waiting for the workers, would share worker 0's CPU, so each grace
// period would last until the scheduler switched between them (milliseconds on a busy CPU) and
// the worker would lose its CPU to the control plane. ControlCpus moves the calling thread — and
// so every thread it starts — to the CPUs the process may use minus the workers' (all of them when
// none is left, e.g. on one CPU), and puts it back on its lcore when it goes.
#pragma once
#include <sched.h>

#include <cstdint>
#include <vector>

namespace nodeplane::ctl {

// The CPUs this process may run on; call before the EAL pins the main thread.
cpu_set_t ProcessCpus();

class ControlCpus {
 public:
  ControlCpus(const cpu_set_t& process_cpus, const std::vector<unsigned>& worker_lcores);
  ~ControlCpus();  // the calling thread back on the CPUs it had (its lcore's)
  ControlCpus(const ControlCpus&) = delete;
  ControlCpus& operator=(const ControlCpus&) = delete;

  const cpu_set_t& cpus() const { return control_; }

 private:
  cpu_set_t before_;
  cpu_set_t control_;
};

}  // namespace nodeplane::ctl
