#include "core/cli/CliMain.h"

#include <iostream>

namespace jseg::cli {
int main(int, char**) {
  std::cerr << "juleseg-cli: under construction\n";
  return 1;
}
} // namespace jseg::cli
