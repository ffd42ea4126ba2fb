// cli/cmd_train.cpp — `safetune train --config FILE [--set k=v]... [--resume auto|never|PATH]`: loads and
// checks the config, then hands it to a TrainingRun (trainer/training_run.h).
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"
#include "trainer/training_run.h"

namespace st {

int run_train(const Args& args) {
  static const CommandSpec& spec = command_spec("train");  // declared in commands.cpp
  CommandLine cl(spec, args);
  ST_CHECK_INPUT(cl.value("config").has_value(), "train: --config is required (usage: safetune {})", spec.usage);
  const Config config = Config::load(*cl.value("config"), cl.values("set"));
  TrainingRun run(config, cl.value_or("resume", "auto"));
  return run.run();
}

}  // namespace st
