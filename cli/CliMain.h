#pragma once
namespace jseg::cli {
// Entry point of juleseg-cli: parses the subcommand, runs it, maps errors to exit codes
// (0 ok, 2 bad input or resources, 1 unexpected failure, 130 cancelled by Ctrl-C).
int main(int argc, char** argv);
} // namespace jseg::cli
