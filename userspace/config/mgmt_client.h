// MgmtClient: a blocking client of the management socket (vsw-ctl and tests use it).
//
// One connection; call() sends a Request and waits for its Reply. A daemon that does not
// answer within the timeout (when one is given) is an error, as is a reply that does not
// parse. The client never raises SIGPIPE (MSG_NOSIGNAL).
//
// Errors: "cannot reach vswd at PATH (is it running?)" (ENOENT/ECONNREFUSED: no socket
// file or nobody listening), "cannot reach vswd at PATH: <strerror>" for anything else on
// connect, then "vswd at PATH: ..." for failures during a call.
#pragma once

#include <chrono>
#include <string>

#include "config/mgmt.pb.h"
#include "util/result.h"

namespace vsw::config {

class MgmtClient {
 public:
  // timeout 0: wait forever.
  [[nodiscard]] static Result<MgmtClient> connect(const std::string& socket_path,
                                                  std::chrono::milliseconds timeout = {});

  MgmtClient(MgmtClient&& other) noexcept;
  MgmtClient& operator=(MgmtClient&& other) noexcept;
  MgmtClient(const MgmtClient&) = delete;
  MgmtClient& operator=(const MgmtClient&) = delete;
  ~MgmtClient();

  // Sends one request and returns the daemon's reply (which may itself carry an error).
  [[nodiscard]] Result<Reply> call(const Request& request);

 private:
  MgmtClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace vsw::config
