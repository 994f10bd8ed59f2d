// juleseg-cli slurm-script: for cohorts beyond one machine, writes a SLURM job-array script that segments
// one volume per array task with a saved project's parameters and model. We generate the script; the
// site's scheduler runs it (`sbatch job.sh`). The script also runs without SLURM for one task:
// `SLURM_ARRAY_TASK_ID=3 bash job.sh`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "core/io/AtomicFile.h"
#include "core/project/Project.h"

namespace jseg::cli {

namespace fs = std::filesystem;

namespace {

struct SlurmArgs {
  std::string project, list, script, outDir, partition, time = "04:00:00", cli;
  int cpus = 8;
  int memGb = 32;
};

// Single-quoted for bash, so paths with spaces or quotes survive.
std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string selfPath() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("juleseg-cli") : p.string();
}

void runSlurm(const SlurmArgs& a) {
  Project::load(a.project);  // refuse a broken project now rather than in every array task
  std::ifstream in(a.list);
  if (!in) throw InputError(a.list + ": cannot read the list of volumes");
  std::vector<std::string> volumes;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') volumes.push_back(line);
  if (volumes.empty()) throw InputError(a.list + ": the list names no volume (one path per line)");
  if (a.cpus < 1 || a.cpus > 256) throw InputError("--cpus must be between 1 and 256");
  if (a.memGb < 1) throw InputError("--mem-gb must be positive");
  const std::string list = fs::absolute(a.list).string(), project = fs::absolute(a.project).string();
  const std::string out = fs::absolute(a.outDir).string();
  const std::string cli = a.cli.empty() ? selfPath() : a.cli;
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# juleseg cohort job: one volume per SLURM array task, parameters and model from\n"
    << "#   " << project << "\n"
    << "# Submit with: sbatch " << fs::path(a.script).filename().string() << "\n"
    << "# Run one task by hand: SLURM_ARRAY_TASK_ID=0 bash " << fs::path(a.script).filename().string() << "\n"
    << "#SBATCH --job-name=juleseg\n"
    << "#SBATCH --array=0-" << volumes.size() - 1 << "\n"
    << "#SBATCH --cpus-per-task=" << a.cpus << "\n"
    << "#SBATCH --mem=" << a.memGb << "G\n"
    << "#SBATCH --time=" << a.time << "\n"
    << "#SBATCH --output=" << out << "/logs/%A_%a.log\n";
  if (!a.partition.empty()) s << "#SBATCH --partition=" << a.partition << "\n";
  s << "set -euo pipefail\n"
    << "task=${SLURM_ARRAY_TASK_ID:?set SLURM_ARRAY_TASK_ID (sbatch does)}\n"
    << "list=" << shellQuote(list) << "\n"
    << "volume=$(grep -v '^#' \"$list\" | sed '/^$/d' | sed -n \"$((task + 1))p\")\n"
    << "if [ -z \"$volume\" ]; then echo \"juleseg: no volume for task $task in $list\" >&2; exit 2; fi\n"
    << "mkdir -p " << shellQuote(out + "/logs") << "\n"
    << "exec " << shellQuote(cli) << " run \"$volume\" --project " << shellQuote(project) << " --threads "
    << a.cpus << " --no-untrained -o " << shellQuote(out) << "/task_$(printf %04d \"$task\")\n";
  writeFileAtomically(a.script, s.str());
  fs::permissions(a.script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  std::cout << "wrote " << a.script << ": " << volumes.size() << " array tasks; submit with `sbatch " << a.script
            << "`\n";
}

} // namespace

void registerSlurmCommand(CLI::App& app) {
  auto a = std::make_shared<SlurmArgs>();
  auto* cmd = app.add_subcommand("slurm-script", "Write a SLURM job-array script: one volume per task, from a project");
  cmd->add_option("--project", a->project, "project (.juleseg) whose parameters and model every task uses")->required();
  cmd->add_option("--list", a->list, "text file with one volume path per line")->required();
  cmd->add_option("-o,--output", a->script, "script to write, e.g. job.sh")->required();
  cmd->add_option("--out-dir", a->outDir, "folder for the results (task_0000, task_0001, ...) and logs")->required();
  cmd->add_option("--cpus", a->cpus, "CPUs per task (also --threads of each run)");
  cmd->add_option("--mem-gb", a->memGb, "memory per task in GB");
  cmd->add_option("--time", a->time, "wall-time limit per task, HH:MM:SS");
  cmd->add_option("--partition", a->partition, "SLURM partition");
  cmd->add_option("--cli", a->cli, "path of juleseg-cli on the cluster nodes (default: this one)");
  cmd->callback([a] { runSlurm(*a); });
}

} // namespace jseg::cli
