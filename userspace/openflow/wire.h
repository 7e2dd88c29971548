// Bounds-checked big-endian reader and an appending writer: the only code that touches raw
// OpenFlow bytes.
//
// Reader never reads past its span. The first failure is remembered ("sticky"): later reads
// return zeros and callers check failed() once after decoding a structure, which keeps the
// decoders short without exceptions. A short read fails with the error the reader was
// created with (BAD_REQUEST/BAD_LEN for a message body, BAD_ACTION/BAD_LEN inside an action
// list, ...), so every nesting level reports the error the spec prescribes for it.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "openflow/errors.h"

namespace vsw::openflow {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

class Reader {
 public:
  Reader(ByteSpan data, ErrType short_type, uint16_t short_code)
      : data_(data), short_type_(short_type), short_code_(short_code) {}
  explicit Reader(ByteSpan data) : Reader(data, ErrType::kBadRequest, code::kBadLen) {}

  size_t left() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool failed() const { return err_.has_value(); }
  const std::optional<OfError>& error() const { return err_; }

  // Records `e` unless an earlier failure is already recorded.
  void fail(ErrType t, uint16_t c) {
    if (!err_) err_ = make_error(t, c);
  }
  void fail(const OfError& e) {
    if (!err_) err_ = e;
  }
  void fail_short() { fail(short_type_, short_code_); }

  bool need(size_t n) {
    if (failed()) return false;
    if (left() < n) {
      fail_short();
      return false;
    }
    return true;
  }
  uint8_t u8() { return need(1) ? data_[pos_++] : 0; }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = uint16_t(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = uint32_t(data_[pos_]) << 24 | uint32_t(data_[pos_ + 1]) << 16 |
                 uint32_t(data_[pos_ + 2]) << 8 | data_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    uint64_t hi = u32();
    return hi << 32 | u32();
  }
  // Peeks a big-endian u16 at `off` bytes ahead without consuming; nullopt if out of range.
  std::optional<uint16_t> peek16(size_t off) const {
    if (failed() || left() < off + 2) return std::nullopt;
    return uint16_t(data_[pos_ + off] << 8 | data_[pos_ + off + 1]);
  }
  void skip(size_t n) {
    if (need(n)) pos_ += n;
  }
  ByteSpan bytes(size_t n) {
    if (!need(n)) return {};
    ByteSpan s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  ByteSpan rest() { return bytes(left()); }
  // Carves the next n bytes into a child reader with its own short-read error.
  Reader sub(size_t n, ErrType t, uint16_t c) { return Reader(bytes(n), t, c); }
  // Copies a child's failure into this reader.
  void absorb(const Reader& child) {
    if (child.err_) fail(*child.err_);
  }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
  ErrType short_type_;
  uint16_t short_code_;
  std::optional<OfError> err_;
};

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}
  size_t size() const { return out_.size(); }
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    out_.push_back(uint8_t(v >> 8));
    out_.push_back(uint8_t(v));
  }
  void u32(uint32_t v) {
    u16(uint16_t(v >> 16));
    u16(uint16_t(v));
  }
  void u64(uint64_t v) {
    u32(uint32_t(v >> 32));
    u32(uint32_t(v));
  }
  void pad(size_t n) { out_.insert(out_.end(), n, 0); }
  void pad_to8(size_t start) { pad((8 - (size() - start) % 8) % 8); }
  void bytes(ByteSpan s) { out_.insert(out_.end(), s.begin(), s.end()); }
  // Fixed-width, zero-padded string field (always NUL terminated on the wire).
  void str(const std::string& s, size_t width) {
    size_t n = s.size() < width ? s.size() : width - 1;
    out_.insert(out_.end(), s.begin(), s.begin() + long(n));
    pad(width - n);
  }
  void patch16(size_t at, uint16_t v) {
    out_[at] = uint8_t(v >> 8);
    out_[at + 1] = uint8_t(v);
  }

 private:
  Bytes& out_;
};

inline size_t round8(size_t n) {
  return (n + 7) / 8 * 8;
}

}  // namespace vsw::openflow
