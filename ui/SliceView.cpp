#include "ui/SliceView.h"

#include "ui/SliceAnnotations.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkImageSlice.h>
#include <vtkImageSliceCollection.h>
#include <vtkImageSliceMapper.h>
#include <vtkImageStack.h>
#include <vtkLookupTable.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>

namespace jseg::ui {

namespace {

// The threshold mask's tint: amber, away in hue from the label colours of small
// K (red, green, blue, yellow, cyan, magenta); the former cyan was hard to tell
// from the blue label.
constexpr double kMaskRgb[3] = {1.0, 0.55, 0.0};

std::array<double, 3> unit(int axis, int sign) {
  std::array<double, 3> v{0, 0, 0};
  v[axis] = sign;
  return v;
}
std::array<double, 3> cross(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

vtkSmartPointer<vtkImageSlice> makeSlice(vtkImageSliceMapper* mapper, int layer) {
  auto s = vtkSmartPointer<vtkImageSlice>::New();
  s->SetMapper(mapper);
  s->GetProperty()->SetInterpolationTypeToNearest();
  s->GetProperty()->SetLayerNumber(layer);
  return s;
}

vtkSmartPointer<vtkActor> makeLineActor(vtkPolyData* data, double r, double g, double b) {
  auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
  mapper->SetInputData(data);
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(r, g, b);
  actor->GetProperty()->SetLighting(false);
  return actor;
}

} // namespace

SliceView::SliceView(ViewerModel* model, ViewKind kind, QWidget* parent)
    : VtkView(parent), model_(model), kind_(kind) {
  setToolTip(QString("%1 view: left-click moves the crosshair, wheel scrolls slices, Ctrl+wheel zooms, "
                     "right-drag sets window/level, middle or Shift+left drag pans, R resets the zoom")
                 .arg(viewKindName(kind)));
  stack_ = vtkSmartPointer<vtkImageStack>::New();
  auto mkMapper = [] {
    auto m = vtkSmartPointer<vtkImageSliceMapper>::New();
    m->SliceAtFocalPointOff();
    m->SliceFacesCameraOff();
    m->BorderOn();
    return m;
  };
  imageMapper_ = mkMapper();
  maskMapper_ = mkMapper();
  labelMapper_ = mkMapper();
  imageSlice_ = makeSlice(imageMapper_, 0);
  maskSlice_ = makeSlice(maskMapper_, 1);
  labelSlice_ = makeSlice(labelMapper_, 2);

  maskLut_ = vtkSmartPointer<vtkLookupTable>::New();
  maskLut_->SetNumberOfTableValues(2);
  maskLut_->SetTableRange(-0.5, 1.5);
  maskLut_->SetTableValue(0, 0, 0, 0, 0);
  maskLut_->SetTableValue(1, kMaskRgb[0], kMaskRgb[1], kMaskRgb[2], 1.0);
  maskLut_->Build();
  maskLut_->SetTableValue(0, 0, 0, 0, 0);
  maskLut_->SetTableValue(1, kMaskRgb[0], kMaskRgb[1], kMaskRgb[2], 1.0);
  maskSlice_->GetProperty()->SetLookupTable(maskLut_);
  maskSlice_->GetProperty()->UseLookupTableScalarRangeOn();
  labelSlice_->GetProperty()->SetLookupTable(model_->labelLut());
  labelSlice_->GetProperty()->UseLookupTableScalarRangeOn();

  crossData_ = vtkSmartPointer<vtkPolyData>::New();
  gridData_ = vtkSmartPointer<vtkPolyData>::New();
  crossActor_ = makeLineActor(crossData_, 1.0, 0.85, 0.1);
  gridActor_ = makeLineActor(gridData_, 1.0, 0.3, 0.9);
  gridActor_->GetProperty()->SetPointSize(2);
  gridActor_->GetProperty()->SetLineWidth(1.5);

  renderer()->AddViewProp(stack_);
  renderer()->AddActor(crossActor_);
  renderer()->AddActor(gridActor_);
  renderer()->GetActiveCamera()->ParallelProjectionOn();
  annotations_ = std::make_unique<SliceAnnotations>(renderer());

  connect(model_, &ViewerModel::volumeChanged, this, &SliceView::onVolumeChanged);
  connect(model_, &ViewerModel::cursorChanged, this, &SliceView::onCursorChanged);
  connect(model_, &ViewerModel::windowChanged, this, &SliceView::onWindowChanged);
  connect(model_, &ViewerModel::maskChanged, this, &SliceView::onMaskChanged);
  connect(model_, &ViewerModel::labelsChanged, this, &SliceView::onLabelsChanged);
  connect(model_, &ViewerModel::labelStyleChanged, this, [this] {
    labelSlice_->GetProperty()->SetOpacity(model_->labelOpacity());
    model_->labelLut()->Modified();
    labelSlice_->Modified();
    requestRender();
  });
  connect(model_, &ViewerModel::gridChanged, this, [this] {
    updateGrid();
    requestRender();
  });
  onVolumeChanged();
}

SliceView::~SliceView() = default;

void SliceView::onVolumeChanged() {
  axes_ = model_->axes(kind_);
  if (!model_->hasVolume()) {
    stack_->GetImages()->RemoveAllItems();
    annotations_->setVisible(false);
    requestRender();
    return;
  }
  imageMapper_->SetInputData(model_->image());
  imageMapper_->SetOrientation(axes_.sliceAxis);
  maskMapper_->SetOrientation(axes_.sliceAxis);
  labelMapper_->SetOrientation(axes_.sliceAxis);
  if (!stack_->HasImage(imageSlice_)) stack_->AddImage(imageSlice_);
  const auto& dir = model_->volume()->geom.direction;
  auto column = [&dir](int axis) { return std::array<double, 3>{dir[axis], dir[3 + axis], dir[6 + axis]}; };
  const auto h = column(axes_.hAxis), v = column(axes_.vAxis);
  annotations_->setEdges(
      SliceAnnotations::patientLetter(h, -axes_.hSign), SliceAnnotations::patientLetter(h, axes_.hSign),
      SliceAnnotations::patientLetter(v, axes_.vSign), SliceAnnotations::patientLetter(v, -axes_.vSign));
  annotations_->setVisible(true);
  onWindowChanged();
  onCursorChanged();
  resetCamera();
}

void SliceView::resetCamera() {
  if (!model_->hasVolume()) return;
  zoom_ = 1.0; // Reset zoom means the whole slice again, not only re-centred
  const auto& g = model_->volume()->geom;
  std::array<double, 3> centre{};
  double maxExtent = 1;
  for (int i = 0; i < 3; ++i) {
    centre[i] = 0.5 * (g.dims[i] - 1) * g.spacing[i];
    maxExtent = std::max(maxExtent, g.dims[i] * g.spacing[i]);
  }
  auto right = unit(axes_.hAxis, axes_.hSign);
  auto up = unit(axes_.vAxis, axes_.vSign);
  auto dop = cross(up, right);
  vtkCamera* cam = renderer()->GetActiveCamera();
  cam->SetFocalPoint(centre.data());
  double d = 2 * maxExtent + 100;
  cam->SetPosition(centre[0] - dop[0] * d, centre[1] - dop[1] * d, centre[2] - dop[2] * d);
  cam->SetViewUp(up.data());
  applyZoom();
}

void SliceView::applyZoom() {
  if (!model_->hasVolume()) return;
  const auto& g = model_->volume()->geom;
  double ew = g.dims[axes_.hAxis] * g.spacing[axes_.hAxis];
  double eh = g.dims[axes_.vAxis] * g.spacing[axes_.vAxis];
  double aspect = double(std::max(1, width())) / std::max(1, height());
  double halfHeight = 0.5 * std::max(eh, ew / aspect) * 1.04;
  renderer()->GetActiveCamera()->SetParallelScale(halfHeight / zoom_);
  requestRender();
}

void SliceView::resizeEvent(QResizeEvent* e) {
  VtkView::resizeEvent(e);
  applyZoom();
}

double SliceView::sliceCoordinateTowardCamera(double offsetVoxels) const {
  const auto& g = model_->volume()->geom;
  auto dop = cross(unit(axes_.vAxis, axes_.vSign), unit(axes_.hAxis, axes_.hSign));
  int s = axes_.sliceAxis;
  return (model_->cursor()[s] - dop[s] * offsetVoxels) * g.spacing[s];
}

void SliceView::onCursorChanged() {
  if (!model_->hasVolume()) return;
  int slice = int(model_->cursor()[axes_.sliceAxis]);
  imageMapper_->SetSliceNumber(slice);
  maskMapper_->SetSliceNumber(slice);
  labelMapper_->SetSliceNumber(slice);
  updateCrosshair();
  updateGrid();
  requestRender();
}

void SliceView::onWindowChanged() {
  auto* p = imageSlice_->GetProperty();
  p->SetColorWindow(double(model_->windowHi()) - model_->windowLo());
  p->SetColorLevel(0.5 * (double(model_->windowHi()) + model_->windowLo()));
  annotations_->setWindow(p->GetColorWindow(), p->GetColorLevel());
  requestRender();
}

void SliceView::onMaskChanged() {
  bool show = model_->maskImage() && model_->maskVisible();
  if (show) {
    maskMapper_->SetInputData(model_->maskImage());
    maskMapper_->SetSliceNumber(int(model_->cursor()[axes_.sliceAxis]));
    maskSlice_->GetProperty()->SetOpacity(model_->maskOpacity());
    if (!maskInStack_) stack_->AddImage(maskSlice_);
    maskInStack_ = true;
  } else if (maskInStack_) {
    stack_->RemoveImage(maskSlice_);
    maskInStack_ = false;
  }
  updateGrid();
  requestRender();
}

void SliceView::onLabelsChanged() {
  if (model_->labelImage()) {
    labelMapper_->SetInputData(model_->labelImage());
    labelMapper_->SetSliceNumber(int(model_->cursor()[axes_.sliceAxis]));
    labelSlice_->GetProperty()->SetOpacity(model_->labelOpacity());
    labelSlice_->GetProperty()->SetLookupTable(model_->labelLut());
    if (!labelsInStack_) stack_->AddImage(labelSlice_);
    labelsInStack_ = true;
  } else if (labelsInStack_) {
    stack_->RemoveImage(labelSlice_);
    labelsInStack_ = false;
  }
  requestRender();
}

void SliceView::updateCrosshair() {
  const auto& g = model_->volume()->geom;
  const auto c = model_->cursor();
  const int h = axes_.hAxis, v = axes_.vAxis, s = axes_.sliceAxis;
  double depth = sliceCoordinateTowardCamera(0.5);
  auto pt = [&](double hv, double vv) {
    std::array<double, 3> p{};
    p[h] = hv;
    p[v] = vv;
    p[s] = depth;
    return p;
  };
  double h0 = -0.5 * g.spacing[h], h1 = (g.dims[h] - 0.5) * g.spacing[h];
  double v0 = -0.5 * g.spacing[v], v1 = (g.dims[v] - 0.5) * g.spacing[v];
  double ch = c[h] * g.spacing[h], cv = c[v] * g.spacing[v];
  auto points = vtkSmartPointer<vtkPoints>::New();
  for (auto p : {pt(h0, cv), pt(h1, cv), pt(ch, v0), pt(ch, v1)}) points->InsertNextPoint(p.data());
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  vtkIdType a[2] = {0, 1}, b[2] = {2, 3};
  lines->InsertNextCell(2, a);
  lines->InsertNextCell(2, b);
  crossData_->SetPoints(points);
  crossData_->SetLines(lines);
  crossData_->Modified();
}

void SliceView::updateGrid() {
  auto points = vtkSmartPointer<vtkPoints>::New();
  auto verts = vtkSmartPointer<vtkCellArray>::New();
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  const int stride = model_->gridStride();
  if (model_->hasVolume() && stride > 0) {
    const auto& g = model_->volume()->geom;
    const int h = axes_.hAxis, v = axes_.vAxis, s = axes_.sliceAxis;
    const int half = model_->gridPatch() / 2;
    const auto c = model_->cursor();
    // At stride 1 or 2 a dot per sample covers every voxel: show every n-th
    // sample so dots stay 3 voxels apart (the grid's extent and the patch
    // outline still tell where samples are).
    const int shownStride = stride * std::max(1, (3 + stride - 1) / stride);
    double depth = sliceCoordinateTowardCamera(0.25);
    // Patch centres keep the whole patch inside the volume; show the grid plane nearest this slice.
    auto planeNear = [&](int64_t x) {
      int64_t k = std::llround(double(x - half) / stride);
      int64_t last = (g.dims[s] - 1 - half - half) / stride;
      return half + std::clamp<int64_t>(k, 0, std::max<int64_t>(0, last)) * stride;
    };
    int64_t plane = planeNear(c[s]);
    const Mask* mask = model_->mask();
    std::array<int64_t, 3> idx{};
    idx[s] = plane;
    for (int64_t yv = half; yv + half < g.dims[v]; yv += shownStride) {
      for (int64_t xh = half; xh + half < g.dims[h]; xh += shownStride) {
        idx[h] = xh;
        idx[v] = yv;
        if (mask && mask->geom.sameGrid(g) && !mask->inside[g.index(idx[0], idx[1], idx[2])]) continue;
        std::array<double, 3> p{};
        p[h] = xh * g.spacing[h];
        p[v] = yv * g.spacing[v];
        p[s] = depth;
        vtkIdType id = points->InsertNextPoint(p.data());
        verts->InsertNextCell(1, &id);
      }
    }
    // The patch around the crosshair, so its size can be judged against the anatomy.
    double r0 = (c[h] - half - 0.5) * g.spacing[h], r1 = (c[h] + half + 0.5) * g.spacing[h];
    double u0 = (c[v] - half - 0.5) * g.spacing[v], u1 = (c[v] + half + 0.5) * g.spacing[v];
    vtkIdType ids[5];
    double corners[4][2] = {{r0, u0}, {r1, u0}, {r1, u1}, {r0, u1}};
    for (int i = 0; i < 4; ++i) {
      std::array<double, 3> p{};
      p[h] = corners[i][0];
      p[v] = corners[i][1];
      p[s] = depth;
      ids[i] = points->InsertNextPoint(p.data());
    }
    ids[4] = ids[0];
    lines->InsertNextCell(5, ids);
  }
  gridData_->SetPoints(points);
  gridData_->SetVerts(verts);
  gridData_->SetLines(lines);
  gridData_->Modified();
  gridActor_->SetVisibility(stride > 0);
}

std::array<int64_t, 3> SliceView::indexAt(const QPointF& p) const {
  auto c = model_->cursor();
  if (!model_->hasVolume()) return c;
  const auto& g = model_->volume()->geom;
  auto w = widgetToWorld(p);
  for (int a : {axes_.hAxis, axes_.vAxis}) c[a] = std::llround(w[a] / g.spacing[a]);
  return c;
}

QPointF SliceView::widgetPosOf(const std::array<int64_t, 3>& index) {
  if (!model_->hasVolume()) return {};
  const auto& g = model_->volume()->geom;
  double w[4] = {index[0] * g.spacing[0], index[1] * g.spacing[1], index[2] * g.spacing[2], 1.0};
  renderer()->SetWorldPoint(w);
  renderer()->WorldToDisplay();
  double* d = renderer()->GetDisplayPoint();
  const qreal dpr = devicePixelRatioF();
  int* size = renderWindow()->GetSize();
  // Display coordinates start at the bottom edge; widget coordinates at the top edge.
  return QPointF(d[0] / dpr, (size[1] - d[1]) / dpr);
}

void SliceView::mousePressEvent(QMouseEvent* e) {
  if (!model_->hasVolume()) return;
  dragStart_ = e->position();
  if (e->button() == Qt::LeftButton && !(e->modifiers() & Qt::ShiftModifier)) {
    drag_ = Drag::Cursor;
    model_->setCursor(indexAt(e->position()));
  } else if (e->button() == Qt::RightButton) {
    drag_ = Drag::Window;
    dragLo_ = model_->windowLo();
    dragHi_ = model_->windowHi();
  } else if (e->button() == Qt::MiddleButton || e->button() == Qt::LeftButton) {
    drag_ = Drag::Pan;
    renderer()->GetActiveCamera()->GetFocalPoint(dragFocal_.data());
    renderer()->GetActiveCamera()->GetPosition(dragPos_.data());
  }
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
  if (!model_->hasVolume()) return;
  switch (drag_) {
    case Drag::None: Q_EMIT hovered(indexAt(e->position())); break;
    case Drag::Cursor:
      model_->setCursor(indexAt(e->position()));
      Q_EMIT hovered(indexAt(e->position()));
      break;
    case Drag::Window: {
      double range = std::max(1e-6, double(model_->stats().max) - model_->stats().min);
      QPointF d = e->position() - dragStart_;
      double width = std::max(range * 1e-4, (dragHi_ - dragLo_) + d.x() * range / std::max(1, this->width()));
      double level = 0.5 * (dragHi_ + dragLo_) - d.y() * range / std::max(1, height());
      model_->setWindow(float(level - width / 2), float(level + width / 2));
      break;
    }
    case Drag::Pan: {
      vtkCamera* cam = renderer()->GetActiveCamera();
      cam->SetFocalPoint(dragFocal_.data());
      cam->SetPosition(dragPos_.data());
      auto a = widgetToWorld(dragStart_);
      auto b = widgetToWorld(e->position());
      double f[3], p[3];
      for (int i = 0; i < 3; ++i) {
        f[i] = dragFocal_[i] - (b[i] - a[i]);
        p[i] = dragPos_[i] - (b[i] - a[i]);
      }
      cam->SetFocalPoint(f);
      cam->SetPosition(p);
      requestRender();
      break;
    }
  }
}

void SliceView::mouseReleaseEvent(QMouseEvent*) { drag_ = Drag::None; }

void SliceView::wheelEvent(QWheelEvent* e) {
  if (!model_->hasVolume()) return;
  int steps = e->angleDelta().y() / 120;
  if (steps == 0) steps = e->angleDelta().y() > 0 ? 1 : (e->angleDelta().y() < 0 ? -1 : 0);
  if (e->modifiers() & Qt::ControlModifier) {
    zoom_ = std::clamp(zoom_ * std::pow(1.2, steps), 0.2, 50.0);
    applyZoom();
  } else {
    model_->moveSlice(axes_.sliceAxis, steps);
  }
  e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
  if (!model_->hasVolume()) return VtkView::keyPressEvent(e);
  switch (e->key()) {
    case Qt::Key_Up:
    case Qt::Key_Right: model_->moveSlice(axes_.sliceAxis, 1); break;
    case Qt::Key_Down:
    case Qt::Key_Left: model_->moveSlice(axes_.sliceAxis, -1); break;
    case Qt::Key_PageUp: model_->moveSlice(axes_.sliceAxis, 10); break;
    case Qt::Key_PageDown: model_->moveSlice(axes_.sliceAxis, -10); break;
    case Qt::Key_Home: model_->moveSlice(axes_.sliceAxis, -(1 << 30)); break;
    case Qt::Key_End: model_->moveSlice(axes_.sliceAxis, 1 << 30); break;
    case Qt::Key_R:
      resetCamera();
      break;
    default: VtkView::keyPressEvent(e); return;
  }
  e->accept();
}

} // namespace jseg::ui
