#include "ui/SliceAnnotations.h"

#include <cmath>

#include <vtkCoordinate.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>

namespace jseg::ui {

namespace {
vtkSmartPointer<vtkTextActor> makeText(vtkRenderer* r, double x, double y, int hJustify, int vJustify, int size) {
  auto a = vtkSmartPointer<vtkTextActor>::New();
  a->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  a->GetPositionCoordinate()->SetValue(x, y);
  vtkTextProperty* p = a->GetTextProperty();
  p->SetFontSize(size);
  p->SetBold(true);
  p->SetColor(0.95, 0.8, 0.3);
  p->SetShadow(true);
  p->SetJustification(hJustify);
  p->SetVerticalJustification(vJustify);
  r->AddActor2D(a);
  return a;
}
} // namespace

SliceAnnotations::SliceAnnotations(vtkRenderer* r) {
  edges_[0] = makeText(r, 0.01, 0.5, VTK_TEXT_LEFT, VTK_TEXT_CENTERED, 15);
  edges_[1] = makeText(r, 0.99, 0.5, VTK_TEXT_RIGHT, VTK_TEXT_CENTERED, 15);
  edges_[2] = makeText(r, 0.5, 0.99, VTK_TEXT_CENTERED, VTK_TEXT_TOP, 15);
  edges_[3] = makeText(r, 0.5, 0.01, VTK_TEXT_CENTERED, VTK_TEXT_BOTTOM, 15);
  window_ = makeText(r, 0.01, 0.01, VTK_TEXT_LEFT, VTK_TEXT_BOTTOM, 12);
  window_->GetTextProperty()->SetBold(false);
  window_->GetTextProperty()->SetColor(0.85, 0.85, 0.85);
}

void SliceAnnotations::setEdges(const QString& left, const QString& right, const QString& top, const QString& bottom) {
  const QString texts[4] = {left, right, top, bottom};
  for (int i = 0; i < 4; ++i) edges_[i]->SetInput(texts[i].toUtf8().constData());
}

void SliceAnnotations::setWindow(double width, double level) {
  window_->SetInput(QString("W %1  L %2").arg(width, 0, 'g', 5).arg(level, 0, 'g', 5).toUtf8().constData());
}

void SliceAnnotations::setVisible(bool on) {
  for (auto& e : edges_) e->SetVisibility(on);
  window_->SetVisibility(on);
}

QString SliceAnnotations::edgeText(int edge) const { return QString::fromUtf8(edges_[edge]->GetInput()); }
QString SliceAnnotations::windowText() const { return QString::fromUtf8(window_->GetInput()); }

QString SliceAnnotations::patientLetter(const std::array<double, 3>& d, int sign) {
  int largest = 0;
  for (int i = 1; i < 3; ++i)
    if (std::abs(d[i]) > std::abs(d[largest])) largest = i;
  const bool positive = d[largest] * sign > 0;
  static const char* letters[3][2] = {{"R", "L"}, {"A", "P"}, {"I", "S"}};
  return letters[largest][positive ? 1 : 0];
}

} // namespace jseg::ui
