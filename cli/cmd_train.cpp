// cli/cmd_train.cpp — `safetune train --config FILE [--set k=v]... [--resume auto|never|PATH]`: loads and
// checks the config, then hands it to a TrainingRun (trainer/training_run.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/stop_signal.h"
#include "trainer/c10d_communicator.h"
#include "trainer/config.h"
#include "trainer/training_run.h"

namespace st {

int run_train(const Args& args) {
  install_stop_handlers();  // first: a signal during set-up (data, hashing, weights) stops cleanly, exit 75
  CommandLine cl(command_spec("train"), args);  // options declared in cli/commands.cpp; --config is required there
  const Config config = Config::load(*cl.value("config"), cl.values("set"));
  // Under torchrun (RANK, WORLD_SIZE, ... set) this is one process of a data-parallel run.
  std::unique_ptr<Communicator> communicator;
  if (const auto launch = launch_environment()) {
    const auto& train = config.run_config().train;
    communicator = connect_processes(*launch, std::chrono::seconds(train.distributed_timeout_s), train.distributed_backend,
                                     pick_device(config.run_config().model.device, launch->local_rank));
    // The processes of one machine share its cores, as torchrun's OMP_NUM_THREADS=1 default intends; an
    // explicit OMP_NUM_THREADS wins.
    if (std::getenv("OMP_NUM_THREADS") == nullptr)
      at::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / launch->local_world_size));
    // The primary process tells the user what happens; the others' stdout would only repeat it. Their
    // errors still reach stderr.
    if (!communicator->is_primary() && std::freopen("/dev/null", "w", stdout) == nullptr) std::fclose(stdout);
    fmt::print("data-parallel: {}, {}\n", communicator->describe(), launch->describe());
  }
  TrainingRun run(config, cl.text("resume"), nullptr, std::move(communicator));
  return run.run();
}

}  // namespace st
