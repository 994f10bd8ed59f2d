#pragma once
// 3D view of the three orthogonal planes through the crosshair (grey image with the label overlay),
// in world proportions. Left-drag rotates, wheel zooms, R resets.
#include <QPointF>
#include <memory>

#include <vtkSmartPointer.h>

#include "ui/ViewerModel.h"
#include "ui/VtkView.h"

class vtkImageSlice;
class vtkImageSliceMapper;
class vtkImageStack;

namespace jseg::ui {

class PlanesView : public VtkView {
  Q_OBJECT
public:
  explicit PlanesView(ViewerModel* model, QWidget* parent = nullptr);
  ~PlanesView() override;
  void resetCamera();

protected:
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent*) override { dragging_ = false; }
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;

private:
  void rebuild();
  void sync();
  ViewerModel* model_;
  struct Plane {
    vtkSmartPointer<vtkImageStack> stack;
    vtkSmartPointer<vtkImageSliceMapper> imageMapper, labelMapper;
    vtkSmartPointer<vtkImageSlice> image, labels;
    bool labelsShown = false;
  } planes_[3];
  bool dragging_ = false;
  std::weak_ptr<const Volume> shownVolume_; // the volume the camera was last reset for
                                            // reset for (compared, never used)
  QPointF last_;
};

} // namespace jseg::ui
