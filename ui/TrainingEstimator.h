#pragma once
// Shows, before training starts, how long it should take with the parameters in the Tuning panel on this
// machine ("about 3 min on cpu"): asked again (after a pause) whenever the parameters change or a volume opens,
// so choosing `paper` on a laptop says "about 2 h" before the click, not after.
#include <QObject>

class QTimer;

namespace jseg::ui {

class ParameterPanel;
class SessionController;
class TrainingPanel;

class TrainingEstimator : public QObject {
  Q_OBJECT
public:
  TrainingEstimator(SessionController* controller, ParameterPanel* params, TrainingPanel* panel, QObject* parent);

private:
  void request();
  SessionController* controller_;
  ParameterPanel* params_;
  TrainingPanel* panel_;
  QTimer* debounce_;
};

} // namespace jseg::ui
