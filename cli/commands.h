// cli/commands.h — the safetune subcommands; each takes the arguments after its name and returns
// the process exit code (errors are thrown as st::Error and mapped to exit codes by main).
#pragma once

#include <string>
#include <vector>

namespace st {

using Args = std::vector<std::string>;

int run_inspect(const Args& args);     // inspect PATH [--json]
int run_init_model(const Args& args);  // init-model --config ARCH.json --out DIR [--tokenizer F] [--seed N]
int run_convert(const Args& args);     // convert IN_DIR OUT_DIR [--dtype D] [--max-shard-size S]
int run_train(const Args& args);       // train --config FILE [--set k=v]... [--resume auto|never|PATH]
int run_config(const Args& args);      // config defaults | config validate FILE
int run_train_classifier(const Args& args);  // train-classifier --config FILE [--set k=v]...
int run_score(const Args& args);             // score --classifier DIR [--input FILE.jsonl] [--threshold T]
int run_sweep(const Args& args);             // sweep --config FILE --grid key=v1,v2,... [--set k=v]...
int run_generate(const Args& args);          // generate --model DIR (--prompt T | --input F.jsonl) [...]
int run_report(const Args& args);            // report RUN_DIR [RUN_DIR...] --out FILE.html
int run_eval(const Args& args);              // eval --model DIR --config FILE [--out F] [--generations F]

}  // namespace st
