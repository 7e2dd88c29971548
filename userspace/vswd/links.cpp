// LinkMonitor (see links.h).
#include "vswd/links.h"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vsw::vswd {

namespace {
void on_cache_change(nl_cache* /*cache*/, nl_object* /*obj*/, int /*action*/, void* arg) {
  *static_cast<bool*>(arg) = true;
}
}  // namespace

Result<std::unique_ptr<LinkMonitor>> LinkMonitor::open(boost::asio::io_context& io,
                                                       std::function<void()> on_change) {
  std::unique_ptr<LinkMonitor> m(new LinkMonitor(io, std::move(on_change)));
  int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &m->mngr_);
  if (err < 0)
    return make_error(EIO, std::string("cannot watch network interfaces: ") + nl_geterror(err));
  err = nl_cache_mngr_add(m->mngr_, "route/link", on_cache_change, &m->changed_, &m->cache_);
  if (err < 0)
    return make_error(EIO, std::string("cannot read network interfaces: ") + nl_geterror(err));
  const int fd = ::dup(nl_cache_mngr_get_fd(m->mngr_));
  if (fd < 0) return make_error(errno, "cannot watch network interfaces");
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
                   changed_ = false;
                   (void)nl_cache_mngr_data_ready(mngr_);
                   if (changed_ && on_change_) on_change_();
                   arm();
                 });
}

std::optional<Link> LinkMonitor::find(const std::string& name) const {
  rtnl_link* l = rtnl_link_get_by_name(cache_, name.c_str());
  if (!l) return std::nullopt;
  Link out{rtnl_link_get_ifindex(l), (rtnl_link_get_flags(l) & IFF_UP) != 0, {}};
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == out.mac.size())
    std::memcpy(out.mac.data(), nl_addr_get_binary_addr(a), out.mac.size());
  rtnl_link_put(l);
  return out;
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
