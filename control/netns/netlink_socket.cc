// NETLINK_ROUTE request/ACK exchange.
#include "control/netns/netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <string>

#include "control/netns/errors.h"
#include "control/netns/netns_thread.h"

namespace nodeplane::ctl::nl {
namespace {

// rtnetlink answers synchronously; a missing answer means something is badly wrong, and a control
// thread must not hang on it forever.
constexpr int kReceiveTimeoutSeconds = 10;
constexpr int kDumpAttempts = 5;

// One datagram from the kernel (other senders are ignored).
absl::StatusOr<std::string> ReceiveDatagram(int fd, std::string_view what) {
  for (;;) {
    const ssize_t size = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (size < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return absl::DeadlineExceededError(std::string(what) +
                                           ": no answer from the kernel within " +
                                           std::to_string(kReceiveTimeoutSeconds) + " s");
      }
      return ErrnoStatus(errno, std::string(what) + ": receiving the netlink answer");
    }
    std::string buf(static_cast<size_t>(size), '\0');
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t got =
        ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, std::string(what) + ": receiving the netlink answer");
    }
    if (from.nl_pid != 0) continue;
    buf.resize(static_cast<size_t>(got));
    return buf;
  }
}

// The kernel's extended-ACK message, if any. `offset` is where the TLVs start in the payload.
std::string ExtAckMessage(const Message& m, size_t offset) {
  if (!(m.flags & NLM_F_ACK_TLVS) || offset > m.payload.size()) return {};
  return Attrs(m.payload, offset).String(NLMSGERR_ATTR_MSG).value_or("");
}

}  // namespace

absl::StatusOr<Socket> Socket::Open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return ErrnoStatus(errno, "opening a NETLINK_ROUTE socket");
  const int one = 1;
  // Best effort: extended ACKs only improve error messages; capped ACKs skip the request echo.
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = kReceiveTimeoutSeconds;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    return ErrnoStatus(errno, "setting the netlink receive timeout");
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    return ErrnoStatus(errno, "binding a NETLINK_ROUTE socket");
  }
  return Socket(std::move(fd));
}

absl::StatusOr<Socket> Socket::OpenInNetns(int netns_fd) {
  absl::StatusOr<Socket> socket = absl::InternalError("netlink socket not opened");
  absl::Status ran = RunInNetns(netns_fd, [&] {
    socket = Open();
    return socket.status();
  });
  if (!ran.ok()) return ran;
  return socket;
}

absl::StatusOr<std::vector<Message>> Socket::Transact(const Request& req, std::string_view what) {
  for (int attempt = 1;; ++attempt) {
    bool interrupted = false;
    auto replies = TransactOnce(req, what, &interrupted);
    if (!replies.ok() || !interrupted) return replies;
    if (attempt == kDumpAttempts) {
      return absl::UnavailableError(std::string(what) +
                                    ": dump kept changing underneath, gave up after " +
                                    std::to_string(kDumpAttempts) + " attempts");
    }
  }
}

absl::StatusOr<std::vector<Message>> Socket::TransactOnce(const Request& req, std::string_view what,
                                                          bool* interrupted) {
  const uint32_t seq = ++seq_;
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + req.body().size());
  hdr.nlmsg_type = req.type();
  hdr.nlmsg_flags = static_cast<uint16_t>(req.flags() | NLM_F_REQUEST | NLM_F_ACK);
  hdr.nlmsg_seq = seq;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov[2] = {{&hdr, NLMSG_HDRLEN}, {const_cast<char*>(req.body().data()), req.body().size()}};
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t sent;
  do {
    sent = ::sendmsg(fd_.get(), &msg, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return ErrnoStatus(errno, std::string(what) + ": sending the netlink request");
  if (static_cast<size_t>(sent) != hdr.nlmsg_len) {
    return absl::InternalError(std::string(what) + ": netlink request sent short");
  }

  std::vector<Message> replies;
  for (;;) {
    auto datagram = ReceiveDatagram(fd_.get(), what);
    if (!datagram.ok()) return datagram.status();
    const std::string& buf = *datagram;
    size_t pos = 0;
    while (pos + NLMSG_HDRLEN <= buf.size()) {
      nlmsghdr h;
      std::memcpy(&h, buf.data() + pos, sizeof h);
      if (h.nlmsg_len < NLMSG_HDRLEN || pos + h.nlmsg_len > buf.size()) {
        return absl::InternalError(std::string(what) + ": malformed netlink answer");
      }
      Message m{h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq,
                buf.substr(pos + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN)};
      pos += NLMSG_ALIGN(h.nlmsg_len);
      if (m.seq != seq) continue;  // a late answer to an earlier request that gave up
      if (m.flags & NLM_F_DUMP_INTR) *interrupted = true;

      if (m.type == NLMSG_ERROR) {
        auto err = m.Header<nlmsgerr>();
        if (!err) return absl::InternalError(std::string(what) + ": truncated netlink ACK");
        if (err->error == 0) return replies;
        const size_t tlv_offset =
            sizeof(nlmsgerr) + ((m.flags & NLM_F_CAPPED) ? 0 : err->msg.nlmsg_len - NLMSG_HDRLEN);
        return ErrnoStatus(-err->error, what, ExtAckMessage(m, tlv_offset));
      }
      if (m.type == NLMSG_DONE) {
        const int error = m.Header<int>().value_or(0);
        if (error < 0) return ErrnoStatus(-error, what, ExtAckMessage(m, sizeof(int)));
        return replies;
      }
      if (m.type == NLMSG_NOOP || m.type == NLMSG_OVERRUN) continue;
      replies.push_back(std::move(m));
    }
  }
}

}  // namespace nodeplane::ctl::nl
