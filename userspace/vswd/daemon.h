// Daemon: vswd's top level. Owns the bridges and implements the management server's
// Backend: each configuration change (already validated and saved by the server) is
// applied by reconciling bridges — new ones opened, removed ones destroyed, the rest
// reconfigured — and status queries are answered from the live bridges.
//
// Threads: everything here runs on the main io_context thread; bridges own their handler
// and revalidator threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "config/mgmt_server.h"
#include "dpif/dpif.h"
#include "upcall/udpif.h"
#include "vswd/bridge.h"
#include "vswd/links.h"

namespace vsw::vswd {

class Daemon final : public config::Backend {
 public:
  Daemon(boost::asio::io_context& io, dpif::Dpif& control, const LinkMonitor& links,
         upcall::Udpif::DpifFactory factory)
      : io_(io), control_(control), links_(links), factory_(std::move(factory)) {}
  ~Daemon() override;
  // Each bridge BR listens on DIR/BR.mgmt for OpenFlow tools (service connections, never
  // controllers); "" (the default): no such sockets. Takes effect for bridges opened later.
  void set_service_dir(std::string dir) { service_dir_ = std::move(dir); }

  // config::Backend
  void apply(const config::Config& config) override;
  void status(config::ShowReply& out) override;
  Result<void> fdb(const std::string& bridge, config::FdbReply& out) override;
  void upcalls(config::UpcallReply& out) override;
  Result<void> trace(const std::string& bridge, const std::string& flow,
                     config::TraceReply& out) override;
  Result<void> dump_flows(const std::string& bridge, config::DumpFlowsReply& out) override;

  // Links changed: the bridges that use one of them attach ports whose interfaces appeared
  // and note the ones that went.
  void links_changed(const LinkNames& changed);
  // Every bridge reconciles (the periodic catch-all for anything an event missed).
  void reconcile_all();
  // Stops every bridge's threads; datapaths stay (restart keeps forwarding).
  void shutdown();

 private:
  boost::asio::io_context& io_;
  dpif::Dpif& control_;
  const LinkMonitor& links_;
  upcall::Udpif::DpifFactory factory_;
  std::string service_dir_;
  Result<Bridge*> running(const std::string& bridge);

  std::map<std::string, std::unique_ptr<Bridge>> bridges_;
  unsigned n_handlers_ = 0;
  std::uint64_t link_reconciles_ = 0;  // bridges reconciled for a link event (upcall/show)
};

}  // namespace vsw::vswd
