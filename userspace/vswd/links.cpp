// LinkMonitor (see links.h).
#include "vswd/links.h"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace vsw::vswd {

void LinkMonitor::on_cache_change(nl_cache* /*cache*/, nl_object* obj, int action, void* arg) {
  static_cast<LinkMonitor*>(arg)->note(obj, action == NL_ACT_DEL);
}

void LinkMonitor::note(nl_object* obj, bool deleted) {
  auto* l = reinterpret_cast<rtnl_link*>(obj);       // libnl's link objects are nl_objects
  if (rtnl_link_get_family(l) != AF_UNSPEC) return;  // e.g. a Linux bridge's AF_BRIDGE view
  const int ifindex = rtnl_link_get_ifindex(l);
  const char* name = rtnl_link_get_name(l);
  // Forget what this ifindex was called (it is gone, or it may have been renamed).
  if (auto it = name_of_.find(ifindex); it != name_of_.end()) {
    changed_.insert(it->second);
    if (auto b = by_name_.find(it->second); b != by_name_.end() && b->second.ifindex == ifindex)
      by_name_.erase(b);
    name_of_.erase(it);
  }
  if (!name) return;
  changed_.insert(name);
  if (deleted) return;
  Link link{ifindex, (rtnl_link_get_flags(l) & IFF_UP) != 0, {}};
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == link.mac.size())
    std::memcpy(link.mac.data(), nl_addr_get_binary_addr(a), link.mac.size());
  by_name_[name] = link;
  name_of_[ifindex] = name;
}

Result<std::unique_ptr<LinkMonitor>> LinkMonitor::open(boost::asio::io_context& io,
                                                       OnChange on_change, int event_buffer) {
  std::unique_ptr<LinkMonitor> m(new LinkMonitor(io, std::move(on_change)));
  int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &m->mngr_);
  if (err < 0)
    return make_error(EIO, std::string("cannot watch network interfaces: ") + nl_geterror(err));
  err = nl_cache_mngr_add(m->mngr_, "route/link", on_cache_change, m.get(), &m->cache_);
  if (err < 0)
    return make_error(EIO, std::string("cannot read network interfaces: ") + nl_geterror(err));
  nl_cache_foreach(
      m->cache_,
      [](nl_object* obj, void* arg) { static_cast<LinkMonitor*>(arg)->note(obj, false); }, m.get());
  m->changed_.clear();
  const int fd = ::dup(nl_cache_mngr_get_fd(m->mngr_));
  if (fd < 0) return make_error(errno, "cannot watch network interfaces");
  // As root past net.core.rmem_max (SO_RCVBUFFORCE), else as far as rmem_max allows.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &event_buffer, sizeof event_buffer) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &event_buffer, sizeof event_buffer);
  boost::system::error_code ec;
  m->sd_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return make_error(ec.value(), "cannot watch network interfaces: " + ec.message());
  }
  m->arm();
  return m;
}

LinkMonitor::~LinkMonitor() {
  boost::system::error_code ec;
  sd_.close(ec);
  if (mngr_) nl_cache_mngr_free(mngr_);
}

void LinkMonitor::arm() {
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this](const boost::system::error_code& ec) {
                   if (ec) return;
                   changed_.clear();
                   // An error is most likely ENOBUFS (NLE_NOMEM): events were lost.
                   if (nl_cache_mngr_data_ready(mngr_) < 0 || must_resync_) resync();
                   if (!changed_.empty() && on_change_) on_change_(changed_);
                   arm();
                 });
}

void LinkMonitor::resync() {
  ++resyncs_;
  nl_sock* sock = nl_socket_alloc();
  int err = sock ? nl_connect(sock, NETLINK_ROUTE) : -NLE_NOMEM;
  if (err >= 0) err = nl_cache_resync(sock, cache_, on_cache_change, this);
  if (sock) nl_socket_free(sock);
  must_resync_ = err < 0;  // tried again at the next event
  if (err < 0)
    log::rate_limited(log::Level::kWarn, "link-resync",
                      "link events were lost; re-reading the links failed: %s", nl_geterror(err));
  else
    log::rate_limited(log::Level::kWarn, "link-resync",
                      "link events were lost (the event socket overflowed): every link re-read");
}

std::optional<Link> LinkMonitor::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

Result<void> LinkMonitor::set_up(const std::string& name, bool up) const {
  rtnl_link* orig = rtnl_link_get_by_name(cache_, name.c_str());
  if (!orig) return make_error(ENODEV, "no interface " + name);
  nl_sock* sock = nl_socket_alloc();
  rtnl_link* change = rtnl_link_alloc();
  int err = !sock || !change ? -NLE_NOMEM : nl_connect(sock, NETLINK_ROUTE);
  if (err >= 0) {
    if (up)
      rtnl_link_set_flags(change, IFF_UP);
    else
      rtnl_link_unset_flags(change, IFF_UP);
    err = rtnl_link_change(sock, orig, change, 0);
  }
  if (change) rtnl_link_put(change);
  if (sock) nl_socket_free(sock);
  rtnl_link_put(orig);
  if (err < 0)
    return make_error(EIO, "cannot set " + name + (up ? " up: " : " down: ") + nl_geterror(err));
  return {};
}

}  // namespace vsw::vswd
