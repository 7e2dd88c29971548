// vsw-ctl entry point: wires the command layer (ctl_commands.h) to the management socket.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/ctl_commands.h"
#include "config/frame.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    const char* env = std::getenv("VSW_SOCKET");
    const std::string socket =
        env && *env ? std::string(env) : std::string(vsw::config::kDefaultSocketPath);
    return vsw::cli::ctl::run(args, socket, vsw::cli::ctl::socket_call(), std::cout, std::cerr);
  } catch (...) {
    std::cerr << "vsw-ctl: internal error\n";
    return vsw::cli::ctl::kExitFailed;
  }
}
