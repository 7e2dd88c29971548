// vswd: the vsw switch daemon. Reads its configuration from the state directory, makes
// every configured bridge a kernel datapath served by handler and revalidator threads,
// and takes configuration changes from vsw-ctl over its management socket. See
// docs/vswd.md.
#include <getopt.h>
#include <malloc.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "config/mgmt_server.h"
#include "config/store.h"
#include "dpif/dpif_netlink.h"
#include "util/log.h"
#include "vswd/daemon.h"
#include "vswd/links.h"

namespace {

constexpr const char* kUsage =
    "usage: vswd [OPTIONS]\n"
    "The vsw switch daemon: serves the upcalls of vsw.ko datapaths and keeps their flow\n"
    "caches right; configured with vsw-ctl.\n"
    "\n"
    "  --state-dir DIR    configuration directory (default /var/lib/vsw)\n"
    "  --socket PATH      management socket (default /run/vsw/vswd.sock, or $VSW_SOCKET)\n"
    "  --log-level LEVEL  error, warn, info (default) or debug\n"
    "  --syslog           log to syslog instead of stderr\n"
    "  --help             this text\n"
    "\n"
    "Stops cleanly on SIGTERM or SIGINT; datapaths and their cached flows stay in the\n"
    "kernel, so a restarted vswd resumes without a forwarding gap.\n";

struct Args {
  std::string state_dir = "/var/lib/vsw";
  std::string socket = "/run/vsw/vswd.sock";
  vsw::log::Level level = vsw::log::Level::kInfo;
  bool syslog = false;
};

// Returns -1 to go on, else the exit status.
int parse(int argc, char** argv, Args& a) {
  if (const char* s = std::getenv("VSW_SOCKET"); s && *s) a.socket = s;
  static const option opts[] = {{"state-dir", required_argument, nullptr, 'd'},
                                {"socket", required_argument, nullptr, 's'},
                                {"log-level", required_argument, nullptr, 'l'},
                                {"syslog", no_argument, nullptr, 'S'},
                                {"help", no_argument, nullptr, 'h'},
                                {nullptr, 0, nullptr, 0}};
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
    switch (c) {
      case 'd':
        a.state_dir = optarg;
        break;
      case 's':
        a.socket = optarg;
        break;
      case 'l':
        if (!vsw::log::parse_level(optarg, a.level)) {
          std::fprintf(stderr, "vswd: unknown log level '%s' (error, warn, info, debug)\n", optarg);
          return 2;
        }
        break;
      case 'S':
        a.syslog = true;
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fprintf(stderr, "vswd: unknown or incomplete option '%s' (see vswd --help)\n",
                     argv[optind - 1]);
        return 2;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "vswd: unexpected argument '%s' (see vswd --help)\n", argv[optind]);
    return 2;
  }
  return -1;
}

int run(const Args& a) {
  using namespace vsw;
  log::init(a.level, a.syslog);

  auto control = dpif::NetlinkDpif::open();
  if (!control) {
    std::fprintf(stderr, "vswd: %s\n", control.error().to_string().c_str());
    return 1;
  }
  config::ConfigStore store(a.state_dir);
  auto cfg = store.load();
  if (!cfg) {
    std::fprintf(stderr, "vswd: %s\n", cfg.error().to_string().c_str());
    return 1;
  }

  boost::asio::io_context io;
  vswd::Daemon* daemon_ptr = nullptr;
  auto links = vswd::LinkMonitor::open(io, [&](const vswd::LinkNames& changed) {
    if (daemon_ptr) daemon_ptr->links_changed(changed);
  });
  if (!links) {
    std::fprintf(stderr, "vswd: %s\n", links.error().to_string().c_str());
    return 1;
  }
  vswd::Daemon daemon(io, **control, **links, []() -> Result<std::unique_ptr<dpif::Dpif>> {
    auto d = dpif::NetlinkDpif::open();
    if (!d) return d.error();
    return std::unique_ptr<dpif::Dpif>(std::move(*d));
  });
  daemon_ptr = &daemon;
  // Bridges' OpenFlow service sockets (BR.mgmt) go beside the management socket; its
  // directory is made now, before the bridges open (a failure shows when the server starts).
  const std::filesystem::path sock_dir = std::filesystem::path(a.socket).parent_path();
  std::error_code dir_ec;
  if (!sock_dir.empty()) std::filesystem::create_directories(sock_dir, dir_ec);
  daemon.set_service_dir(sock_dir.empty() ? "." : sock_dir.string());
  daemon.apply(*cfg);

  config::MgmtServer server(io, a.socket, store, std::move(*cfg), daemon);
  if (auto r = server.start(); !r) {
    std::fprintf(stderr, "vswd: %s\n", r.error().to_string().c_str());
    return 1;
  }
  log::info("vswd started: state in %s, listening on %s", a.state_dir.c_str(), a.socket.c_str());

  // A periodic reconcile catches anything a missed link event would leave behind.
  boost::asio::steady_timer tick(io);
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::seconds(5));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      daemon.reconcile_all();
      arm();
    });
  };
  arm();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("signal %d: stopping (datapaths and their flows stay in the kernel)", sig);
    server.stop();
    tick.cancel();
    io.stop();
  });
  io.run();
  daemon.shutdown();
  log::info("vswd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Fewer malloc arenas: glibc gives each thread (handlers, revalidators) its own, up to
  // 8 per CPU, and memory freed into one (ukeys the revalidator deletes were made by the
  // handlers) is reused and trimmed only there, so a flow-setup storm left vswd's RSS far
  // above what it held. Two arenas keep handlers from contending on one lock; the
  // revalidator trims after big deletions (upcall/udpif.cpp). MALLOC_ARENA_MAX overrides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) (void)mallopt(M_ARENA_MAX, 2);
  try {
    Args a;
    const int rc = parse(argc, argv, a);
    if (rc >= 0) return rc;
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vswd: %s\n", e.what());
    return 1;
  }
}
