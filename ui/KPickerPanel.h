#pragma once
// K picker: after the features are extracted, k-means runs for K = 2..10; this panel charts inertia
// and silhouette per K. Changing K previews the labels on the visible slices at once; Apply paints
// the whole volume.
#include <QWidget>
#include <vector>

class QLabel;
class QPushButton;
class QSpinBox;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace jseg::ui {

struct KCurvePoint {
  int k = 0;
  double inertia = 0, silhouette = 0;
};

class KPickerPanel : public QWidget {
  Q_OBJECT
public:
  explicit KPickerPanel(QWidget* parent = nullptr);
  void setCurve(const std::vector<KCurvePoint>& points, int suggestedK);
  void clear();
  int k() const;
  void setK(int k);
  QPushButton* featuresButton() const { return features_; }
  QPushButton* applyButton() const { return apply_; }
  void setStatus(const QString& s);
  // The networks' agreement (a criterion without truth, NetworkAgreement.h) under the chart; empty hides it.
  void setAgreement(const QString& text);
  QString agreement() const;

Q_SIGNALS:
  void kChanged(int k);

private:
  QPushButton* features_;
  QPushButton* apply_;
  QSpinBox* k_;
  QLabel* status_;
  QLabel* agreement_;
  QLineSeries* inertia_;
  QLineSeries* silhouette_;
  QScatterSeries* marker_;
  QValueAxis* inertiaAxis_;
  QValueAxis* silAxis_;
  std::vector<KCurvePoint> points_;
  double inertiaScale_ = 1; // the largest inertia of the sweep (K min's): the
                            // chart shows fractions of it
};

} // namespace jseg::ui
