#include "cli/CliMain.h"

int main(int argc, char** argv) { return jseg::cli::main(argc, argv); }
