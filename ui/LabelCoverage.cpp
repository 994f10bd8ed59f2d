#include "ui/LabelCoverage.h"

#include <QStringList>
#include <vector>

namespace jseg::ui {

QString unlabelledEdgeNote(const LabelVolume& labels, int patchSize) {
  const Geometry& g = labels.geom;
  // Per axis, which slices hold any label.
  std::array<std::vector<char>, 3> labelled;
  for (int a = 0; a < 3; ++a) labelled[a].assign(size_t(g.dims[a]), 0);
  for (int64_t z = 0; z < g.dims[2]; ++z)
    for (int64_t y = 0; y < g.dims[1]; ++y)
      for (int64_t x = 0; x < g.dims[0]; ++x)
        if (labels.labels[g.index(x, y, z)] > 0) labelled[0][x] = labelled[1][y] = labelled[2][z] = 1;
  static const char* axisNames[3] = {"x", "y", "z (slices)"};
  QStringList parts;
  for (int a = 0; a < 3; ++a) {
    const auto& l = labelled[a];
    int64_t first = 0, last = int64_t(l.size()) - 1;
    while (first <= last && !l[size_t(first)]) ++first;
    while (last >= first && !l[size_t(last)]) --last;
    if (first > last || (first == 0 && last == int64_t(l.size()) - 1)) continue;
    QStringList ranges;
    if (first > 0) ranges << (first == 1 ? QString("1") : QString("1–%1").arg(first));
    if (last < int64_t(l.size()) - 1)
      ranges << (last + 2 == int64_t(l.size()) ? QString::number(l.size())
                                               : QString("%1–%2").arg(last + 2).arg(l.size()));
    parts << QString("%1 %2 of %3").arg(axisNames[a], ranges.join(" and ")).arg(l.size());
  }
  if (parts.isEmpty()) return {};
  return QString(
             "No labels at %1: every patch (w = %2, thinner along z when the depth is set) must lie inside the "
             "volume, so the sampling grid keeps half a patch away from its faces.")
      .arg(parts.join("; "))
      .arg(patchSize);
}

} // namespace jseg::ui
