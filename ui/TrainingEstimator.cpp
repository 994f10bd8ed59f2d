#include "ui/TrainingEstimator.h"

#include <QTimer>
#include <algorithm>

#include "ui/JobsPanel.h"
#include "ui/ParameterPanel.h"
#include "ui/SessionController.h"
#include "ui/TrainingPanel.h"

namespace jseg::ui {

TrainingEstimator::TrainingEstimator(SessionController* controller, ParameterPanel* params, TrainingPanel* panel,
                                     QObject* parent)
    : QObject(parent), controller_(controller), params_(params), panel_(panel), debounce_(new QTimer(this)) {
  debounce_->setSingleShot(true);
  debounce_->setInterval(600);
  connect(debounce_, &QTimer::timeout, this, &TrainingEstimator::request);
  connect(params, &ParameterPanel::parametersChanged, debounce_, qOverload<>(&QTimer::start));
  connect(controller, &SessionController::volumeOpened, debounce_, qOverload<>(&QTimer::start));
  connect(
      controller, &SessionController::trainingEstimated, this,
      [this](double seconds, int epochs, double patchesPerSecond, const QString& device) {
        if (seconds < 0) return panel_->setEstimate({});
        panel_->setEstimate(QString("Expected training time with %1 here: about %2 (%3 epochs at %4 patches/s on %5)")
                                .arg(params_->presetName(), formatSeconds(seconds))
                                .arg(epochs)
                                .arg(patchesPerSecond, 0, 'f', 0)
                                .arg(device));
      });
}

void TrainingEstimator::request() {
  if (!controller_->hasVolume()) return;
  try {
    controller_->estimateTraining(params_->parameters());
  } catch (const std::exception&) {
    panel_->setEstimate({}); // parameters being edited into an invalid state: no estimate
  }
}

} // namespace jseg::ui
