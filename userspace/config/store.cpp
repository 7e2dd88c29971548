// ConfigStore (see store.h): JSON on disk, written with the temp-fsync-rename-fsync dance.
#include "config/store.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "config/model.h"
#include "util/text.h"

namespace vsw::config {
namespace {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting close()'s error (it can carry a delayed write error).
  int close() {
    int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

Error io_error(int err, const std::filesystem::path& path, const std::string& what) {
  return make_error(err, path.string() + ": " + what);
}

bool write_all(int fd, const std::string& data) {
  errno = 0;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Result<Config> parse_config_text(std::string_view text) {
  Config config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &config, options);
  if (!status.ok()) {
    // The parser's message is "what\n<the text around it>\n^"; keep its first line that says
    // something. It may quote the file's bytes (a key may even hold a newline, which then
    // starts the message): control characters are written as \xNN to keep it one line.
    std::string_view msg(status.message().data(), status.message().size());
    std::string why;
    while (why.empty() && !msg.empty()) {
      const auto eol = msg.find('\n');
      why = printable(msg.substr(0, eol));
      msg.remove_prefix(eol == std::string_view::npos ? msg.size() : eol + 1);
    }
    return make_error(EINVAL, why.empty() ? "not valid JSON for the configuration" : why);
  }
  if (auto ok = validate(config); !ok) return make_error(EINVAL, ok.error().message);
  return config;
}

Result<std::string> format_config_text(const Config& config) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(config, &text, options);
  if (!status.ok()) return make_error(EINVAL, std::string(status.message()));
  return text;
}

ConfigStore::ConfigStore(std::filesystem::path dir)
    : dir_(std::move(dir)),
      path_(dir_ / kFileName),
      tmp_path_(dir_ / (std::string(kFileName) + ".tmp")) {}

Result<Config> ConfigStore::load() const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Config{};
    return io_error(errno, path_, "cannot open");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error(errno, path_, "cannot stat");
  if (!S_ISREG(st.st_mode)) return io_error(EINVAL, path_, "not a regular file");
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(errno, path_, "cannot read");
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize)
      return io_error(EINVAL, path_, "corrupt configuration: larger than 64 MiB");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return io_error(EINVAL, path_, "corrupt configuration: the file is empty");
  auto config = parse_config_text(text);
  if (!config)
    return io_error(
        EINVAL, path_,
        "corrupt configuration: " + config.error().message + " (the file was left as it is)");
  return config;
}

Result<void> ConfigStore::save(const Config& config) {
  auto text = format_config_text(config);
  if (!text) return io_error(EINVAL, path_, "cannot encode: " + text.error().message);

  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return io_error(ec.value(), dir_, "cannot create the state directory");

  Fd fd(::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return io_error(errno, tmp_path_, "cannot create");
  auto fail = [&](int err, const std::string& what) {
    ::unlink(tmp_path_.c_str());
    return io_error(err, tmp_path_, what);
  };
  if (!write_all(fd.get(), *text)) return fail(errno ? errno : EIO, "cannot write");
  if (::fsync(fd.get()) != 0) return fail(errno, "cannot fsync");
  if (fd.close() != 0) return fail(errno, "cannot close");
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    return fail(errno, "cannot rename to " + path_.string());

  // The rename is in the directory; make it durable too.
  Fd dfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) return io_error(errno, dir_, "cannot open the state directory to fsync");
  if (::fsync(dfd.get()) != 0) return io_error(errno, dir_, "cannot fsync the state directory");
  return {};
}

}  // namespace vsw::config
