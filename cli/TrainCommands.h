#pragma once
// juleseg-cli train / cluster-images: JULE training on a volume's patches, and JULE on a stack of 2D images.
#include <CLI/CLI.hpp>

namespace jseg::cli {
void registerTrainCommand(CLI::App& app);
void registerClusterImagesCommand(CLI::App& app);
} // namespace jseg::cli
