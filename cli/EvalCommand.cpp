// juleseg-cli eval LABELS TRUTH: NMI and contingency table of a segmentation against a ground truth.
#include <iomanip>
#include <iostream>
#include <memory>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "core/eval/Nmi.h"

namespace jseg::cli {

namespace {
struct EvalArgs {
  std::string labels, truth, mask, slices, axis = "z";
  bool table = false;
};

void runEval(const EvalArgs& a) {
  LabelVolume pred = loadLabels(a.labels);
  LabelVolume truth = loadLabels(a.truth);
  requireSameGrid(truth.geom, pred.geom, "ground truth " + a.truth);
  EvaluationRegion region;
  Mask mask;
  if (!a.mask.empty()) {
    LabelVolume m = loadLabels(a.mask);
    requireSameGrid(m.geom, pred.geom, "mask " + a.mask);
    mask = maskFromLabels(m, "mask " + a.mask);
    region.mask = &mask;
  }
  if (!a.slices.empty()) region.slices = parseIndexList(a.slices);
  if (a.axis == "x") region.axis = 0;
  else if (a.axis == "y") region.axis = 1;
  else if (a.axis == "z") region.axis = 2;
  else throw InputError("--axis must be x, y or z");
  SegmentationScore s = scoreSegmentation(pred, truth, region);
  std::cout << "NMI " << std::fixed << std::setprecision(4) << s.nmi << " over " << s.voxels << " voxels\n";
  if (a.table) std::cout << s.table.toText();
}
} // namespace

void registerEvalCommand(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "NMI (Strehl & Ghosh) of a label volume against a ground truth");
  cmd->add_option("labels", args->labels, "label volume to score")->required();
  cmd->add_option("truth", args->truth, "ground-truth label volume")->required();
  cmd->add_option("--mask", args->mask, "score only voxels where this volume is non-zero (default: truth > 0)");
  cmd->add_option("--slices", args->slices, "score only these slices, e.g. 40,60,80 (the paper used 7)");
  cmd->add_option("--axis", args->axis, "axis of --slices: x, y or z (default z)");
  cmd->add_flag("--table", args->table, "print the contingency table");
  cmd->callback([args] { runEval(*args); });
}

} // namespace jseg::cli
