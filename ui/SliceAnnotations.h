#pragma once
// The text a radiologist expects on a slice view (ITK-SNAP, Slicer): the
// patient direction at the middle of each edge (R/L, A/P, S/I) and the window
// width and level in a corner. VTK text actors, so they appear in the view's
// own rendering, screenshots included.
#include <QString>
#include <array>

#include <vtkSmartPointer.h>

class vtkRenderer;
class vtkTextActor;

namespace jseg::ui {

class SliceAnnotations {
public:
  explicit SliceAnnotations(vtkRenderer* renderer);
  // Letters at the left, right, top and bottom edges.
  void setEdges(const QString& left, const QString& right, const QString& top, const QString& bottom);
  void setWindow(double width, double level);
  void setVisible(bool on);
  QString edgeText(int edge) const; // 0 left, 1 right, 2 top, 3 bottom (tests)
  QString windowText() const;

  // The patient direction an index axis points to: `indexDirection` is the
  // axis's direction in LPS; the letter of its largest component, L/P/S for
  // positive, R/A/I for negative.
  static QString patientLetter(const std::array<double, 3>& indexDirection, int sign);

private:
  std::array<vtkSmartPointer<vtkTextActor>, 4> edges_;
  vtkSmartPointer<vtkTextActor> window_;
};

} // namespace jseg::ui
