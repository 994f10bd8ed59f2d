#pragma once
// What the viewer shows, shared by the three slice views, the 3D view and the panels: the volume (and
// its VTK image), the crosshair position, the grey window, the threshold mask preview, the label map
// with its colour table, and the sampling grid preview. Lives on the GUI thread.
#include <QObject>
#include <array>
#include <memory>
#include <vector>

#include <vtkImageData.h>
#include <vtkLookupTable.h>
#include <vtkSmartPointer.h>

#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"
#include "ui/VolumeStats.h"

namespace jseg::ui {

enum class ViewKind { Axial = 0, Coronal = 1, Sagittal = 2 };
const char* viewKindName(ViewKind k);

// How one view maps index axes to the screen: `sliceAxis` is scrolled through, `hAxis` runs to the
// right when hSign > 0 (left when < 0), `vAxis` runs up when vSign > 0.
struct ViewAxes {
  int sliceAxis = 2, hAxis = 0, vAxis = 1;
  int hSign = 1, vSign = 1;
};

class ViewerModel : public QObject {
  Q_OBJECT
public:
  explicit ViewerModel(QObject* parent = nullptr);
  ~ViewerModel() override;

  void setVolume(std::shared_ptr<const Volume> v, VolumeStats stats);
  // Another channel of the same volume (same grid) on display: the cursor, mask and labels stay.
  void showChannel(std::shared_ptr<const Volume> channel, VolumeStats stats);
  bool hasVolume() const { return volume_ != nullptr; }
  const Volume* volume() const { return volume_.get(); }
  std::shared_ptr<const Volume> volumePtr() const { return volume_; }
  const VolumeStats& stats() const { return stats_; }
  vtkImageData* image() const { return image_; }
  // Radiological display: axial with the patient's left on the right and anterior up, coronal with
  // superior up, sagittal with anterior on the left — derived from the volume's direction matrix.
  ViewAxes axes(ViewKind k) const;

  std::array<int64_t, 3> cursor() const { return cursor_; }
  void setCursor(std::array<int64_t, 3> c);
  void moveSlice(int axis, int64_t delta);

  float windowLo() const { return windowLo_; }
  float windowHi() const { return windowHi_; }
  void setWindow(float lo, float hi);
  // Window from the 0.5 and 99.5 percentiles of the histogram.
  void autoWindow();

  void setMask(std::shared_ptr<const Mask> m);
  const Mask* mask() const { return mask_.get(); }
  vtkImageData* maskImage() const { return maskImage_; }
  bool maskVisible() const { return maskVisible_; }
  void setMaskVisible(bool on);
  double maskOpacity() const { return 0.35; }

  // A label map and its table; `preview` marks labels that only cover the visible slices.
  void setLabels(std::shared_ptr<const LabelVolume> l, std::vector<LabelInfo> table, bool preview = false);
  void clearLabels();
  const LabelVolume* labels() const { return labels_.get(); }
  std::shared_ptr<const LabelVolume> labelsPtr() const { return labels_; }
  bool labelsArePreview() const { return labelsPreview_; }
  vtkImageData* labelImage() const { return labelImage_; }
  vtkLookupTable* labelLut() const { return labelLut_; }
  const std::vector<LabelInfo>& labelTable() const { return table_; }
  void setLabelInfo(int index, const LabelInfo& info);
  double labelOpacity() const { return labelOpacity_; }
  void setLabelOpacity(double o);

  // Grid of patch centres at `stride` (0 hides it), drawn on the slices as a sampling preview.
  int gridStride() const { return gridStride_; }
  int gridPatch() const { return gridPatch_; }
  void setGrid(int stride, int patch);

  // Value at an index (NaN outside) and the label there (-1 when none).
  float valueAt(const std::array<int64_t, 3>& i) const;
  int labelAt(const std::array<int64_t, 3>& i) const;

Q_SIGNALS:
  void volumeChanged();
  void cursorChanged();
  void windowChanged();
  void maskChanged();
  void labelsChanged();
  void labelStyleChanged();
  void gridChanged();

private:
  void rebuildLut();

  std::shared_ptr<const Volume> volume_;
  VolumeStats stats_;
  vtkSmartPointer<vtkImageData> image_, maskImage_, labelImage_;
  vtkSmartPointer<vtkLookupTable> labelLut_;
  std::shared_ptr<const Mask> mask_;
  std::shared_ptr<const LabelVolume> labels_;
  std::vector<LabelInfo> table_;
  bool labelsPreview_ = false;
  std::array<int64_t, 3> cursor_{0, 0, 0};
  float windowLo_ = 0, windowHi_ = 1;
  bool maskVisible_ = false; // the Tuning panel's "Show mask overlay", off at load
  double labelOpacity_ = 0.5;
  int gridStride_ = 0, gridPatch_ = 0;
};

} // namespace jseg::ui
