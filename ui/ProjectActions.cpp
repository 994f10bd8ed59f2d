#include "ui/ProjectActions.h"

#include <QStatusBar>

#include "ui/KPickerPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/SessionController.h"
#include "ui/ViewLayout.h"

namespace jseg::ui {

ProjectActions::ProjectActions(MainWindow* window) : QObject(window), w_(window) {
  SessionController* c = window->controller();
  connect(c, &SessionController::projectSaved, this, [this](bool ok, const QString& path) {
    if (ok) w_->statusBar()->showMessage("Project saved to " + path, 6000);
  });
  connect(c, &SessionController::projectOpened, this, [this](bool ok, const QString&, const nlohmann::json& view) {
    if (ok) restoreView(view);
  });
}

void ProjectActions::save(const QString& path) {
  ViewerModel* m = w_->model();
  if (!m->hasVolume()) return;
  // The labels on screen (painted, or opened from a file), unless they are only a preview of K.
  const std::shared_ptr<const LabelVolume> labels = m->labelsArePreview() ? nullptr : m->labelsPtr();
  w_->controller()->saveProject(path, labels, labels ? m->labelTable() : std::vector<LabelInfo>{}, viewState());
}

void ProjectActions::open(const QString& path) { w_->controller()->openProject(path); }

nlohmann::json ProjectActions::viewState() const {
  const ViewerModel* m = w_->model();
  const auto c = m->cursor();
  return {{"cursor", {c[0], c[1], c[2]}},
          {"window", {m->windowLo(), m->windowHi()}},
          {"label_opacity", m->labelOpacity()},
          {"maximised_view", w_->viewLayout()->maximised()},
          {"k", w_->kPicker()->k()}};
}

void ProjectActions::restoreView(const nlohmann::json& view) {
  // The panel shows the project's parameters (opening a volume had reset the threshold to its range).
  w_->parameterPanel()->setParameters(w_->controller()->parameters());
  ViewerModel* m = w_->model();
  try {
    if (view.contains("cursor")) {
      const auto c = view.at("cursor");
      m->setCursor({c.at(0).get<int64_t>(), c.at(1).get<int64_t>(), c.at(2).get<int64_t>()});
    }
    if (view.contains("window"))
      m->setWindow(view.at("window").at(0).get<float>(), view.at("window").at(1).get<float>());
    if (view.contains("label_opacity")) m->setLabelOpacity(view.at("label_opacity").get<double>());
    if (view.contains("maximised_view")) w_->viewLayout()->maximise(view.at("maximised_view").get<int>());
  } catch (const nlohmann::json::exception&) {
    // A hand-edited view state is not worth an error: the volume, model and labels are open.
  }
}

} // namespace jseg::ui
