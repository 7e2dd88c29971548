// vsw-dpctl entry point: wires the command layer (dpctl.h) to the netlink datapath.
#include <iostream>
#include <string>
#include <vector>

#include "cli/dpctl.h"
#include "dpif/dpif_netlink.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto factory = []() -> vsw::dpif::Result<std::shared_ptr<vsw::dpif::Dpif>> {
    auto d = vsw::dpif::NetlinkDpif::open();
    if (!d) return d.error();
    return std::shared_ptr<vsw::dpif::Dpif>(std::move(*d));
  };
  return vsw::cli::run(args, factory, std::cout, std::cerr);
}
