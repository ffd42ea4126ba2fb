// cli/cmd_train.cpp — `safetune train --config FILE [--set k=v]... [--resume auto|never|PATH]`: loads and
// checks the config, then hands it to a TrainingRun (trainer/training_run.h).
#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/stop_signal.h"
#include "trainer/config.h"
#include "trainer/training_run.h"

namespace st {

int run_train(const Args& args) {
  install_stop_handlers();  // first: a signal during set-up (data, hashing, weights) stops cleanly, exit 75
  CommandLine cl(command_spec("train"), args);  // options declared in cli/commands.cpp; --config is required there
  const Config config = Config::load(*cl.value("config"), cl.values("set"));
  TrainingRun run(config, cl.text("resume"));
  return run.run();
}

}  // namespace st
