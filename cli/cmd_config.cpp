// cli/cmd_config.cpp — `safetune config defaults | config validate FILE`: the schema as a table, or one
// config checked and printed resolved.
#include "common/check.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"

#include <fmt/ranges.h>

namespace st {

int run_config(const Args& args) {
  static const CommandSpec& spec = command_spec("config");
  CommandLine cl(spec, args);
  const std::string action = cl.positional()[0];
  if (action == "defaults") {
    fmt::print("{}", cl.flag("markdown") ? describe_config_markdown() : describe_config_defaults());
    return 0;
  }
  ST_CHECK_INPUT(action == "validate" && cl.positional().size() == 2, "config: usage: safetune {}", spec.usage);
  const auto config = Config::load(cl.positional()[1], cl.values("set"));
  auto problems = missing_inputs(config);
  for (auto& overlap : overlapping_outputs(config)) problems.push_back(std::move(overlap));
  ST_CHECK_INPUT(problems.empty(), "{}: {} input path(s) cannot be read or would be overwritten:\n  {}", config.source(),
                 problems.size(), fmt::join(problems, "\n  "));
  fmt::print("{}: ok\n{}\n", config.source(), config.resolved().dump(2));
  return 0;
}

}  // namespace st
