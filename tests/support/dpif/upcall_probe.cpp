// vsw-upcall-probe: a small client of the dpif upcall path for selftests in a VM.
//
// It opens N upcall channels (UpcallChannel), points a datapath's misses at them (per CPU
// with --per-cpu, otherwise port i's pid is channel i % N), then for --seconds prints one
// line per upcall received:
//
//   upcall handler=1 cmd=miss dp_ifindex=7 in_port=2 len=98 key=<flow text, exact key>
//
// With --actions A it answers each batch with one Dpif::operate(): an EXECUTE of every
// packet with actions A and, with --install, a FLOW_NEW of the exact key first. --flood
// is a hub's actions instead: output to every port but the ingress one and port 0. It
// ends with a summary line
//
//   summary upcalls=N handlers=a,b,.. enobufs=E malformed=M executed=X installed=I failed=F
//
// With --check-key it also computes each MISS's key in userspace from the upcall's packet
// (dpif::extract_key, TagMode::kReceived, the kernel's skb_mark copied) and prints
//
//   key-mismatch in_port=P len=L kernel=<flow text> userspace=<flow text> packet=<hex>
//
// for every difference, and after the summary a line "key_checked=N key_mismatches=M";
// any mismatch makes the exit status 1.
//
// It exits 0 if at least --min upcalls (default 1) arrived, 1 if fewer, 2 on bad usage,
// 4 (the selftests' "skip") when --per-cpu is asked of a kernel without per-CPU dispatch.
// Per-CPU pids are cleared again on exit, so the datapath falls back to its port pids.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dpif/dpif_netlink.h"
#include "dpif/flow_text.h"
#include "dpif/packet_key.h"
#include "dpif/upcall_channel.h"

using namespace vsw::dpif;

namespace {

struct Args {
  std::string dp;
  unsigned handlers = 2;
  bool per_cpu = false;
  double seconds = 5;
  std::size_t min = 1;
  std::optional<Actions> actions;
  bool flood = false;
  bool install = false;
  bool check_key = false;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "vsw-upcall-probe: %s\n"
               "usage: vsw-upcall-probe DP [--handlers N] [--per-cpu] [--seconds S] [--min N]\n"
               "                        [--actions ACTIONS | --flood] [--install] [--check-key]\n",
               why);
  return 2;
}

int fail(const char* what, const vsw::Error& e) {
  std::fprintf(stderr, "vsw-upcall-probe: %s: %s\n", what, e.to_string().c_str());
  return 1;
}

int run(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--handlers") {
      const char* v = value();
      if (!v || std::atoi(v) < 1) return usage("--handlers needs a number >= 1");
      a.handlers = static_cast<unsigned>(std::atoi(v));
    } else if (arg == "--per-cpu") {
      a.per_cpu = true;
    } else if (arg == "--seconds") {
      const char* v = value();
      if (!v) return usage("--seconds needs a number");
      a.seconds = std::atof(v);
    } else if (arg == "--min") {
      const char* v = value();
      if (!v) return usage("--min needs a number");
      a.min = static_cast<std::size_t>(std::atoi(v));
    } else if (arg == "--actions") {
      const char* v = value();
      if (!v) return usage("--actions needs an action list");
      auto acts = parse_actions(v);
      if (!acts) return usage(acts.error().to_string().c_str());
      a.actions = std::move(*acts);
    } else if (arg == "--flood") {
      a.flood = true;
    } else if (arg == "--install") {
      a.install = true;
    } else if (arg == "--check-key") {
      a.check_key = true;
    } else if (!arg.empty() && arg[0] != '-' && a.dp.empty()) {
      a.dp = std::string(arg);
    } else {
      return usage(("unknown argument '" + std::string(arg) + "'").c_str());
    }
  }
  if (a.dp.empty()) return usage("no datapath given");
  if (a.flood && a.actions) return usage("--flood and --actions exclude each other");
  if (a.install && !a.actions && !a.flood) return usage("--install needs --actions or --flood");

  auto dpif = NetlinkDpif::open();
  if (!dpif) return fail("open", dpif.error());
  std::vector<UpcallChannel> chans;
  for (unsigned i = 0; i < a.handlers; ++i) {
    auto ch = UpcallChannel::open();
    if (!ch) return fail("upcall channel", ch.error());
    chans.push_back(std::move(*ch));
  }

  if (a.per_cpu) {
    const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_CONF));
    std::vector<std::uint32_t> pids;
    for (long c = 0; c < cpus; ++c) pids.push_back(chans[c % chans.size()].port_id());
    auto r = (*dpif)->dp_set_upcall_pids(a.dp, pids);
    if (!r) {
      if (r.error().code.value() == ENOTSUP) {
        std::printf("skip %s\n", r.error().to_string().c_str());
        return 4;
      }
      return fail("per-CPU pids", r.error());
    }
  }
  auto ports = (*dpif)->port_list(a.dp);
  if (!ports) return fail("ports", ports.error());
  for (const PortInfo& p : *ports) {
    if (a.per_cpu) break;
    const std::uint32_t pid = chans[p.port_no % chans.size()].port_id();
    auto r = (*dpif)->port_set_upcall_pid(a.dp, p.port_no, pid);
    if (!r) return fail("port upcall pid", r.error());
  }
  // The actions for a packet that came in on in_port.
  auto actions_for = [&](std::uint32_t in_port) -> std::optional<Actions> {
    if (!a.flood) return a.actions;
    Actions out;
    for (const PortInfo& p : *ports)
      if (p.port_no != VSW_PORT_LOCAL && p.port_no != in_port)
        out.emplace_back(OutputAction{p.port_no});
    return out;
  };
  std::fflush(stdout);

  std::vector<pollfd> fds;
  for (const auto& ch : chans) fds.push_back({ch.fd(), POLLIN, 0});
  std::vector<std::size_t> per_handler(chans.size(), 0);
  std::size_t total = 0, executed = 0, installed = 0, failed = 0, checked = 0, mismatches = 0;
  std::vector<Upcall> ups;
  std::vector<Op> ops;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) continue;
    for (std::size_t h = 0; h < chans.size(); ++h) {
      if (!(fds[h].revents & POLLIN)) continue;
      auto n = chans[h].receive(ups);
      if (!n) return fail("receive", n.error());
      ops.clear();
      ops.reserve(2 * ups.size());
      for (const Upcall& up : ups) {
        Match exact;
        exact.key = up.key;
        std::memset(&exact.mask, 0xff, sizeof exact.mask);
        exact.normalize();
        std::printf("upcall handler=%zu cmd=%s dp_ifindex=%d in_port=%u len=%zu key=%s\n", h,
                    up.cmd == VSW_PACKET_CMD_MISS ? "miss" : "action", up.dp_ifindex, up.in_port,
                    up.packet.size(), format_match(exact).c_str());
        if (a.check_key && up.cmd == VSW_PACKET_CMD_MISS) {
          Match mine;
          mine.key = extract_key(up.packet, up.in_port, TagMode::kReceived);
          mine.key.skb_mark = up.key.skb_mark;
          mine.mask = exact.mask;
          mine.normalize();
          ++checked;
          if (!(mine == exact)) {
            ++mismatches;
            std::string hex;
            for (const std::uint8_t b : up.packet) {
              static const char* digits = "0123456789abcdef";
              hex += digits[b >> 4];
              hex += digits[b & 15];
            }
            std::printf("key-mismatch in_port=%u len=%zu kernel=%s userspace=%s packet=%s\n",
                        up.in_port, up.packet.size(), format_match(exact).c_str(),
                        format_match(mine).c_str(), hex.c_str());
          }
        }
        auto acts = actions_for(up.in_port);
        if (!acts) continue;
        if (a.install) ops.push_back({FlowPutOp{exact, *acts, FlowPut::kCreate}, {}});
        ops.push_back({ExecuteOp{up.key, up.packet, std::move(*acts)}, {}});
      }
      per_handler[h] += *n;
      total += *n;
      if (!ops.empty()) {
        auto r = (*dpif)->operate(a.dp, ops);
        if (!r) return fail("operate", r.error());
        for (const Op& op : ops) {
          const bool put = std::holds_alternative<FlowPutOp>(op.op);
          if (op.error) {
            // A burst of one flow's misses installs it once; the others find it there.
            if (put && op.error->code.value() == EEXIST) continue;
            ++failed;
            std::printf("error %s: %s\n", put ? "install" : "execute",
                        op.error->to_string().c_str());
          } else {
            ++(put ? installed : executed);
          }
        }
      }
      std::fflush(stdout);
    }
  }

  std::string hs;
  std::uint64_t enobufs = 0, malformed = 0;
  for (std::size_t h = 0; h < chans.size(); ++h) {
    hs += (h ? "," : "") + std::to_string(per_handler[h]);
    enobufs += chans[h].enobufs();
    malformed += chans[h].malformed();
  }
  std::printf(
      "summary upcalls=%zu handlers=%s enobufs=%llu malformed=%llu executed=%zu installed=%zu "
      "failed=%zu\n",
      total, hs.c_str(), static_cast<unsigned long long>(enobufs),
      static_cast<unsigned long long>(malformed), executed, installed, failed);
  if (a.check_key) std::printf("key_checked=%zu key_mismatches=%zu\n", checked, mismatches);
  if (a.per_cpu) (void)(*dpif)->dp_set_upcall_pids(a.dp, {});
  return total >= a.min && mismatches == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // only bad_alloc and the like can get here
    std::fprintf(stderr, "vsw-upcall-probe: %s\n", e.what());
    return 1;
  }
}
