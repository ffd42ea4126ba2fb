// common/check.h — the one way safetune fails: an Error carrying an exit code and a message that says
// what was wrong, where, and what would fix it. Every folder uses it; it depends on nothing but fmt.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace st {

// Exit codes are a contract (docs/ARCHITECTURE.md): scripts and schedulers branch on them.
enum class ExitCode : int { ok = 0, failure = 1, bad_input = 2, interrupted = 75 };

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Bad usage, config or input: exit code 2. The message must name the file and key, line or tensor.
template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ExitCode::bad_input, fmt::format(format, std::forward<Args>(args)...));
}

// A failure while running that is not the user's input (I/O error, broken invariant): exit code 1.
template <typename... Args>
[[noreturn]] void fail_runtime(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ExitCode::failure, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace st

// ST_CHECK_INPUT(cond, "fmt", args...): reject bad input with exit code 2.
#define ST_CHECK_INPUT(cond, ...)              \
  do {                                         \
    if (!(cond)) ::st::fail_input(__VA_ARGS__); \
  } while (0)

// ST_CHECK(cond, "fmt", args...): an internal invariant or environment failure, exit code 1.
#define ST_CHECK(cond, ...)                      \
  do {                                           \
    if (!(cond)) ::st::fail_runtime(__VA_ARGS__); \
  } while (0)
