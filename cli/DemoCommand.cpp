// juleseg-cli demo -o DIR: writes the built-in demo phantom and its ground truth, to try every command on.
#include <filesystem>
#include <iostream>
#include <memory>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "core/demo/Phantom.h"
#include "core/io/NiftiIO.h"

namespace jseg::cli {

namespace {
struct DemoArgs {
  std::string out = "juleseg-demo";
  int size = 96;
  long long seed = 7;
};
void runDemo(const DemoArgs& a) {
  if (a.size < 32 || a.size > 512) throw InputError("--size must be between 32 and 512");
  std::filesystem::create_directories(a.out);
  PhantomOptions o;
  o.size = a.size;
  o.seed = static_cast<uint64_t>(a.seed);
  Phantom p = makeDemoPhantom(o);
  const std::string vol = a.out + "/phantom.nii.gz", truth = a.out + "/phantom_truth.nii.gz";
  NiftiIO::write(p.volume, vol);
  NiftiIO::writeLabels(p.truth, truth);
  std::cout << "wrote " << vol << " and " << truth << "\n"
            << "suggested threshold " << p.suggestedLo << ":" << p.suggestedHi << "\n";
}
} // namespace

void registerDemoCommand(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Write the built-in demo phantom (3 tissues) and its ground truth as NIfTI");
  cmd->add_option("-o,--output", args->out, "output folder");
  cmd->add_option("--size", args->size, "edge length in voxels");
  cmd->add_option("--seed", args->seed, "seed of the phantom's random fields");
  cmd->callback([args] { runDemo(*args); });
}

} // namespace jseg::cli
