#pragma once
// The application window: wiring only. Three linked slice views and a 3D view in the centre, docks for tuning,
// training, the K picker, labels and jobs, and the menus. Every stage of the method runs through the
// SessionController (as a job); this class connects its signals to the widgets and the widgets to it.
#include <QMainWindow>
#include <QStringList>
#include <array>

#include "core/io/ReadOptions.h"
#include "core/params/ParameterSchema.h"
#include "ui/JobBridge.h"
#include "ui/ViewerModel.h"

class QLabel;
class QMenu;
class QAction;

namespace jseg::ui {

class SlicePanel;
class SliceView;
class ParameterPanel;
class TrainingPanel;
class KPickerPanel;
class LabelsPanel;
class JobsPanel;
class PlanesView;
class SessionController;
class MainMenus;
class ViewLayout;
class UnsavedWorkGuard;
class ProjectActions;
class LabelSurfaces;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Errors go to dialogs unless quiet (tests, scripted runs): then only to stderr and the status bar, and a
  // running job is cancelled without asking.
  void setQuietErrors(bool quiet) { quietErrors_ = quiet; }
  // A volume, or a saved project (.juleseg).
  void openPath(const QString& path, ReadOptions options = {});
  void openDemo();
  void restoreLayout();

  ViewerModel* model() const { return model_; }
  JobBridge* jobs() const { return jobs_; }
  SessionController* controller() const { return controller_; }
  SliceView* sliceView(ViewKind k) const;
  SlicePanel* slicePanel(ViewKind k) const;
  PlanesView* planesView() const;
  ViewLayout* viewLayout() const { return layout_; }
  ProjectActions* projects() const { return projects_; }
  LabelSurfaces* labelSurfaces() const { return surfaces_; }
  ParameterPanel* parameterPanel() const { return params_; }
  KPickerPanel* kPicker() const { return kpicker_; }
  // One view ("axial", "coronal", "sagittal", "3d") or the whole window
  // ("window", the VTK views read back from GL and composed in), magnified
  // `scale` times (1..4).
  QImage screenshot(const QString& target, int scale = 1);
  void showError(const QString& title, const QString& message);

  // Pipeline steps (also used by the command line and the tests).
  void startTraining();
  void startFeatures();
  void applyK(int k);
  void loadModelFile(const QString& path);
  void saveLabelsTo(const QString& path);

Q_SIGNALS:
  void volumeLoaded();
  void loadFailed(const QString& message);
  void maskUpdated();
  void trainingFinished(bool ok);
  void featuresReady(bool ok);
  void labelsApplied(bool ok);
  void labelsSaved(bool ok);

protected:
  void closeEvent(QCloseEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

private:
  void buildViews();
  void buildDocks();
  void connectController();
  // Asks (unless quiet) whether to cancel a running stage before `what`; false keeps it running.
  bool confirmCancelRunning(const QString& what);
  std::optional<Parameters> validParameters();
  void onVolumeOpened(std::shared_ptr<const Volume> v, const VolumeStats& stats, const QString& name, bool hasTruth);
  void updateActions();
  void requestMaskPreview();
  void onHover(std::array<int64_t, 3> idx);
  void updateNmi();

  JobBridge* jobs_;
  ViewerModel* model_;
  SessionController* controller_;
  ViewLayout* layout_ = nullptr;
  UnsavedWorkGuard* unsaved_ = nullptr;
  ProjectActions* projects_ = nullptr;
  LabelSurfaces* surfaces_ = nullptr;
  bool compactDocks_ = false;
  ParameterPanel* params_ = nullptr;
  TrainingPanel* training_ = nullptr;
  KPickerPanel* kpicker_ = nullptr;
  LabelsPanel* labels_ = nullptr;
  JobsPanel* jobsPanel_ = nullptr;
  QLabel* statusPos_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  MainMenus* menus_ = nullptr;
  bool quietErrors_ = false;
};

} // namespace jseg::ui
