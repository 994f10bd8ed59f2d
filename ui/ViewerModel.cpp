#include "ui/ViewerModel.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkLookupTable.h>
#include <vtkPointData.h>
#include <vtkUnsignedCharArray.h>
#include <vtkUnsignedShortArray.h>

namespace jseg::ui {

const char* viewKindName(ViewKind k) {
  switch (k) {
    case ViewKind::Axial: return "Axial";
    case ViewKind::Coronal: return "Coronal";
    case ViewKind::Sagittal: return "Sagittal";
  }
  return "";
}

namespace {

// Image data over a buffer that stays owned by our shared_ptr'd value (no copy of large volumes).
template <class ArrayT, class T>
vtkSmartPointer<vtkImageData> wrap(const Geometry& g, const T* data) {
  auto img = vtkSmartPointer<vtkImageData>::New();
  img->SetDimensions(int(g.dims[0]), int(g.dims[1]), int(g.dims[2]));
  img->SetSpacing(g.spacing[0], g.spacing[1], g.spacing[2]);
  img->SetOrigin(0, 0, 0);
  auto arr = vtkSmartPointer<ArrayT>::New();
  arr->SetNumberOfComponents(1);
  arr->SetArray(const_cast<T*>(data), vtkIdType(g.voxelCount()), 1);
  img->GetPointData()->SetScalars(arr);
  return img;
}

} // namespace

ViewerModel::ViewerModel(QObject* parent) : QObject(parent) {
  labelLut_ = vtkSmartPointer<vtkLookupTable>::New();
  rebuildLut();
}

ViewerModel::~ViewerModel() = default;

void ViewerModel::setVolume(std::shared_ptr<const Volume> v, VolumeStats stats) {
  mask_.reset();
  maskImage_ = nullptr;
  labels_.reset();
  labelImage_ = nullptr;
  table_.clear();
  rebuildLut();
  volume_ = std::move(v);
  stats_ = std::move(stats);
  image_ = volume_ ? wrap<vtkFloatArray>(volume_->geom, volume_->voxels.data()) : nullptr;
  if (volume_) {
    const auto& d = volume_->dims();
    cursor_ = {d[0] / 2, d[1] / 2, d[2] / 2};
  }
  windowLo_ = stats_.min;
  windowHi_ = stats_.max;
  if (volume_) autoWindow();
  Q_EMIT volumeChanged();
  Q_EMIT maskChanged();
  Q_EMIT labelsChanged();
  Q_EMIT cursorChanged();
  Q_EMIT windowChanged();
}

void ViewerModel::showChannel(std::shared_ptr<const Volume> channel, VolumeStats stats) {
  if (!volume_ || !channel || channel->geom.dims != volume_->geom.dims) return;
  volume_ = std::move(channel);
  stats_ = std::move(stats);
  image_ = wrap<vtkFloatArray>(volume_->geom, volume_->voxels.data());
  autoWindow();
  Q_EMIT volumeChanged();
  Q_EMIT maskChanged();
  Q_EMIT labelsChanged();
  Q_EMIT cursorChanged();
  Q_EMIT windowChanged();
}

ViewAxes ViewerModel::axes(ViewKind k) const {
  std::array<double, 9> dir{1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (volume_) dir = volume_->geom.direction;
  // For each world axis (L, P, S) the index axis closest to it; a greedy pick keeps them distinct.
  std::array<int, 3> axisOfWorld{-1, -1, -1};
  std::array<bool, 3> used{false, false, false};
  for (int pass = 0; pass < 3; ++pass) {
    double best = -1;
    int bw = 0, bj = 0;
    for (int w = 0; w < 3; ++w) {
      if (axisOfWorld[w] >= 0) continue;
      for (int j = 0; j < 3; ++j) {
        if (used[j]) continue;
        double a = std::abs(dir[w * 3 + j]);
        if (a > best) best = a, bw = w, bj = j;
      }
    }
    axisOfWorld[bw] = bj;
    used[bj] = true;
  }
  auto sign = [&](int world, int axis) { return dir[world * 3 + axis] >= 0 ? 1 : -1; };
  ViewAxes a;
  switch (k) {
    case ViewKind::Axial:  // right = +L, up = anterior (−P)
      a.sliceAxis = axisOfWorld[2];
      a.hAxis = axisOfWorld[0];
      a.hSign = sign(0, a.hAxis);
      a.vAxis = axisOfWorld[1];
      a.vSign = -sign(1, a.vAxis);
      break;
    case ViewKind::Coronal:  // right = +L, up = +S
      a.sliceAxis = axisOfWorld[1];
      a.hAxis = axisOfWorld[0];
      a.hSign = sign(0, a.hAxis);
      a.vAxis = axisOfWorld[2];
      a.vSign = sign(2, a.vAxis);
      break;
    case ViewKind::Sagittal:  // right = +P (anterior on the left), up = +S
      a.sliceAxis = axisOfWorld[0];
      a.hAxis = axisOfWorld[1];
      a.hSign = sign(1, a.hAxis);
      a.vAxis = axisOfWorld[2];
      a.vSign = sign(2, a.vAxis);
      break;
  }
  return a;
}

void ViewerModel::setCursor(std::array<int64_t, 3> c) {
  if (!volume_) return;
  const auto& d = volume_->dims();
  for (int i = 0; i < 3; ++i) c[i] = std::clamp<int64_t>(c[i], 0, d[i] - 1);
  if (c == cursor_) return;
  cursor_ = c;
  Q_EMIT cursorChanged();
}

void ViewerModel::moveSlice(int axis, int64_t delta) {
  auto c = cursor_;
  c[axis] += delta;
  setCursor(c);
}

void ViewerModel::setWindow(float lo, float hi) {
  if (!(hi > lo)) hi = lo + std::max(1e-6f, std::abs(lo) * 1e-6f);
  if (lo == windowLo_ && hi == windowHi_) return;
  windowLo_ = lo;
  windowHi_ = hi;
  Q_EMIT windowChanged();
}

void ViewerModel::autoWindow() { setWindow(stats_.percentile(0.5), stats_.percentile(99.5)); }

void ViewerModel::setMask(std::shared_ptr<const Mask> m) {
  mask_ = std::move(m);
  maskImage_ = (mask_ && volume_ && mask_->geom.sameGrid(volume_->geom))
                   ? wrap<vtkUnsignedCharArray>(volume_->geom, mask_->inside.data())
                   : nullptr;
  Q_EMIT maskChanged();
}

void ViewerModel::setMaskVisible(bool on) {
  if (on == maskVisible_) return;
  maskVisible_ = on;
  Q_EMIT maskChanged();
}

void ViewerModel::setLabels(std::shared_ptr<const LabelVolume> l, std::vector<LabelInfo> table, bool preview) {
  labels_ = std::move(l);
  labelsPreview_ = preview;
  labelImage_ = (labels_ && volume_ && labels_->geom.sameGrid(volume_->geom))
                    ? wrap<vtkUnsignedShortArray>(volume_->geom, labels_->labels.data())
                    : nullptr;
  // Keep names, colours and visibility the user already set for labels that still exist.
  for (auto& t : table)
    for (const auto& old : table_)
      if (old.id == t.id) t = old;
  table_ = std::move(table);
  rebuildLut();
  Q_EMIT labelsChanged();
}

void ViewerModel::clearLabels() {
  labels_.reset();
  labelImage_ = nullptr;
  Q_EMIT labelsChanged();
}

void ViewerModel::setLabelInfo(int index, const LabelInfo& info) {
  if (index < 0 || index >= int(table_.size())) return;
  table_[index] = info;
  rebuildLut();
  Q_EMIT labelStyleChanged();
}

void ViewerModel::setLabelOpacity(double o) {
  labelOpacity_ = std::clamp(o, 0.0, 1.0);
  Q_EMIT labelStyleChanged();
}

void ViewerModel::setGrid(int stride, int patch) {
  if (stride == gridStride_ && patch == gridPatch_) return;
  gridStride_ = stride;
  gridPatch_ = patch;
  Q_EMIT gridChanged();
}

void ViewerModel::rebuildLut() {
  int maxId = 1;
  for (const auto& t : table_) maxId = std::max(maxId, t.id);
  labelLut_->SetNumberOfTableValues(maxId + 1);
  // Table value v holds label v: the range is shifted by half a value so each integer hits its entry.
  labelLut_->SetTableRange(-0.5, maxId + 0.5);
  for (int i = 0; i <= maxId; ++i) labelLut_->SetTableValue(i, 0, 0, 0, 0);
  for (const auto& t : table_) {
    if (t.id <= 0) continue;
    labelLut_->SetTableValue(t.id, t.rgb[0] / 255.0, t.rgb[1] / 255.0, t.rgb[2] / 255.0, t.visible ? 1.0 : 0.0);
  }
  labelLut_->Modified();
}

float ViewerModel::valueAt(const std::array<int64_t, 3>& i) const {
  if (!volume_ || !volume_->geom.contains(i[0], i[1], i[2])) return std::numeric_limits<float>::quiet_NaN();
  return volume_->at(i[0], i[1], i[2]);
}

int ViewerModel::labelAt(const std::array<int64_t, 3>& i) const {
  if (!labels_ || !labels_->geom.contains(i[0], i[1], i[2])) return -1;
  return labels_->labels[labels_->geom.index(i[0], i[1], i[2])];
}

} // namespace jseg::ui
