// common/stop_signal.h — SIGINT/SIGTERM as a request to stop cleanly. A command that can stop cleanly
// installs the handlers before it does anything else; long set-up work (reading data, hashing, loading
// weights) calls check_stop() between chunks, so a signal during set-up ends the run with exit 75 and a
// message instead of killing it half-way. A second signal exits at once.
#pragma once

namespace st {

void install_stop_handlers();
bool stop_requested();

// While a child process works on the command's behalf (sweep's training runs), every stop signal is passed
// on to it as well, so the child stops cleanly and the command waits for it; 0 = no child.
void forward_stop_signals_to(int pid);
int stop_signal();  // the signal that asked, 0 if none

// Throws Error(interrupted) saying what was being done when a stop was requested; no-op otherwise.
void check_stop(const char* during);

}  // namespace st
