#pragma once
// The application window: File menu (open file/folder/demo, recent files, save outputs), three linked
// slice views, and docks for tuning, training, the K picker, labels and jobs. Every long step runs as a
// job; results come back through JobBridge callbacks on the GUI thread.
#include <QMainWindow>
#include <QStringList>
#include <memory>
#include <optional>

#include "core/io/ReadOptions.h"
#include "core/params/ParameterSchema.h"
#include "ui/JobBridge.h"
#include "ui/ViewerModel.h"

class QLabel;
class QMenu;
class QAction;

namespace jseg {
struct JuleModel;
struct FeatureGrid;
struct KSweepResult;
}

namespace jseg::ui {

class SlicePanel;
class SliceView;
class ParameterPanel;
class TrainingPanel;
class KPickerPanel;
class LabelsPanel;
class JobsPanel;
class PlanesView;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Errors go to dialogs unless quiet (tests, --quit-after-load): then only to stderr and loadFailed.
  void setQuietErrors(bool quiet) { quietErrors_ = quiet; }
  void openPath(const QString& path, ReadOptions options = {});
  void openDemo();
  void restoreLayout();

  ViewerModel* model() const { return model_; }
  JobBridge* jobs() const { return jobs_; }
  SliceView* sliceView(ViewKind k) const;
  SlicePanel* slicePanel(ViewKind k) const;
  PlanesView* planesView() const { return planes_; }
  ParameterPanel* parameterPanel() const { return params_; }
  KPickerPanel* kPicker() const { return kpicker_; }
  // The window as on screen, with the VTK views read back from GL and composed in.
  QImage composeScreenshot();

  // Pipeline steps (also used by the command line).
  void startTraining();
  void startFeatures();
  void applyK(int k);
  void loadModelFile(const QString& path);
  // Label volume (NIfTI, or TIFF by extension) plus its label table as PATH.labels.json, as a job.
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
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

private:
  void buildMenus();
  void buildDocks();
  void showError(const QString& title, const QString& message);
  // truth and threshold (demo phantom) are installed before volumeLoaded() is emitted, so whatever reacts to
  // the signal (scripted runs, tests) sees the volume's own threshold and ground truth.
  // The panel's parameters, or an error dialog and nothing when they are invalid.
  std::optional<Parameters> validParameters();
  void finishLoad(std::shared_ptr<Volume> v, VolumeStats stats, const QString& path,
                  std::shared_ptr<LabelVolume> truth = nullptr, const float* threshold = nullptr);
  void addRecent(const QString& path);
  void updateRecentMenu();
  void updateActions();
  void requestMaskPreview();
  void requestKPreview(int k);
  // The centroids the K sweep found for `k`, when features, a sweep and a volume are all there.
  std::optional<std::vector<float>> sweptCentroids(int k) const;
  void onHover(std::array<int64_t, 3> idx);
  void saveLabels();
  void saveOverlayPng(bool allSlices);
  void saveStatistics();
  void saveScreenshot(bool windowOnly);
  void loadTruth();
  void updateNmi();
  void updateStatistics();

  JobBridge* jobs_;
  ViewerModel* model_;
  SlicePanel* panels_[3] = {nullptr, nullptr, nullptr};
  PlanesView* planes_ = nullptr;
  ParameterPanel* params_ = nullptr;
  TrainingPanel* training_ = nullptr;
  KPickerPanel* kpicker_ = nullptr;
  LabelsPanel* labels_ = nullptr;
  JobsPanel* jobsPanel_ = nullptr;
  QLabel* statusPos_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QList<QAction*> needVolume_, needLabels_;
  QAction* saveModelAction_ = nullptr;

  bool quietErrors_ = false;
  uint64_t loadJob_ = 0, trainJob_ = 0, featureJob_ = 0;
  std::shared_ptr<JuleModel> juleModel_;
  std::shared_ptr<FeatureGrid> grid_;
  std::shared_ptr<KSweepResult> sweep_;
  std::shared_ptr<const LabelVolume> truth_;
  std::shared_ptr<const LabelVolume> applied_;  // labels painted on the whole volume
};

} // namespace jseg::ui
