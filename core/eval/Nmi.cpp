#include "core/eval/Nmi.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include "core/base/Errors.h"

namespace jseg {

ContingencyTable contingencyTable(const std::vector<int>& truth, const std::vector<int>& predicted) {
  if (truth.size() != predicted.size()) throw InputError("label lists differ in length");
  std::map<int, int> rowOf, colOf;
  for (int t : truth) rowOf.emplace(t, 0);
  for (int p : predicted) colOf.emplace(p, 0);
  ContingencyTable table;
  for (auto& [label, idx] : rowOf) {
    idx = static_cast<int>(table.truthLabels.size());
    table.truthLabels.push_back(label);
  }
  for (auto& [label, idx] : colOf) {
    idx = static_cast<int>(table.predictedLabels.size());
    table.predictedLabels.push_back(label);
  }
  table.counts.assign(table.truthLabels.size(), std::vector<int64_t>(table.predictedLabels.size(), 0));
  // Label values are small integers in practice; a dense lookup keeps this linear and fast.
  for (std::size_t i = 0; i < truth.size(); ++i) ++table.counts[rowOf[truth[i]]][colOf[predicted[i]]];
  table.total = static_cast<int64_t>(truth.size());
  return table;
}

double nmi(const ContingencyTable& t) {
  if (t.total == 0) return 0;
  const double n = static_cast<double>(t.total);
  std::vector<double> rows(t.truthLabels.size(), 0), cols(t.predictedLabels.size(), 0);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c) {
      rows[r] += double(t.counts[r][c]);
      cols[c] += double(t.counts[r][c]);
    }
  auto entropy = [&](const std::vector<double>& m) {
    double h = 0;
    for (double v : m)
      if (v > 0) h -= (v / n) * std::log(v / n);
    return h;
  };
  double mi = 0;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c) {
      double v = double(t.counts[r][c]);
      if (v > 0) mi += (v / n) * std::log(v * n / (rows[r] * cols[c]));
    }
  const double ht = entropy(rows), hp = entropy(cols);
  // One side constant: MI is 0; defined as 1 only when both partitions are trivial and identical.
  if (ht <= 0 || hp <= 0) return (ht <= 0 && hp <= 0) ? 1.0 : 0.0;
  return std::clamp(mi / std::sqrt(ht * hp), 0.0, 1.0);
}

double nmi(const std::vector<int>& truth, const std::vector<int>& predicted) {
  return nmi(contingencyTable(truth, predicted));
}

std::string ContingencyTable::toText() const {
  std::ostringstream o;
  o << std::setw(10) << "truth\\pred";
  for (int p : predictedLabels) o << std::setw(11) << p;
  o << "\n";
  for (std::size_t r = 0; r < truthLabels.size(); ++r) {
    o << std::setw(10) << truthLabels[r];
    for (auto c : counts[r]) o << std::setw(11) << c;
    o << "\n";
  }
  return o.str();
}

SegmentationScore scoreSegmentation(const LabelVolume& predicted, const LabelVolume& truth,
                                    const EvaluationRegion& region) {
  if (predicted.geom.dims != truth.geom.dims) {
    std::ostringstream o;
    o << "label volume is " << predicted.geom.dims[0] << "x" << predicted.geom.dims[1] << "x" << predicted.geom.dims[2]
      << " but the ground truth is " << truth.geom.dims[0] << "x" << truth.geom.dims[1] << "x" << truth.geom.dims[2];
    throw InputError(o.str());
  }
  if (region.mask && region.mask->geom.dims != truth.geom.dims)
    throw InputError("evaluation mask does not have the ground truth's dimensions");
  const auto& d = truth.geom.dims;
  if (region.axis < 0 || region.axis > 2) throw InputError("evaluation axis must be 0, 1 or 2");
  std::vector<uint8_t> sliceOn;
  if (!region.slices.empty()) {
    sliceOn.assign(static_cast<std::size_t>(d[region.axis]), 0);
    for (auto s : region.slices) {
      if (s < 0 || s >= d[region.axis])
        throw InputError("evaluation slice " + std::to_string(s) + " is outside 0.." + std::to_string(d[region.axis] - 1));
      sliceOn[static_cast<std::size_t>(s)] = 1;
    }
  }
  std::vector<int> t, p;
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) {
        if (!sliceOn.empty()) {
          int64_t c = region.axis == 0 ? x : region.axis == 1 ? y : z;
          if (!sliceOn[static_cast<std::size_t>(c)]) continue;
        }
        std::size_t i = truth.geom.index(x, y, z);
        bool in = region.mask ? region.mask->inside[i] != 0 : truth.labels[i] > 0;
        if (!in) continue;
        t.push_back(truth.labels[i]);
        p.push_back(predicted.labels[i]);
      }
  if (t.empty()) throw InputError("no voxels to evaluate (the ground truth has no labelled voxels in the region)");
  SegmentationScore s;
  s.table = contingencyTable(t, p);
  s.nmi = nmi(s.table);
  s.voxels = static_cast<int64_t>(t.size());
  return s;
}

} // namespace jseg
