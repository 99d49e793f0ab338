// A NETLINK_ROUTE socket that sends one request at a time and waits for the kernel's full answer.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/netns/netlink_message.h"
#include "control/netns/unique_fd.h"

namespace nodeplane::ctl::nl {

// A netlink socket acts in the network namespace it was created in, whichever thread later uses it;
// that is what lets the caller drive a pod's namespace without ever leaving its own.
class Socket {
 public:
  // A socket in the calling thread's current network namespace.
  static absl::StatusOr<Socket> Open();
  // A socket in the namespace `netns_fd` refers to, created on a short-lived thread
  // (netns_thread.h).
  static absl::StatusOr<Socket> OpenInNetns(int netns_fd);

  // Sends `req` with NLM_F_REQUEST|NLM_F_ACK and reads until the kernel's ACK (or NLMSG_DONE for a
  // dump), returning the replies in between. An error ACK becomes a Status "<what>: <strerror>",
  // with the kernel's extended-ACK text when it gives one. Interrupted dumps are retried.
  absl::StatusOr<std::vector<Message>> Transact(const Request& req, std::string_view what);
  absl::Status Exec(const Request& req, std::string_view what) {
    return Transact(req, what).status();
  }

 private:
  explicit Socket(UniqueFd fd) : fd_(std::move(fd)) {}
  absl::StatusOr<std::vector<Message>> TransactOnce(const Request& req, std::string_view what,
                                                    bool* interrupted);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

}  // namespace nodeplane::ctl::nl
