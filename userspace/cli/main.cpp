// vsw-dpctl entry point: wires the command layer (dpctl.h) to the netlink datapath and
// the real clock and terminal (the default Environment). Nothing below main() throws on
// purpose; whatever the standard library still throws (allocation failure) is reported
// here as one line, exit 1, never as an uncaught exception.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/dpctl.h"
#include "dpif/dpif_netlink.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto factory = []() -> vsw::dpif::Result<std::shared_ptr<vsw::dpif::Dpif>> {
      auto d = vsw::dpif::NetlinkDpif::open();
      if (!d) return d.error();
      return std::shared_ptr<vsw::dpif::Dpif>(std::move(*d));
    };
    return vsw::cli::run(args, factory, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "vsw-dpctl: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "vsw-dpctl: unexpected error\n";
  }
  return vsw::cli::kExitFailed;
}
