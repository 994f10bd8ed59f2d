#pragma once
// One orthogonal slice of the volume (axial, coronal or sagittal) drawn by VTK: grey image with the
// window/level, the threshold mask and the label map blended on top, the linked crosshair and the
// sampling grid preview. Mouse: left = move crosshair, right-drag = window/level, middle or
// shift+left drag = pan, wheel = slice, ctrl+wheel = zoom. Keys: arrows / Page Up/Down = slice,
// R = reset zoom.
#include <QPoint>
#include <array>
#include <memory>

#include <vtkSmartPointer.h>

#include "ui/ViewerModel.h"
#include "ui/VtkView.h"

class vtkActor;
class vtkImageSlice;
class vtkImageSliceMapper;
class vtkImageStack;
class vtkLookupTable;
class vtkPolyData;

namespace jseg::ui {

class SliceAnnotations;

class SliceView : public VtkView {
  Q_OBJECT
public:
  SliceView(ViewerModel* model, ViewKind kind, QWidget* parent = nullptr);
  ~SliceView() override;

  ViewKind kind() const { return kind_; }
  // Index of the voxel under a widget position (may lie outside the volume).
  std::array<int64_t, 3> indexAt(const QPointF& p) const;
  // Widget position of the centre of a voxel of the current slice.
  QPointF widgetPosOf(const std::array<int64_t, 3>& index);
  void resetCamera();
  double zoom() const { return zoom_; }
  // Orientation letters and window/level drawn in the view.
  const SliceAnnotations& annotations() const { return *annotations_; }

Q_SIGNALS:
  void hovered(std::array<int64_t, 3> index);

protected:
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

private:
  void onVolumeChanged();
  void onCursorChanged();
  void onWindowChanged();
  void onMaskChanged();
  void onLabelsChanged();
  void updateCrosshair();
  void updateGrid();
  void applyZoom();
  double sliceCoordinateTowardCamera(double offsetVoxels) const;

  ViewerModel* model_;
  ViewKind kind_;
  ViewAxes axes_;
  vtkSmartPointer<vtkImageStack> stack_;
  vtkSmartPointer<vtkImageSliceMapper> imageMapper_, maskMapper_, labelMapper_;
  vtkSmartPointer<vtkImageSlice> imageSlice_, maskSlice_, labelSlice_;
  vtkSmartPointer<vtkLookupTable> maskLut_;
  vtkSmartPointer<vtkPolyData> crossData_, gridData_;
  vtkSmartPointer<vtkActor> crossActor_, gridActor_;
  bool maskInStack_ = false, labelsInStack_ = false;
  enum class Drag { None, Cursor, Window, Pan } drag_ = Drag::None;
  QPointF dragStart_;
  float dragLo_ = 0, dragHi_ = 1;
  std::array<double, 3> dragFocal_{}, dragPos_{};
  double zoom_ = 1.0;
  std::unique_ptr<SliceAnnotations> annotations_;
};

} // namespace jseg::ui
