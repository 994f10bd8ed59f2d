#include "cli/CliMain.h"

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "cli/Interrupts.h"
#include "cli/TrainCommands.h"

namespace jseg::cli {

int main(int argc, char** argv) {
  installInterruptHandlers();
  CLI::App app{"juleseg-cli — unsupervised segmentation of 3D images by JULE and k-means"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("juleseg ") + JULESEG_VERSION);
  registerInfoCommand(app);
  registerConvertCommand(app);
  registerExportCommand(app);
  registerBaselineCommand(app);
  registerEvalCommand(app);
  registerDemoCommand(app);
  registerTrainCommand(app);
  registerClusterImagesCommand(app);
  registerRunCommand(app);
  registerSlurmCommand(app);
  registerParamsCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command that already reported its failures (batch summary)
  } catch (const CLI::ParseError& e) {
    std::cerr << "juleseg-cli: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const CancelledError&) {
    std::cerr << "juleseg-cli: cancelled\n";
    return 128 + (interruptSignal() ? interruptSignal() : SIGINT);
  } catch (const Error& e) {
    // Bad input, a job too big for the memory, a file that cannot be written: one line, exit code 2.
    std::cerr << "juleseg-cli: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "juleseg-cli: error: out of memory (the memory plan underestimated this run; try a larger "
                 "--stride or fewer --patches)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "juleseg-cli: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

} // namespace jseg::cli
