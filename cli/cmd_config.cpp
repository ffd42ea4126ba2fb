// cli/cmd_config.cpp — `safetune config defaults | config validate FILE`: the schema as a table, or one
// config checked and printed resolved.
#include "common/check.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"

namespace st {

int run_config(const Args& args) {
  static const CommandSpec spec{"config", "config defaults | config validate FILE [--set key=value]...", {}, {"set"}, 1, 2};
  CommandLine cl(spec, args);
  const std::string action = cl.positional()[0];
  if (action == "defaults") {
    fmt::print("{}", describe_config_defaults());
    return 0;
  }
  ST_CHECK_INPUT(action == "validate" && cl.positional().size() == 2, "config: usage: safetune {}", spec.usage);
  const auto config = Config::load(cl.positional()[1], cl.values("set"));
  fmt::print("{}: ok\n{}\n", config.source(), config.resolved().dump(2));
  return 0;
}

}  // namespace st
