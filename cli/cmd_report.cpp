// cli/cmd_report.cpp — `safetune report RUN_DIR [RUN_DIR...] --out FILE.html`: one self-contained
// HTML file (inline SVG, no scripts, no network) for one run or a comparison of several.
#include "common/check.h"
#include "common/files.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/eval/report.h"

namespace st {

int run_report(const Args& args) {
  CommandLine cl(command_spec("report"), args);
  std::vector<RunRecord> runs;
  for (const auto& dir : cl.positional()) runs.push_back(read_run(dir));
  write_text_file_atomic(*cl.value("out"), render_report(runs));
  fmt::print("report: {} run(s) written to {}\n", runs.size(), *cl.value("out"));
  return 0;
}

}  // namespace st
