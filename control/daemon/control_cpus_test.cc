// ControlCpus: threads started while it is in place run off the workers' CPUs (whenever another
// CPU exists), and the thread that becomes worker 0 is back on its lcore's CPU afterwards.
#include "control/daemon/control_cpus.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <rte_lcore.h>

#include <thread>

#include "dataplane/testing/test_eal.h"

namespace nodeplane::ctl {
namespace {

cpu_set_t ThreadCpus() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus);
  return cpus;
}

TEST(ControlCpus, ThreadsStartedMeanwhileAvoidTheWorkersCpusAndTheLcoreGetsItsOwnBack) {
  const cpu_set_t process = ProcessCpus();  // before the EAL pins this thread
  dp::testing::Eal("ctlcpus");
  const cpu_set_t lcore_cpus = ThreadCpus();
  const rte_cpuset_t worker = rte_lcore_cpuset(rte_get_main_lcore());
  cpu_set_t started;
  CPU_ZERO(&started);
  {
    ControlCpus control(process, {rte_get_main_lcore()});
    std::thread t([&] { started = ThreadCpus(); });
    t.join();
  }
  const cpu_set_t after = ThreadCpus();
  EXPECT_TRUE(CPU_EQUAL(&after, &lcore_cpus)) << "back on its lcore's CPU";
  cpu_set_t expected = process;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &worker)) CPU_CLR(c, &expected);
  }
  if (CPU_COUNT(&expected) == 0) expected = process;  // one CPU: nowhere else to go
  EXPECT_TRUE(CPU_EQUAL(&started, &expected))
      << CPU_COUNT(&started) << " CPUs, expected " << CPU_COUNT(&expected);
  if (CPU_COUNT(&process) > CPU_COUNT(&worker)) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &worker)) {
        EXPECT_FALSE(CPU_ISSET(c, &started)) << "worker CPU " << c;
      }
    }
  }
}

}  // namespace
}  // namespace nodeplane::ctl
