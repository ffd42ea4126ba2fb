// tests/fault/fault_runner.h — runs one generated fault case through the real binary: its own process
// group, output captured to a file, killed when it outlives its timeout; and snapshots of the files a case
// must leave byte-identical.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "common/sha256.h"

namespace st::test {

struct FaultOutcome {
  int exit_code = -1;  // 128 + signal when killed by one
  bool timed_out = false;
  std::string output;  // stdout and stderr together
};

// Runs `safetune ARGS` with stdin from /dev/null and kills its process group after `timeout`.
inline FaultOutcome run_with_timeout(const std::vector<std::string>& args, const std::string& log_path,
                                     std::chrono::seconds timeout) {
  std::vector<std::string> argv = {SAFETUNE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  FaultOutcome out;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      out.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::error_code ec;
  if (std::filesystem::is_regular_file(log_path, ec)) out.output = read_text_file(log_path);
  return out;
}

// Every regular file under `dir` (but not under `skip`) with its SHA-256; other kinds with their type.
inline std::map<std::string, std::string> snapshot(const std::string& dir, const std::string& skip = "") {
  std::map<std::string, std::string> out;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const auto path = it->path().string();
    if (!skip.empty() && path.rfind(skip, 0) == 0) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode)) out[path] = sha256_file(path);
    else if (!S_ISDIR(st.st_mode)) out[path] = "special " + std::to_string(st.st_mode & S_IFMT);
  }
  return out;
}

}  // namespace st::test
