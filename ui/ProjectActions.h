#pragma once
// File > Save project / Open project and `juleseg PROJECT.juleseg`: the session writes and reads the project
// (inputs, parameters, model, labels with their names and colours); this class adds what only the window knows,
// the view state (crosshair, window/level, label opacity, the maximised view, K), and restores it on reopening.
#include <QObject>
#include <QString>

#include <nlohmann/json.hpp>

namespace jseg::ui {

class MainWindow;

class ProjectActions : public QObject {
  Q_OBJECT
public:
  explicit ProjectActions(MainWindow* window);
  static bool isProjectFile(const QString& path) { return path.endsWith(".juleseg", Qt::CaseInsensitive); }
  // Jobs: the outcome arrives as the controller's projectSaved / projectOpened.
  void save(const QString& path);
  void open(const QString& path);

private:
  nlohmann::json viewState() const;
  void restoreView(const nlohmann::json& view);
  MainWindow* w_;
};

} // namespace jseg::ui
