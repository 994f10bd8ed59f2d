#pragma once
// The window's centre: the classic four-up layout (axial | coronal over
// sagittal | 3D) in splitters, and any one of the four maximised alone
// (ITK-SNAP's single-view mode). Owns the view widgets; the window only wires
// them.
#include <QSplitter>
#include <array>

#include "ui/ViewerModel.h"

namespace jseg::ui {

class SlicePanel;
class PlanesView;

class ViewLayout : public QSplitter {
  Q_OBJECT
public:
  static constexpr int kAllViews = -1;
  static constexpr int k3dView = 3;

  explicit ViewLayout(ViewerModel* model, QWidget* parent = nullptr);
  SlicePanel* slicePanel(ViewKind k) const { return panels_[int(k)]; }
  PlanesView* planesView() const { return planes_; }
  // The four view boxes (title, view, slider): axial, coronal, sagittal, 3D.
  const std::array<QWidget*, 4>& viewBoxes() const { return boxes_; }
  // Shows only view `index` (0..3) large, or all four with kAllViews; showing
  // the maximised one again restores.
  void maximise(int index);
  int maximised() const { return maximised_; }

Q_SIGNALS:
  void maximisedChanged(int index);

protected:
  bool eventFilter(QObject* watched, QEvent* e) override;

private:
  std::array<SlicePanel*, 3> panels_{};
  std::array<QWidget*, 4> boxes_{};
  QSplitter* top_ = nullptr;
  QSplitter* bottom_ = nullptr;
  PlanesView* planes_ = nullptr;
  int maximised_ = kAllViews;
};

} // namespace jseg::ui
