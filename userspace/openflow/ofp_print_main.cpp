// vsw-ofp-print [--json] [--hex|--pcap] FILE|-
//
// Prints one line per OpenFlow message found in FILE (or stdin): its text form, or with
// --json its JSON form; for a message the codec refuses, the OFPT_ERROR a switch would send
// ("error type=BAD_REQUEST code=BAD_LEN", or {"error":{"type":..,"code":..}}).
// Input is a raw byte stream as sent on the wire, or --hex text (hex digits, whitespace and
// '#' comments ignored), or --pcap: a libpcap capture (Ethernet, Linux cooked or raw IP)
// whose TCP segments to or from port 6653 are reassembled per direction in capture order
// (no reordering of out-of-order or retransmitted segments).
// Exit status: 0 if every message decoded, 1 if any was refused, 2 on usage or I/O errors.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>

#include "openflow/print.h"

using namespace vsw::openflow;

namespace {

bool g_json = false;
int g_status = 0;

void emit_error(const OfError& e) {
  std::cout << (g_json ? error_json(e) : error_text(e)) << '\n';
  g_status = 1;
}

// Prints every complete message at the front of `buf` and removes it. With `final`, a
// leftover partial message is reported as BAD_LEN.
void drain(Bytes& buf, bool final) {
  size_t off = 0;
  std::string line;
  while (buf.size() - off >= kHeaderLen) {
    auto h = peek_header(ByteSpan(buf).subspan(off));
    if (h->length < kHeaderLen) {  // unframeable: report and drop the rest
      emit_error(make_error(ErrType::kBadRequest, code::kBadLen));
      off = buf.size();
      break;
    }
    if (buf.size() - off < h->length) break;
    auto r = decode(ByteSpan(buf).subspan(off, h->length));
    off += h->length;
    if (!r.ok()) {
      emit_error(r.error());
      continue;
    }
    line.clear();
    g_json ? append_json(line, r.value()) : append_text(line, r.value());
    std::cout << line << '\n';
  }
  buf.erase(buf.begin(), buf.begin() + long(off));
  if (final && !buf.empty()) {
    emit_error(make_error(ErrType::kBadRequest, code::kBadLen));
    buf.clear();
  }
}

bool parse_hex(const std::string& text, Bytes& out) {
  int hi = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (isspace(uint8_t(c))) continue;
    int v = isdigit(uint8_t(c)) ? c - '0' : (isxdigit(uint8_t(c)) ? (tolower(c) - 'a' + 10) : -1);
    if (v < 0) return false;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  return hi < 0;
}

uint32_t rd32(const uint8_t* p, bool swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

bool parse_pcap(const Bytes& f) {
  if (f.size() < 24) return false;
  uint32_t magic;
  memcpy(&magic, f.data(), 4);
  bool swap;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
    swap = false;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
    swap = true;
  else
    return false;
  uint32_t linktype = rd32(f.data() + 20, swap);
  // direction key: src ip, src port, dst ip, dst port (as bytes)
  std::map<std::string, Bytes> streams;
  size_t off = 24;
  while (off + 16 <= f.size()) {
    uint32_t caplen = rd32(f.data() + off + 8, swap);
    off += 16;
    if (caplen > f.size() - off) break;
    const uint8_t* p = f.data() + off;
    size_t n = caplen;
    off += caplen;
    size_t l3 = 0;
    uint16_t ethertype = 0;
    if (linktype == 1) {
      if (n < 14) continue;
      ethertype = uint16_t(p[12] << 8 | p[13]);
      l3 = 14;
      while (ethertype == 0x8100 && n >= l3 + 4) {
        ethertype = uint16_t(p[l3 + 2] << 8 | p[l3 + 3]);
        l3 += 4;
      }
    } else if (linktype == 113) {
      if (n < 16) continue;
      ethertype = uint16_t(p[14] << 8 | p[15]);
      l3 = 16;
    } else if (linktype == 101 || linktype == 12) {
      if (n < 1) continue;
      ethertype = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
    } else {
      return false;
    }
    size_t l4;
    std::string key;
    if (ethertype == 0x0800) {
      if (n < l3 + 20 || p[l3 + 9] != 6) continue;
      size_t ihl = size_t(p[l3] & 15) * 4;
      size_t tot = size_t(p[l3 + 2] << 8 | p[l3 + 3]);
      if (ihl < 20 || tot < ihl || l3 + tot > n) continue;
      n = l3 + tot;
      key.assign(reinterpret_cast<const char*>(p + l3 + 12), 8);
      l4 = l3 + ihl;
    } else if (ethertype == 0x86dd) {
      if (n < l3 + 40 || p[l3 + 6] != 6) continue;
      size_t plen = size_t(p[l3 + 4] << 8 | p[l3 + 5]);
      if (l3 + 40 + plen > n) continue;
      n = l3 + 40 + plen;
      key.assign(reinterpret_cast<const char*>(p + l3 + 8), 32);
      l4 = l3 + 40;
    } else {
      continue;
    }
    if (n < l4 + 20) continue;
    uint16_t sport = uint16_t(p[l4] << 8 | p[l4 + 1]);
    uint16_t dport = uint16_t(p[l4 + 2] << 8 | p[l4 + 3]);
    if (sport != 6653 && dport != 6653) continue;
    size_t doff = size_t(p[l4 + 12] >> 4) * 4;
    if (doff < 20 || l4 + doff > n) continue;
    key.append(reinterpret_cast<const char*>(p + l4), 4);
    Bytes& s = streams[key];
    s.insert(s.end(), p + l4 + doff, p + n);
    drain(s, false);
  }
  for (auto& [k, s] : streams) drain(s, true);
  return true;
}

// Reads all of fd into out; false with errno set on failure (a directory gives EISDIR).
bool read_all(int fd, Bytes& out) {
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return false;
  }
  uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out.insert(out.end(), buf, buf + n);
  }
}

constexpr const char* kUsage = "usage: vsw-ofp-print [--json] [--hex|--pcap] FILE|-";

// Bad command line: one line naming what was refused, then exit 2.
int refuse(const std::string& why) {
  std::cerr << "vsw-ofp-print: " << why << " (" << kUsage << ")\n";
  return 2;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  bool hex = false, pcap = false;
  const char* file = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json")
      g_json = true;
    else if (a == "--hex")
      hex = true;
    else if (a == "--pcap")
      pcap = true;
    else if (a == "-h" || a == "--help")
      return std::cout << kUsage << '\n', 0;
    else if (!file && (a == "-" || a[0] != '-'))
      file = argv[i];
    else if (file && (a == "-" || a[0] != '-'))
      return refuse("more than one input: '" + a + "'");
    else
      return refuse("unknown option '" + a + "'");
  }
  if (!file) return refuse("no input given");
  if (hex && pcap) return refuse("--hex and --pcap exclude each other");
  Bytes data;
  const bool is_stdin = std::string(file) == "-";
  const int fd = is_stdin ? STDIN_FILENO : ::open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::cerr << "vsw-ofp-print: cannot open " << file << ": " << strerror(errno) << '\n';
    return 2;
  }
  const bool read_ok = read_all(fd, data);
  const int read_errno = errno;
  if (!is_stdin) ::close(fd);
  if (!read_ok) {
    std::cerr << "vsw-ofp-print: cannot read " << (is_stdin ? "standard input" : file) << ": "
              << strerror(read_errno) << '\n';
    return 2;
  }
  if (hex) {
    Bytes raw;
    if (!parse_hex(std::string(data.begin(), data.end()), raw)) {
      std::cerr << "vsw-ofp-print: " << file << ": not hex\n";
      return 2;
    }
    data = std::move(raw);
  }
  if (pcap) {
    if (!parse_pcap(data)) {
      std::cerr << "vsw-ofp-print: " << file << ": not a supported pcap file\n";
      return 2;
    }
  } else {
    drain(data, true);
  }
  return g_status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vsw-ofp-print: internal error: " << e.what() << '\n';
    return 2;
  } catch (...) {
    std::cerr << "vsw-ofp-print: internal error\n";
    return 2;
  }
}
