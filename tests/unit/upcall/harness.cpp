// The upcall test rig (see harness.h).
#include "harness.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "dpif/flow_text.h"
#include "dpif/netlink_message.h"
#include "dpif/vsw_messages.h"

namespace vsw::upcall::test {

using namespace std::chrono_literals;

// ---- Gate -----------------------------------------------------------------------------------
void Gate::arm() {
  std::lock_guard lock(mu_);
  armed_ = true;
  reached_ = released_ = false;
}

void Gate::pass() {
  if (claim()) wait_release();
}

bool Gate::claim() {
  std::lock_guard lock(mu_);
  if (!armed_) return false;
  armed_ = false;
  return true;
}

void Gate::wait_release() {
  std::unique_lock lock(mu_);
  reached_ = true;
  cv_.notify_all();
  // Bounded, so a failed test cannot hang the revalidator (and the test's teardown).
  cv_.wait_for(lock, 10s, [this] { return released_; });
}

bool Gate::wait_reached(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return reached_; });
}

void Gate::release() {
  std::lock_guard lock(mu_);
  released_ = true;
  armed_ = false;
  cv_.notify_all();
}

// ---- SharedDatapath -------------------------------------------------------------------------
SharedDatapath::SharedDatapath() {
  REQUIRE(fake_.dp_create(kDp).ok());
  for (std::uint32_t p = 1; p <= 3; ++p)
    REQUIRE(fake_.port_add(kDp, "p" + std::to_string(p), p, 0).ok());
}

void SharedDatapath::fix_used(dpif::FlowEntry& e) const {
  e.used_ms.reset();
  for (const auto& [m, when] : last_hit_) {
    if (!(m == e.match)) continue;
    const auto ago = std::chrono::steady_clock::now() - when;
    e.used_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(ago).count());
  }
}

std::vector<dpif::FlowEntry> SharedDatapath::flows() {
  std::lock_guard lock(mu_);
  std::vector<dpif::FlowEntry> out;
  auto r = fake_.flow_dump(kDp, [&](const dpif::FlowEntry& f) {
    out.push_back(f);
    fix_used(out.back());
  });
  REQUIRE(r.ok());
  return out;
}

std::optional<dpif::FlowEntry> SharedDatapath::flow(const dpif::Match& m) {
  for (auto& f : flows())
    if (f.match == m) return f;
  return std::nullopt;
}

int SharedDatapath::executed() {
  std::lock_guard lock(mu_);
  return fake_.executed;
}

std::vector<dpif::FakeDpif::Execution> SharedDatapath::executions() {
  std::lock_guard lock(mu_);
  return fake_.executions;
}

bool SharedDatapath::hit(const dpif::Match& m, std::uint64_t packets, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (!fake_.hit(kDp, m, packets, bytes)) return false;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [match, when] : last_hit_)
    if (match == m) {
      when = now;
      return true;
    }
  last_hit_.emplace_back(m, now);
  return true;
}

// ---- ForwardingDpif -------------------------------------------------------------------------
#define VSW_FORWARD(call)           \
  do {                              \
    std::lock_guard lock(d_->mu()); \
    return d_->fake().call;         \
  } while (0)

Result<dpif::DatapathInfo> ForwardingDpif::dp_create(std::string_view name) {
  VSW_FORWARD(dp_create(name));
}
Result<void> ForwardingDpif::dp_delete(std::string_view name) {
  VSW_FORWARD(dp_delete(name));
}
Result<dpif::DatapathInfo> ForwardingDpif::dp_get(std::string_view name) {
  VSW_FORWARD(dp_get(name));
}
Result<std::vector<dpif::DatapathInfo>> ForwardingDpif::dp_list() {
  VSW_FORWARD(dp_list());
}
Result<void> ForwardingDpif::dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) {
  VSW_FORWARD(dp_set_upcall_pid(dp, pid));
}
Result<void> ForwardingDpif::dp_set_upcall_pids(std::string_view dp,
                                                std::span<const std::uint32_t> pids) {
  VSW_FORWARD(dp_set_upcall_pids(dp, pids));
}
Result<dpif::PortInfo> ForwardingDpif::port_add(std::string_view dp, std::string_view iface,
                                                std::optional<std::uint32_t> port_no,
                                                std::uint32_t upcall_pid) {
  VSW_FORWARD(port_add(dp, iface, port_no, upcall_pid));
}
Result<void> ForwardingDpif::port_del(std::string_view dp, std::string_view iface) {
  VSW_FORWARD(port_del(dp, iface));
}
Result<std::vector<dpif::PortInfo>> ForwardingDpif::port_list(std::string_view dp) {
  VSW_FORWARD(port_list(dp));
}
Result<void> ForwardingDpif::port_set_upcall_pid(std::string_view dp, std::uint32_t port_no,
                                                 std::uint32_t pid) {
  VSW_FORWARD(port_set_upcall_pid(dp, port_no, pid));
}
Result<void> ForwardingDpif::flow_put(std::string_view dp, const dpif::Match& match,
                                      const dpif::Actions& actions, dpif::FlowPut mode,
                                      bool clear_stats) {
  VSW_FORWARD(flow_put(dp, match, actions, mode, clear_stats));
}
Result<dpif::FlowEntry> ForwardingDpif::flow_get(std::string_view dp, const dpif::Match& match) {
  VSW_FORWARD(flow_get(dp, match));
}
Result<dpif::FlowEntry> ForwardingDpif::flow_del(std::string_view dp, const dpif::Match& match) {
  VSW_FORWARD(flow_del(dp, match));
}
Result<void> ForwardingDpif::flow_flush(std::string_view dp) {
  VSW_FORWARD(flow_flush(dp));
}
Result<void> ForwardingDpif::execute(std::string_view dp, const vsw_flow_key& key,
                                     std::span<const std::uint8_t> packet,
                                     const dpif::Actions& actions) {
  VSW_FORWARD(execute(dp, key, packet, actions));
}
Result<void> ForwardingDpif::operate(std::string_view dp, std::span<dpif::Op> ops) {
  if (number_ >= d_->gate_first.load() && number_ <= d_->gate_last.load() &&
      d_->before_operate.claim()) {
    d_->gated_dpif = number_;
    d_->before_operate.wait_release();
  }
  VSW_FORWARD(operate(dp, ops));
}
#undef VSW_FORWARD

Result<void> ForwardingDpif::flow_dump(std::string_view dp,
                                       const std::function<void(const dpif::FlowEntry&)>& each) {
  d_->before_dump.pass();
  Result<void> r;
  {
    std::lock_guard lock(d_->mu());
    r = d_->fake().flow_dump(dp, [&](const dpif::FlowEntry& f) {
      dpif::FlowEntry e = f;
      d_->fix_used(e);
      each(e);
    });
  }
  d_->after_dump.pass();
  return r;
}

// ---- packets --------------------------------------------------------------------------------
Mac host(std::uint8_t n) {
  return {0x02, 0, 0, 0, 0, n};
}

Mac nobody(std::uint8_t n) {
  return {0x02, 0, 0, 0, 1, n};
}

vsw_flow_key key_of(std::uint32_t in_port, const Mac& src, const Mac& dst) {
  vsw_flow_key k{};
  k.in_port = in_port;
  std::memcpy(k.eth_src, src.data(), 6);
  std::memcpy(k.eth_dst, dst.data(), 6);
  k.eth_type = htons(0x0800);
  k.ip_proto = 17;
  k.ip_ttl = 64;
  k.ipv4_src = htonl(0x0a000001);
  k.ipv4_dst = htonl(0x0a000002);
  k.tp_src = htons(1234);
  k.tp_dst = htons(5678);
  return k;
}

std::vector<std::uint8_t> frame(const Mac& src, const Mac& dst, std::uint8_t tag) {
  std::vector<std::uint8_t> f(60, 0);
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x00;
  f[59] = tag;
  return f;
}

UpcallSender::UpcallSender() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC)) {
  REQUIRE(fd_);
}

bool UpcallSender::send(std::uint32_t port_id, std::uint32_t in_port, const Mac& src,
                        const Mac& dst, std::uint8_t tag) {
  return send_upcall(port_id, in_port, src, dst, tag, std::nullopt);
}

bool UpcallSender::send_action(std::uint32_t port_id, std::uint32_t in_port, const Mac& src,
                               const Mac& dst, std::span<const std::uint8_t> cookie,
                               std::uint8_t tag) {
  return send_upcall(port_id, in_port, src, dst, tag, cookie);
}

bool UpcallSender::send_upcall(std::uint32_t port_id, std::uint32_t in_port, const Mac& src,
                               const Mac& dst, std::uint8_t tag,
                               std::optional<std::span<const std::uint8_t>> cookie) {
  constexpr std::uint16_t kFamily = 0x1d;  // any id: the channel does not check it
  dpif::Request req =
      dpif::vsw_request(kFamily, cookie ? VSW_PACKET_CMD_ACTION : VSW_PACKET_CMD_MISS, 0, 100);
  const vsw_flow_key key = key_of(in_port, src, dst);
  req.put(VSW_PACKET_ATTR_KEY, &key, sizeof key);
  req.put_u32(VSW_PACKET_ATTR_IN_PORT, in_port);
  req.put(VSW_PACKET_ATTR_PACKET, frame(src, dst, tag));
  if (cookie) req.put(VSW_PACKET_ATTR_USERDATA, *cookie);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_pid = port_id;
  const auto n =
      ::sendto(fd_.get(), req.nlh(), req.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (n < 0 && errno == EPERM) return false;
  REQUIRE(n == static_cast<ssize_t>(req.size()));
  return true;
}

// ---- Rig ------------------------------------------------------------------------------------
std::vector<ofproto::PortInfo> ports(std::initializer_list<std::uint32_t> ofports) {
  std::vector<ofproto::PortInfo> out;
  for (std::uint32_t p : ofports) {
    ofproto::PortInfo info;
    info.ofport = p;
    info.name = "p" + std::to_string(p);
    out.push_back(info);
  }
  return out;
}

Options Rig::defaults() {
  Options o;
  o.n_handlers = 2;
  o.n_revalidators = 1;  // the default depends on the CPUs; tests that want more say so
  return o;
}

Rig::Rig(Options options) {
  REQUIRE(ofp.fail_mode() == ofproto::FailMode::kStandalone);
  REQUIRE(ofp.set_ports(ports({1, 2, 3})).ok());
  udpif = std::make_unique<Udpif>(
      kDp, ofp,
      [d = dp]() -> Result<std::unique_ptr<dpif::Dpif>> {
        return std::unique_ptr<dpif::Dpif>(std::make_unique<ForwardingDpif>(d, d->next_dpif++));
      },
      options);
  udpif->set_ports({VSW_PORT_LOCAL, 1, 2, 3});  // as Bridge::reconcile() does, before start
}

Rig::~Rig() {
  // Let any stopped dump go, then stop the threads before the Ofproto goes away.
  dp->before_dump.release();
  dp->after_dump.release();
  dp->before_operate.release();
  udpif.reset();
}

void Rig::start() {  // NOLINT(readability-make-member-function-const): starts the threads
  auto r = udpif->start();
  INFO((r.ok() ? std::string() : r.error().to_string()));
  REQUIRE(r.ok());
}

void Rig::miss(std::uint32_t in_port, const Mac& src, const Mac& dst, std::uint8_t tag) {
  if (!sender.send(udpif->port_pid(in_port), in_port, src, dst, tag))
    SKIP("netlink unicast between sockets needs CAP_NET_ADMIN");
}

void Rig::learn(const Mac& mac, std::uint32_t ofport) {
  (void)ofp.macs().learn(0, mac, ofport);
}

dpif::Match Rig::megaflow(std::uint32_t in_port, const Mac& src, const Mac& dst) {
  return ofp.translate(key_of(in_port, src, dst), false).megaflow;
}

// ---- helpers --------------------------------------------------------------------------------
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(5ms);
  }
}

dpif::Actions outputs(std::initializer_list<std::uint32_t> ports) {
  dpif::Actions a;
  for (std::uint32_t p : ports) a.emplace_back(dpif::OutputAction{p});
  return a;
}

bool outputs_to(const dpif::Actions& actions, std::uint32_t port) {
  return std::any_of(actions.begin(), actions.end(), [&](const dpif::Action& a) {
    const auto* o = std::get_if<dpif::OutputAction>(&a);
    return o && o->port == port;
  });
}

std::string describe(const std::vector<dpif::FlowEntry>& flows) {
  std::ostringstream s;
  s << flows.size() << " flow(s)";
  for (const auto& f : flows) s << "\n  " << dpif::format_flow_entry(f);
  return s.str();
}

}  // namespace vsw::upcall::test
