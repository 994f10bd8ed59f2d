#pragma once
// Why some slices carry no labels: a patch must lie inside the volume, so the centres of the sampling grid stay half
// a patch away from every face and the slices nearer the faces stay unlabelled. On a thin stack (20 slices, 15-voxel
// patches) that is most of the volume, and a user should be told rather than left to wonder.
#include <QString>

#include "core/base/Volume.h"

namespace jseg::ui {

// "" when every slice along every axis has a label; otherwise one sentence naming the unlabelled slices (1-based)
// of the axes where they are and the patch margin that explains them. A pass over every voxel.
QString unlabelledEdgeNote(const LabelVolume& labels, int patchSize);

} // namespace jseg::ui
