// Network namespace handles and the setns thread.
#include "control/netns/netns_thread.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include "control/netns/errors.h"

namespace nodeplane::ctl {

absl::StatusOr<UniqueFd> OpenNetns(const std::string& netns_path) {
  const std::string what = "netns " + Quoted(netns_path);
  if (netns_path.empty()) return absl::InvalidArgumentError("netns path is empty");
  UniqueFd fd(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    absl::Status s = ErrnoStatus(err, what);
    // Whatever the reason, there is no namespace there to use.
    if (err == ENOTDIR || err == ELOOP) return absl::NotFoundError(s.message());
    return s;
  }
  // NS_GET_NSTYPE fails (ENOTTY) on anything that is not an nsfs file, e.g. an /run/netns entry
  // whose bind mount is gone.
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) return absl::NotFoundError(what + ": not a network namespace");
  return fd;
}

absl::StatusOr<UniqueFd> OpenThreadNetns() { return OpenNetns("/proc/thread-self/ns/net"); }

absl::Status RunInNetns(int netns_fd, const std::function<absl::Status()>& fn) {
  absl::Status result;
  try {
    std::thread worker([&] {
      if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        result = ErrnoStatus(errno, "joining the network namespace (setns)");
        return;
      }
      result = fn();
    });
    worker.join();
  } catch (const std::system_error& e) {  // std::thread reports a failed clone() this way
    return absl::InternalError(std::string("starting a thread to enter a network namespace: ") +
                               e.what());
  }
  return result;
}

}  // namespace nodeplane::ctl
