// ConfigStore: missing file, round trip, atomic replacement, and refusal of damaged files
// (the file's bytes are left exactly as they were).
#include <sys/stat.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "config/store.h"
#include "support.h"

using namespace vsw::config;
using namespace vsw::config::test;
using Catch::Matchers::ContainsSubstring;

namespace {

Config sample() {
  Config c;
  auto* b = c.add_bridges();
  b->set_name("br0");
  b->set_datapath_id(0x00005e0000000001ULL);
  b->set_fail_mode(Bridge::SECURE);
  b->set_mac_aging_s(60);
  auto* p = b->add_ports();
  p->set_name("eth0");
  p->set_ofport(1);
  p->set_vlan_mode(Port::ACCESS);
  p->set_tag(10);
  p = b->add_ports();
  p->set_name("eth1");
  p->set_ofport(2);
  p->add_trunks(10);
  p->add_trunks(20);
  b->add_controllers()->set_target("tcp:127.0.0.1:6653");
  c.mutable_daemon()->set_flow_limit(1000);
  return c;
}

}  // namespace

TEST_CASE("store: a missing file or directory is an empty configuration", "[store]") {
  TempDir dir;
  auto a = ConfigStore(dir.path()).load();
  REQUIRE(a.ok());
  CHECK(a->bridges_size() == 0);
  auto b = ConfigStore(dir.path() / "not" / "there").load();
  REQUIRE(b.ok());
  CHECK(b->bridges_size() == 0);
}

TEST_CASE("store: save then load round-trips, creating the directory", "[store]") {
  TempDir dir;
  ConfigStore store(dir.path() / "var" / "lib" / "vsw");
  REQUIRE(store.save(sample()).ok());
  auto loaded = ConfigStore(store.dir()).load();
  REQUIRE(loaded.ok());
  CHECK(loaded->SerializeAsString() == sample().SerializeAsString());
  // The temporary file does not outlive save(); the file is private.
  CHECK_FALSE(std::filesystem::exists(store.dir() / "config.json.tmp"));
  struct stat st {};
  REQUIRE(::stat(store.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Readable by people: JSON with the proto's field names.
  CHECK_THAT(read_file(store.path()), ContainsSubstring("\"fail_mode\": \"SECURE\""));
}

TEST_CASE("store: save replaces the file as a whole", "[store]") {
  TempDir dir;
  ConfigStore store(dir.path());
  REQUIRE(store.save(sample()).ok());
  Config empty;
  REQUIRE(store.save(empty).ok());
  auto loaded = store.load();
  REQUIRE(loaded.ok());
  CHECK(loaded->bridges_size() == 0);
  CHECK(read_file(store.path()).find("br0") == std::string::npos);
}

TEST_CASE("store: a failed save leaves the previous file unchanged", "[store]") {
  TempDir dir;
  ConfigStore store(dir.path());
  REQUIRE(store.save(sample()).ok());
  const std::string before = read_file(store.path());
  // The temporary file cannot be created: a directory is in its place.
  std::filesystem::create_directory(dir.path() / "config.json.tmp");
  Config other;
  other.add_bridges()->set_name("br9");
  auto r = store.save(other);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, ContainsSubstring("config.json.tmp"));
  CHECK(read_file(store.path()) == before);
  CHECK(store.load().ok());
}

TEST_CASE("store: a stale temporary file from a crash is ignored and replaced", "[store]") {
  TempDir dir;
  ConfigStore store(dir.path());
  REQUIRE(store.save(sample()).ok());
  write_file(dir.path() / "config.json.tmp", "{ half a wri");
  auto loaded = store.load();
  REQUIRE(loaded.ok());
  CHECK(loaded->bridges(0).name() == "br0");
  REQUIRE(store.save(Config{}).ok());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "config.json.tmp"));
}

TEST_CASE("store: a damaged file is refused, named, and left untouched", "[store]") {
  TempDir dir;
  ConfigStore store(dir.path());
  REQUIRE(store.save(sample()).ok());
  const std::string good = read_file(store.path());

  struct Case {
    const char* what;
    std::string bytes;
    const char* says;
  };
  const Case cases[] = {
      {"garbage", "\x01\x02\xff not json", "corrupt configuration"},
      {"truncated", good.substr(0, good.size() / 2), "corrupt configuration"},
      {"empty", "", "the file is empty"},
      {"whitespace only", "  \n", "the file is empty"},
      {"NUL bytes", std::string(64, '\0'), "corrupt configuration"},
      {"unknown field", R"({"bridges": [{"name": "br0", "colour": "blue"}]})", "colour"},
      {"wrong type", R"({"bridges": [{"name": 7}]})", "corrupt configuration"},
      {"duplicate ofport",
       R"({"bridges": [{"name": "br0", "ports": [{"name": "a", "ofport": 1},
                                                 {"name": "b", "ofport": 1}]}]})",
       "ofport 1 used twice"},
      {"ofport out of range", R"({"bridges": [{"name": "br0", "ports": [{"name": "a"}]}]})",
       "ofport 0 out of range"},
      {"bad name", R"({"bridges": [{"name": "a/b"}]})", "bad bridge name"},
      {"port named like a bridge",
       R"({"bridges": [{"name": "br0"}, {"name": "br1", "ports": [{"name": "br0", "ofport": 1}]}]})",
       "used twice"},
      {"VLAN out of range",
       R"({"bridges": [{"name": "br0", "ports": [{"name": "a", "ofport": 1,
           "vlan_mode": "ACCESS", "tag": 5000}]}]})",
       "tag 5000"},
      {"option out of range", R"({"daemon": {"flow_limit": 0}})", "flow_limit 0"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    write_file(store.path(), c.bytes);
    auto r = store.load();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code.value() == EINVAL);
    CHECK_THAT(r.error().message, ContainsSubstring(store.path().string()));
    CHECK_THAT(r.error().message, ContainsSubstring(c.says));
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK(read_file(store.path()) == c.bytes);
  }
}

TEST_CASE("store: the parser's refusal says something on one line, whatever the bytes",
          "[store]") {
  // A key holding a newline makes protobuf's message start with one (found by mgmt_fuzz).
  const std::string texts[] = {
      std::string("{\"\n\0bridges\": [{\"name\": \"br0\"}]}", 30),
      "{\"bridges\": [{\"name\": \"br\x01\"}]}",
      "\n\n\n",
      std::string(8, '\0'),
  };
  for (const auto& t : texts) {
    auto r = parse_config_text(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code.value() == EINVAL);
    CHECK_FALSE(r.error().message.empty());
    CHECK(r.error().message.find_first_of("\r\n") == std::string::npos);
  }
}

TEST_CASE("store: a directory in place of the file is an I/O error, not a config", "[store]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "config.json");
  auto r = ConfigStore(dir.path()).load();
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, ContainsSubstring("config.json"));
}
