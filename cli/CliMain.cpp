#include "cli/CliMain.h"

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "cli/TrainCommands.h"

namespace jseg::cli {

int main(int argc, char** argv) {
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
    std::cerr << "juleseg-cli: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const CancelledError&) {
    std::cerr << "juleseg-cli: cancelled\n";
    return 130;
  } catch (const InputError& e) {
    std::cerr << "juleseg-cli: error: " << e.what() << "\n";
    return 2;
  } catch (const ResourceError& e) {
    std::cerr << "juleseg-cli: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "juleseg-cli: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

} // namespace jseg::cli
