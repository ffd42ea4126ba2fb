// common/stop_signal.cpp — the async-signal-safe flag behind common/stop_signal.h.
#include "common/stop_signal.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "common/check.h"

namespace st {
namespace {
std::atomic<int> g_stop_signal{0};
std::atomic<int> g_child{0};
extern "C" void on_stop_signal(int sig) {
  if (const int child = g_child.load(); child > 0) ::kill(child, sig);
  if (g_stop_signal.exchange(sig) != 0) ::_exit(128 + sig);  // second signal: leave now
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop_signal.load() != 0; }
void forward_stop_signals_to(int pid) { g_child.store(pid); }
int stop_signal() { return g_stop_signal.load(); }

void check_stop(const char* during) {
  if (stop_requested())
    throw Error(ExitCode::interrupted, fmt::format("stopped by signal {} while {}", stop_signal(), during));
}

}  // namespace st
