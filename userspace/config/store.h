// ConfigStore: the configuration's home on disk, STATE_DIR/config.json.
//
// What? One file holding a vsw::config::Config in protobuf's JSON mapping (readable with
// `cat`, diffable, strict to parse). load() answers "what was the configuration when vswd
// last changed it?"; save() makes a new configuration durable.
//
// Goals. (1) A crash or power loss at any moment leaves either the old or the new file,
// never a mix: save() writes STATE_DIR/config.json.tmp, fsyncs it, renames it over
// config.json, then fsyncs the directory so the rename itself is durable. (2) A file that
// is damaged anyway (truncated, edited badly, from a newer vswd with unknown fields) is
// refused with a message naming the file and what is wrong, and is never rewritten by
// load(): the operator decides what to do with it. A file that parses but breaks a rule of
// config/model.h (validate()) is refused the same way. An empty file is refused too (save()
// never writes one; it is what some filesystems leave after a crash without fsync).
//
// A missing file (or missing directory) is an empty configuration: a first start.
// save() creates the directory (mode 0755) when it is missing; the file is mode 0600.
//
// Concurrency: none inside; one writer at a time (the management server). Two vswd
// processes on one state directory are not detected here.
// Tests: tests/unit/config/test_store.cpp.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "config/vsw_config.pb.h"
#include "util/result.h"

namespace vsw::config {

// The parsing and validation load() does on the file's text, without the file: protobuf's
// JSON mapping (strict: unknown fields are refused), then validate(). The error (EINVAL)
// says in one line what is wrong; load() prefixes the file name. Pure; the fuzzer
// (tests/fuzz/config) drives it directly.
[[nodiscard]] Result<Config> parse_config_text(std::string_view text);
// The text save() writes: protobuf's JSON mapping, indented, proto field names.
[[nodiscard]] Result<std::string> format_config_text(const Config& config);

class ConfigStore {
 public:
  static constexpr const char* kFileName = "config.json";
  static constexpr std::size_t kMaxFileSize = 64u << 20;  // larger is refused as corrupt

  explicit ConfigStore(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& path() const { return path_; }  // dir/config.json

  // The stored configuration; an empty one when there is no file yet. Errors (file left
  // untouched): EINVAL "PATH: corrupt configuration: WHY" for an unparsable or invalid
  // file; the errno of the failing call for I/O errors ("PATH: cannot read").
  [[nodiscard]] Result<Config> load() const;

  // Replaces the stored configuration atomically and durably (see above). On error the
  // previous file is unchanged and the temporary file is removed.
  [[nodiscard]] Result<void> save(const Config& config);

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::filesystem::path tmp_path_;
};

}  // namespace vsw::config
