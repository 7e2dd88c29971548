// Helpers shared by the config tests: a temporary directory, a fake Backend, a running
// MgmtServer on its own io_context thread, and request builders.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "config/mgmt_server.h"
#include "config/model.h"
#include "config/store.h"

namespace vsw::config::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vsw-config-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

inline KeyValue kv(const std::string& k, const std::string& v) {
  KeyValue r;
  r.set_key(k);
  r.set_value(v);
  return r;
}

inline Request add_br(const std::string& br, std::vector<KeyValue> opts = {}) {
  Request r;
  r.mutable_add_bridge()->set_bridge(br);
  for (auto& o : opts) *r.mutable_add_bridge()->add_options() = o;
  return r;
}
inline Request del_br(const std::string& br) {
  Request r;
  r.mutable_del_bridge()->set_bridge(br);
  return r;
}
inline Request add_port(const std::string& br, const std::string& port,
                        std::vector<KeyValue> opts = {}) {
  Request r;
  r.mutable_add_port()->set_bridge(br);
  r.mutable_add_port()->set_port(port);
  for (auto& o : opts) *r.mutable_add_port()->add_options() = o;
  return r;
}
inline Request del_port(const std::string& br, const std::string& port) {
  Request r;
  r.mutable_del_port()->set_bridge(br);
  r.mutable_del_port()->set_port(port);
  return r;
}
inline Request set_port(const std::string& port, std::vector<KeyValue> settings) {
  Request r;
  r.mutable_set_port()->set_port(port);
  for (auto& o : settings) *r.mutable_set_port()->add_settings() = o;
  return r;
}
inline Request set_bridge(const std::string& br, std::vector<KeyValue> settings) {
  Request r;
  r.mutable_set_bridge()->set_bridge(br);
  for (auto& o : settings) *r.mutable_set_bridge()->add_settings() = o;
  return r;
}
inline Request set_fail_mode(const std::string& br, const std::string& mode) {
  Request r;
  r.mutable_set_fail_mode()->set_bridge(br);
  r.mutable_set_fail_mode()->set_mode(mode);
  return r;
}
inline Request set_controller(const std::string& br, std::vector<std::string> targets) {
  Request r;
  r.mutable_set_controller()->set_bridge(br);
  for (auto& t : targets) r.mutable_set_controller()->add_targets(t);
  return r;
}
inline Request del_controller(const std::string& br) {
  Request r;
  r.mutable_del_controller()->set_bridge(br);
  return r;
}

// Records apply() calls; reports every port whose name starts with "eth" as attached.
class FakeBackend : public Backend {
 public:
  void apply(const Config& config) override {
    std::lock_guard lock(mu_);
    ++applies_;
    last_ = config;
    if (throw_on_apply_) throw std::runtime_error("backend exploded");
  }
  void status(ShowReply& out) override {
    std::lock_guard lock(mu_);
    for (auto& b : *out.mutable_bridges()) {
      b.mutable_datapath()->set_present(true);
      b.mutable_datapath()->set_hit(100);
      b.mutable_datapath()->set_missed(7);
      b.mutable_datapath()->set_flows(3);
      b.mutable_local()->set_ifindex(1);
      b.mutable_local()->set_link_up(true);
      for (auto& p : *b.mutable_ports()) {
        if (p.name().rfind("eth", 0) == 0) {
          p.set_attached(true);
          p.set_ifindex(10 + p.ofport());
          p.set_dp_port(p.ofport());
          p.set_link_up(true);
        } else {
          p.set_reason("no such interface");
        }
      }
      for (auto& c : *b.mutable_controllers()) c.set_state("connecting");
    }
  }
  Result<void> fdb(const std::string& bridge, FdbReply& out) override {
    if (bridge == "broken") return make_error(EIO, "fdb unavailable");
    auto* e = out.add_entries();
    e->set_port(1);
    e->set_vlan(10);
    e->set_mac(format_mac({0x02, 0, 0, 0, 0, 0x01}));
    e->set_age_s(3);
    e = out.add_entries();
    e->set_port(kOfppLocal);
    e->set_vlan(0);
    e->set_mac(format_mac({0x02, 0, 0, 0, 0, 0xfe}));
    e->set_age_s(0);
    return {};
  }
  void upcalls(UpcallReply& out) override {
    out.set_handlers(2);
    out.set_revalidators(1);
    out.set_flows(42);
    out.set_flow_limit(200000);
    out.set_upcalls_handled(1000);
    out.set_upcalls_lost(5);
    (*out.mutable_counters())["flow_limit_hit"] = 0;
    (*out.mutable_counters())["batches"] = 77;
  }

  int applies() {
    std::lock_guard lock(mu_);
    return applies_;
  }
  Config last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  void set_throw_on_apply(bool v) {
    std::lock_guard lock(mu_);
    throw_on_apply_ = v;
  }

 private:
  std::mutex mu_;
  int applies_ = 0;
  Config last_;
  bool throw_on_apply_ = false;
};

// A started MgmtServer whose io_context runs on a thread of its own.
class RunningServer {
 public:
  explicit RunningServer(const std::filesystem::path& root, Config initial = {})
      : socket_(root / "run" / "vsw" / "vswd.sock"), state_(root / "state") {
    server_ = std::make_unique<MgmtServer>(io_, socket_, ConfigStore(state_), std::move(initial),
                                           backend_);
    auto ok = server_->start();
    if (!ok) throw std::runtime_error("server start: " + ok.error().to_string());
    thread_ = std::thread([this] { io_.run(); });
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  ~RunningServer() { shutdown(); }

  void shutdown() {
    if (!server_) return;
    boost::asio::post(server_->strand(), [this] { server_->stop(); });
    thread_.join();
    server_.reset();
  }

  // Runs `fn` on the server's strand and waits for it.
  template <class Fn>
  auto on_strand(Fn fn) {
    std::promise<decltype(fn(*server_))> p;
    auto f = p.get_future();
    boost::asio::post(server_->strand(), [&] { p.set_value(fn(*server_)); });
    return f.get();
  }

  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& state() const { return state_; }
  FakeBackend& backend() { return backend_; }

 private:
  boost::asio::io_context io_;
  std::filesystem::path socket_;
  std::filesystem::path state_;
  FakeBackend backend_;
  std::unique_ptr<MgmtServer> server_;
  std::thread thread_;
};

}  // namespace vsw::config::test
