// See mgmt_client.h.
#include "config/mgmt_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "config/frame.h"

namespace vsw::config {

Result<MgmtClient> MgmtClient::connect(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return make_error(ENAMETOOLONG, "bad socket path '" + path + "' (1.." +
                                        std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errno, "cannot create a socket");
  MgmtClient client(fd, path);
  if (timeout.count() > 0) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  int r;
  do {
    r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return make_error(err, "cannot reach vswd at " + path + " (is it running?)");
    return make_error(err, "cannot reach vswd at " + path + ": " + std::strerror(err));
  }
  return client;
}

MgmtClient::MgmtClient(MgmtClient&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

MgmtClient& MgmtClient::operator=(MgmtClient&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

MgmtClient::~MgmtClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Reply> MgmtClient::call(const Request& request) {
  auto fail = [&](int err, const std::string& what) {
    if (err == EAGAIN || err == EWOULDBLOCK)
      return make_error(ETIMEDOUT, "vswd at " + path_ + " did not answer in time");
    return make_error(err, "vswd at " + path_ + ": " + what);
  };
  if (fd_ < 0) return make_error(EBADF, "not connected");
  auto framed = encode_frame(request);
  if (!framed) return framed.error();
  std::size_t done = 0;
  while (done < framed->size()) {
    ssize_t n = ::send(fd_, framed->data() + done, framed->size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, std::string("cannot send: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  auto read_exact = [&](char* buf, std::size_t len) -> Result<void> {
    std::size_t got = 0;
    while (got < len) {
      ssize_t n = ::recv(fd_, buf + got, len - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno, std::string("cannot receive: ") + std::strerror(errno));
      if (n == 0) return fail(ECONNRESET, "closed the connection without a reply");
      got += static_cast<std::size_t>(n);
    }
    return {};
  };
  std::array<std::uint8_t, kFrameHeader> header{};
  if (auto ok = read_exact(reinterpret_cast<char*>(header.data()), header.size()); !ok)
    return ok.error();
  const std::uint32_t len = decode_length(header);
  if (len > kMaxMessage)
    return fail(EPROTO, "reply of " + std::to_string(len) + " bytes exceeds the limit");
  std::string body(len, '\0');
  if (auto ok = read_exact(body.data(), len); !ok) return ok.error();
  Reply reply;
  if (!reply.ParseFromString(body)) return fail(EPROTO, "unparsable reply");
  return reply;
}

}  // namespace vsw::config
