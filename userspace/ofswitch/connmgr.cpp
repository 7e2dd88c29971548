// Per-bridge connection manager. See connmgr.h.
#include "ofswitch/connmgr.h"

#include <set>

#include "ofswitch/flow_removed.h"
#include "ofswitch/port_status.h"
#include "util/log.h"

namespace vsw::ofswitch {

namespace asio = boost::asio;

ConnMgr::ConnMgr(asio::io_context& io, Agent& agent, Options options, ControllerFn on_change)
    : io_(io),
      agent_(agent),
      options_(options),
      on_change_(std::move(on_change)),
      flush_timer_(io),
      expire_timer_(io),
      removed_timer_(io) {
  agent_.set_want_flush([this] { schedule_flush(); });
  (void)port_changes(known_ports_, agent_.port_desc());  // the ports there are: no message
  schedule_expire();
}

ConnMgr::~ConnMgr() {
  // Asio's cancel/close may throw (only if the OS refuses them); a destructor must not let
  // that out.
  try {
    stopping_ = true;  // connections closed now do not report a controller change
    flush_timer_.cancel();
    expire_timer_.cancel();
    removed_timer_.cancel();
    for (auto& [t, e] : entries_) stop(*e);
    entries_.clear();
    if (service_) stop(*service_);
    service_.reset();
    agent_.set_want_flush({});
    agent_.flush();
  } catch (...) {
  }
  *alive_ = false;
}

// Armed once and left to run: a change staged while it runs (after a barrier published the
// previous ones, say) is published when it fires, sooner than flush_delay after the change.
// Re-arming per FLOW_MOD would cancel and queue a wait per round trip.
void ConnMgr::schedule_flush() {
  if (flush_armed_) return;
  flush_armed_ = true;
  flush_timer_.expires_after(options_.flush_delay);
  flush_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive) return;
    flush_armed_ = false;
    if (ec) return;
    agent_.flush();
    note_removed();
  });
}

void ConnMgr::schedule_expire() {
  if (options_.expire_every.count() <= 0) return;
  expire_timer_.expires_after(options_.expire_every);
  expire_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    expire();
    schedule_expire();
  });
}

std::size_t ConnMgr::expire() {
  ofproto::Tables& tables = agent_.tables();
  const std::size_t n = tables.expire(tables.now());
  if (n) agent_.flush();  // the revalidators delete the rules' megaflows now
  note_removed();
  return n;
}

void ConnMgr::note_removed() {
  if (removed_armed_ || options_.removed_delay.count() <= 0 || !agent_.tables().has_removed())
    return;
  removed_armed_ = true;
  removed_timer_.expires_after(options_.removed_delay);
  removed_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive) return;
    removed_armed_ = false;
    if (!ec) send_removed();
  });
}

template <class F>
void ConnMgr::for_each_peer(F f) {
  for (auto& [t, e] : entries_)
    for (auto& [c, peer] : e->peers) f(*e, peer);
  if (service_)
    for (auto& [c, peer] : service_->peers) f(*service_, peer);
}

void ConnMgr::demote_masters(const Session& keep) {
  for_each_peer([&](Entry& e, Peer& peer) {
    if (&peer.session == &keep || peer.session.role != Role::kMaster) return;
    peer.session.role = Role::kSlave;
    log::info("%s: %s (%s) is a slave now: another connection became master", agent_.name().c_str(),
              peer.conn->peer().c_str(), e.target.c_str());
  });
}

std::size_t ConnMgr::ports_changed(const openflow::Connection* source) {
  std::size_t sent = 0;
  for (const openflow::PortStatus& ps : port_changes(known_ports_, agent_.port_desc())) {
    for_each_peer([&](Entry&, Peer& peer) {
      if (peer.conn.get() == source || !peer.conn->negotiated()) return;
      auto bytes = port_status(peer.session, ps);
      if (!bytes) return;
      peer.conn->send_bytes(std::move(*bytes));
      ++sent;
    });
  }
  port_status_sent_ += sent;
  return sent;
}

std::size_t ConnMgr::send_removed() {
  agent_.flush();  // a removal still staged is published before it is reported
  std::size_t sent = 0;
  for (const ofproto::RemovedRule& r : agent_.tables().take_removed()) {
    const auto to = [&](Entry& e) {
      for (auto& [c, peer] : e.peers) {
        if (!peer.conn->negotiated()) continue;
        auto bytes = flow_removed(peer.session, r);
        if (!bytes) continue;
        peer.conn->send_bytes(std::move(*bytes));
        ++sent;
      }
    };
    for (auto& [t, e] : entries_) to(*e);
    if (service_) to(*service_);
  }
  flow_removed_sent_ += sent;
  return sent;
}

void ConnMgr::set_targets(const std::vector<std::string>& targets) {
  const std::set<std::string> wanted(targets.begin(), targets.end());
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    log::info("%s: controller %s removed", agent_.name().c_str(), it->first.c_str());
    stop(*it->second);
    it = entries_.erase(it);
  }
  for (const std::string& t : targets) {
    auto& e = entries_[t];
    if (!e) {
      e = std::make_unique<Entry>();
      e->target = t;
    }
    if (!e->listener && !e->connector) (void)start(*e);  // a failure stays in its state
  }
}

std::error_code ConnMgr::set_service(const std::string& path) {
  if (service_) {
    if (service_->target == "punix:" + path) return {};
    stop(*service_);
    service_.reset();
  }
  if (path.empty()) return {};
  service_ = std::make_unique<Entry>();
  service_->target = "punix:" + path;
  service_->controller = false;
  const std::error_code ec = start(*service_);
  if (ec) service_.reset();
  return ec;
}

std::error_code ConnMgr::start(Entry& e) {
  openflow::Target t;
  e.error.clear();
  e.active = e.target.starts_with("tcp:") || e.target.starts_with("unix:");
  if (e.target.starts_with("unix:")) {
    e.error = "unsupported (unix: targets are not implemented)";
    return std::make_error_code(std::errc::not_supported);
  }
  if (openflow::parse_target(e.target, t)) {
    e.error = "bad target";
    return std::make_error_code(std::errc::invalid_argument);
  }
  Entry* ep = &e;
  auto factory = [this, ep, alive = alive_](openflow::Socket s) {
    if (!*alive) return std::shared_ptr<openflow::Connection>();
    return make_connection(*ep, std::move(s));
  };
  std::error_code ec;
  if (e.active) {
    e.connector = std::make_unique<openflow::Connector>(io_, factory, options_.backoff);
    ec = e.connector->start(e.target);
    if (ec) e.connector.reset();
  } else {
    e.listener = std::make_unique<openflow::Listener>(io_, factory);
    ec = e.listener->open(e.target);
    if (ec) e.listener.reset();
  }
  if (ec) {
    e.error = ec.message();
    log::warn("%s: %s %s: %s", agent_.name().c_str(), e.controller ? "controller" : "service",
              e.target.c_str(), e.error.c_str());
  } else {
    log::info("%s: %s %s started", agent_.name().c_str(), e.controller ? "controller" : "service",
              e.target.c_str());
  }
  return ec;
}

void ConnMgr::stop(Entry& e) {
  if (e.connector) e.connector->stop();
  if (e.listener) e.listener->close();
  std::vector<std::shared_ptr<openflow::Connection>> conns;
  for (auto& [p, peer] : e.peers) conns.push_back(peer.conn);
  for (auto& c : conns) c->close();  // closed() erases each peer
  e.peers.clear();
  // The connector's coroutine still refers to it until its cancelled waits complete.
  if (e.connector)
    asio::post(io_, [c = std::shared_ptr<openflow::Connector>(std::move(e.connector))] {});
  e.listener.reset();
}

std::shared_ptr<openflow::Connection> ConnMgr::make_connection(Entry& e, openflow::Socket socket) {
  Entry* ep = &e;
  auto on_message = [this, ep, alive = alive_](openflow::Connection& c, openflow::Message& m) {
    if (!*alive) return;
    auto it = ep->peers.find(&c);
    if (it == ep->peers.end()) return;
    Session& session = it->second.session;
    agent_.handle(session, m, [&c](openflow::Bytes b) { c.send_bytes(std::move(b)); });
    if (m.type() == openflow::MsgType::kRoleRequest && session.role == Role::kMaster)
      demote_masters(session);
    if (m.type() == openflow::MsgType::kPortMod) ports_changed(&c);
    note_removed();  // a FLOW_MOD delete may have logged removals
  };
  auto on_close = [this, ep, alive = alive_](openflow::Connection& c) {
    if (*alive) closed(*ep, c);
  };
  auto conn = openflow::Connection::create(std::move(socket), options_.connection,
                                           std::move(on_message), std::move(on_close));
  e.peers[conn.get()] = Peer{conn, e.controller ? Session{} : Session::for_service()};
  // Tools like ovs-ofctl connect once per command: their connections log at debug level.
  log::write(e.controller ? log::Level::kInfo : log::Level::kDebug,
             "%s: %s connection from %s (%s)", agent_.name().c_str(),
             e.controller ? "controller" : "service", conn->peer().c_str(), e.target.c_str());
  if (e.controller && ++n_controllers_ == 1 && on_change_) on_change_(true);
  return conn;
}

void ConnMgr::closed(Entry& e, openflow::Connection& c) {
  auto it = e.peers.find(&c);
  if (it == e.peers.end()) return;
  // Release our reference later: c may be running its own close() right now.
  asio::post(io_, [conn = std::move(it->second.conn)] {});
  e.peers.erase(it);
  log::write(e.controller ? log::Level::kInfo : log::Level::kDebug, "%s: connection to %s closed",
             agent_.name().c_str(), e.target.c_str());
  if (e.controller && --n_controllers_ == 0 && on_change_ && !stopping_) on_change_(false);
}

void ConnMgr::packet_in(const ofproto::ControllerPacket& p) {
  const auto to = [&](Entry& e) {
    for (auto& [c, peer] : e.peers) {
      if (!peer.conn->negotiated()) continue;
      auto bytes = agent_.packet_in(peer.session, p);
      if (!bytes) continue;
      if (peer.conn->queued() >= kPacketInBacklog) {
        ++packet_ins_congested_;
        continue;
      }
      peer.conn->send_bytes(std::move(*bytes));
    }
  };
  for (auto& [t, e] : entries_) to(*e);
  if (service_) to(*service_);
}

std::vector<TargetStatus> ConnMgr::status() const {
  std::vector<TargetStatus> out;
  for (const auto& [t, e] : entries_) {
    TargetStatus s;
    s.target = t;
    s.connections = static_cast<unsigned>(e->peers.size());
    unsigned negotiated = 0;
    for (const auto& [p, peer] : e->peers) negotiated += peer.conn->negotiated() ? 1 : 0;
    s.connected = negotiated > 0;
    for (const auto& [p, peer] : e->peers) {
      if (!peer.conn->negotiated()) continue;
      if (!s.role.empty()) s.role += ",";
      s.role += role_name(peer.session.role);
    }
    if (!e->error.empty()) {
      s.state = e->error;
    } else if (e->active) {
      if (s.connected)
        s.state = "connected";
      else if (s.connections)
        s.state = "connecting (handshake)";
      else
        s.state = "connecting (attempt " + std::to_string(e->connector->attempts()) + ")";
    } else {
      s.state = "listening";
      if (s.connections) s.state += " (" + std::to_string(s.connections) + " connected)";
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::uint16_t ConnMgr::port(const std::string& target) const {
  auto it = entries_.find(target);
  if (it == entries_.end() || !it->second->listener) return 0;
  return it->second->listener->port();
}

}  // namespace vsw::ofswitch
