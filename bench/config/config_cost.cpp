// config-cost: the management server's share of one `vsw-ctl add-port` as a bridge grows.
//
// For a bridge of N ports (N = 100, 500, 1,000 by default; given as arguments otherwise),
// each step vswd's MgmtServer runs for an add-port is timed alone, in the order it runs
// them: apply() (copy of the Config, the verb, validate()), the no-change check
// (MessageDifferencer::Equals), the state file's text (format_config_text(): JSON), and,
// as references for the text, the binary encoding and protobuf's text format; then the
// copy of the Config alone (apply() makes one; vswd's Bridge keeps a copy of its bridge).
// Each figure is the median of 9 batches, us per call; run it under
// `valgrind --tool=callgrind` for instruction counts. Not a test; see docs/benchmarks.md
// ("Ports").
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/store.h"

namespace {

using vsw::config::Config;
using vsw::config::Request;

Request add_port(const std::string& bridge, const std::string& port) {
  Request r;
  r.mutable_add_port()->set_bridge(bridge);
  r.mutable_add_port()->set_port(port);
  return r;
}

Config with_ports(int n) {
  Config c;
  Request br;
  br.mutable_add_bridge()->set_bridge("br0");
  c = *vsw::config::apply(c, br);
  for (int i = 1; i <= n; ++i)
    c = *vsw::config::apply(c, add_port("br0", "pv" + std::to_string(i)));
  return c;
}

// Median over 9 batches of the ns per call of `f`, each batch `reps` calls.
double ns_per_call(int reps, const std::function<void()>& f) {
  std::vector<double> batches;
  for (int b = 0; b < 9; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    const auto t1 = std::chrono::steady_clock::now();
    batches.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / reps);
  }
  std::nth_element(batches.begin(), batches.begin() + 4, batches.end());
  return batches[4];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{100, 500, 1000};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i) {
      char* end = nullptr;
      const long n = std::strtol(argv[i], &end, 10);
      if (*end != '\0' || n < 1 || n > 1022) {
        std::fprintf(stderr, "config-cost: '%s' is not a port count 1..1022\n", argv[i]);
        return 2;
      }
      sizes.push_back(static_cast<int>(n));
    }
  }
  std::printf("one add-port to a bridge of N ports: us per step (median of 9 batches)\n");
  std::printf("%6s %10s %10s %10s %10s %10s %10s\n", "N", "apply", "equals", "JSON", "(binary)",
              "(text)", "copy");
  for (int n : sizes) {
    const Config current = with_ports(n);
    const Request r = add_port("br0", "new0");
    const int reps = std::max(3, 20000 / n);
    volatile std::size_t sink = 0;
    Config next = *vsw::config::apply(current, r);
    const double apply =
        ns_per_call(reps, [&] { sink = sink + vsw::config::apply(current, r)->bridges_size(); });
    const double equals = ns_per_call(reps, [&] {
      sink = sink + google::protobuf::util::MessageDifferencer::Equals(next, current);
    });
    const double json =
        ns_per_call(reps, [&] { sink = sink + vsw::config::format_config_text(next)->size(); });
    const double binary = ns_per_call(reps, [&] { sink = sink + next.SerializeAsString().size(); });
    const double text = ns_per_call(reps, [&] {
      std::string out;
      google::protobuf::TextFormat::PrintToString(next, &out);
      sink = sink + out.size();
    });
    const double copy = ns_per_call(reps, [&] {
      Config c = next;
      sink = sink + c.bridges_size();
    });
    std::printf("%6d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", n, apply / 1e3, equals / 1e3,
                json / 1e3, binary / 1e3, text / 1e3, copy / 1e3);
  }
  return 0;
}
