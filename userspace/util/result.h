// Result<T>: the one error model of the whole userspace (libraries, daemon, CLIs).
//
// A fallible call returns either a value or an Error. An Error carries a std::error_code
// (errno values in std::generic_category()) and a human message: for kernel failures the
// netlink extended-ack text, for parse failures a sentence quoting the refused input.
// Exceptions are not used below main().
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace vsw {

struct Error {
  std::error_code code;  // errno-style code; EINVAL for bad input
  std::string message;   // one line, no trailing newline; may be empty

  // "message (strerror)" or just "strerror" when there is no message.
  [[nodiscard]] std::string to_string() const {
    if (message.empty()) return code.message();
    return message + " (" + code.message() + ")";
  }
};

[[nodiscard]] inline Error make_error(int errnum, std::string message = {}) {
  return Error{std::error_code(errnum, std::generic_category()), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace vsw
