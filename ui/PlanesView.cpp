#include "ui/PlanesView.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <cmath>

#include <vtkCamera.h>
#include <vtkImageProperty.h>
#include <vtkImageSlice.h>
#include <vtkImageSliceCollection.h>
#include <vtkImageSliceMapper.h>
#include <vtkImageStack.h>

namespace jseg::ui {

PlanesView::PlanesView(ViewerModel* model, QWidget* parent) : VtkView(parent), model_(model) {
  setToolTip("3D view of the three planes: left-drag rotates, wheel zooms, R resets");
  renderer()->SetBackground(0.08, 0.09, 0.11);
  for (int a = 0; a < 3; ++a) {
    Plane& p = planes_[a];
    p.stack = vtkSmartPointer<vtkImageStack>::New();
    p.imageMapper = vtkSmartPointer<vtkImageSliceMapper>::New();
    p.labelMapper = vtkSmartPointer<vtkImageSliceMapper>::New();
    for (auto* m : {p.imageMapper.Get(), p.labelMapper.Get()}) {
      m->SliceAtFocalPointOff();
      m->SliceFacesCameraOff();
      m->SetOrientation(a);
    }
    p.image = vtkSmartPointer<vtkImageSlice>::New();
    p.image->SetMapper(p.imageMapper);
    p.image->GetProperty()->SetInterpolationTypeToLinear();
    p.image->GetProperty()->SetLayerNumber(0);
    p.labels = vtkSmartPointer<vtkImageSlice>::New();
    p.labels->SetMapper(p.labelMapper);
    p.labels->GetProperty()->SetInterpolationTypeToNearest();
    p.labels->GetProperty()->SetLayerNumber(1);
    p.labels->GetProperty()->SetLookupTable(model_->labelLut());
    p.labels->GetProperty()->UseLookupTableScalarRangeOn();
    renderer()->AddViewProp(p.stack);
  }
  connect(model_, &ViewerModel::volumeChanged, this, &PlanesView::rebuild);
  connect(model_, &ViewerModel::labelsChanged, this, &PlanesView::rebuild);
  connect(model_, &ViewerModel::cursorChanged, this, &PlanesView::sync);
  connect(model_, &ViewerModel::windowChanged, this, &PlanesView::sync);
  connect(model_, &ViewerModel::labelStyleChanged, this, &PlanesView::sync);
  rebuild();
}

PlanesView::~PlanesView() = default;

void PlanesView::rebuild() {
  // A different volume (not just new labels on the same one) gets a fresh
  // camera: the old one looked at the previous volume's extent and could leave
  // the new one off screen.
  // (A weak pointer: an address compared after the old volume was freed could be reused by the new one.)
  const auto volume = model_->volumePtr();
  const bool fresh = volume && shownVolume_.lock() != volume;
  shownVolume_ = volume;
  for (auto& p : planes_) {
    p.stack->GetImages()->RemoveAllItems();
    p.labelsShown = false;
    if (!model_->hasVolume()) continue;
    p.imageMapper->SetInputData(model_->image());
    p.stack->AddImage(p.image);
    if (model_->labelImage()) {
      p.labelMapper->SetInputData(model_->labelImage());
      p.stack->AddImage(p.labels);
      p.labelsShown = true;
    }
  }
  sync();
  if (fresh) resetCamera();
}

void PlanesView::sync() {
  if (!model_->hasVolume()) {
    requestRender();
    return;
  }
  const auto c = model_->cursor();
  for (int a = 0; a < 3; ++a) {
    Plane& p = planes_[a];
    p.imageMapper->SetSliceNumber(int(c[a]));
    p.labelMapper->SetSliceNumber(int(c[a]));
    p.image->GetProperty()->SetColorWindow(double(model_->windowHi()) - model_->windowLo());
    p.image->GetProperty()->SetColorLevel(0.5 * (double(model_->windowHi()) + model_->windowLo()));
    p.labels->GetProperty()->SetOpacity(model_->labelOpacity());
  }
  requestRender();
}

void PlanesView::resetCamera() {
  if (!model_->hasVolume()) return;
  // Looking at the patient from the front-left-above, superior up (LPS: up = +S).
  const auto& dir = model_->volume()->geom.direction;
  vtkCamera* cam = renderer()->GetActiveCamera();
  // Directions are in index-scaled space; map world axes back through the direction matrix (orthonormal).
  auto toIndexSpace = [&](double wx, double wy, double wz) {
    return std::array<double, 3>{dir[0] * wx + dir[3] * wy + dir[6] * wz, dir[1] * wx + dir[4] * wy + dir[7] * wz,
                                 dir[2] * wx + dir[5] * wy + dir[8] * wz};
  };
  auto view = toIndexSpace(0.6, -1.0, 0.5);  // from the anterior-left, above
  auto up = toIndexSpace(0, 0, 1);
  renderer()->ResetCamera();
  double fp[3];
  cam->GetFocalPoint(fp);
  double dist = cam->GetDistance();
  cam->SetPosition(fp[0] + view[0] * dist, fp[1] + view[1] * dist, fp[2] + view[2] * dist);
  cam->SetViewUp(up.data());
  renderer()->ResetCamera();
  cam->Zoom(1.2);
  requestRender();
}

void PlanesView::mousePressEvent(QMouseEvent* e) {
  dragging_ = e->button() == Qt::LeftButton;
  last_ = e->position();
}

void PlanesView::mouseMoveEvent(QMouseEvent* e) {
  if (!dragging_) return;
  QPointF d = e->position() - last_;
  last_ = e->position();
  vtkCamera* cam = renderer()->GetActiveCamera();
  cam->Azimuth(-d.x() * 0.5);
  cam->Elevation(d.y() * 0.5);
  cam->OrthogonalizeViewUp();
  requestRender();
}

void PlanesView::wheelEvent(QWheelEvent* e) {
  renderer()->GetActiveCamera()->Dolly(std::pow(1.1, e->angleDelta().y() / 120.0));
  requestRender();
  e->accept();
}

void PlanesView::keyPressEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_R) resetCamera();
  else VtkView::keyPressEvent(e);
}

} // namespace jseg::ui
