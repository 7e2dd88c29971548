// LinkMonitor: the host's network interfaces by name, kept current by rtnetlink events
// (libnl-route-3's cache manager), for the daemon's port reconciliation.
//
// A configured port whose interface does not exist yet stays configured; when the
// interface appears, the change callback runs and the daemon attaches it. When an
// interface disappears the kernel detaches its port by itself; the callback lets the
// daemon record the port as detached (still configured).
//
// The monitor keeps its own index of the links by name (libnl's rtnl_link_get_by_name walks
// the whole cache), and tells the callback which names an event batch touched (a rename
// touches both names), so a host with thousands of interfaces costs a bridge nothing when
// links it does not use come and go.
//
// Nothing is lost to a burst. The event socket's receive buffer is large (4 MiB by default:
// a thousand veth pairs made at once send several MB); if it still overflows (ENOBUFS), the
// events in between are gone, so the monitor re-reads every link (nl_cache_resync) and
// reports whatever differs as changed, as if the events had arrived. Counted: resyncs().
//
// Runs on the daemon's main io_context (the fd is watched with Boost.Asio).
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "util/result.h"

struct nl_cache;
struct nl_cache_mngr;
struct nl_object;

namespace vsw::vswd {

struct Link {
  int ifindex = 0;
  bool up = false;                    // IFF_UP
  std::array<std::uint8_t, 6> mac{};  // the link-layer address (zero if not Ethernet-sized)
};

using LinkNames = std::unordered_set<std::string>;

class LinkMonitor {
 public:
  // on_change runs on the io_context after links were added, removed or changed, with the
  // names of those links.
  using OnChange = std::function<void(const LinkNames& changed)>;
  static constexpr int kEventBuffer = 4 << 20;
  // event_buffer: the event socket's receive buffer in bytes (tests make it small).
  static Result<std::unique_ptr<LinkMonitor>> open(boost::asio::io_context& io, OnChange on_change,
                                                   int event_buffer = kEventBuffer);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  [[nodiscard]] std::optional<Link> find(const std::string& name) const;
  // Turns the interface administratively up or down (IFF_UP, RTM_NEWLINK on a socket of its
  // own); the change comes back as an event like any other.
  [[nodiscard]] Result<void> set_up(const std::string& name, bool up) const;
  // Times the event socket overflowed and every link was re-read.
  [[nodiscard]] std::uint64_t resyncs() const { return resyncs_; }

 private:
  LinkMonitor(boost::asio::io_context& io, OnChange on_change)
      : sd_(io), on_change_(std::move(on_change)) {}
  void arm();
  void resync();
  // Brings the index up to date with one link libnl added, changed or deleted.
  void note(nl_object* obj, bool deleted);
  static void on_cache_change(nl_cache* cache, nl_object* obj, int action, void* arg);

  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* cache_ = nullptr;
  boost::asio::posix::stream_descriptor sd_;
  OnChange on_change_;
  std::unordered_map<std::string, Link> by_name_;
  std::unordered_map<int, std::string> name_of_;  // ifindex -> name, to see renames
  LinkNames changed_;                             // names touched by the batch being read
  std::uint64_t resyncs_ = 0;
  bool must_resync_ = false;  // the last resync failed
};

}  // namespace vsw::vswd
