#include "ui/MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>
#include <iostream>

#include "core/io/LabelOutputs.h"
#include "ui/DockLayout.h"
#include "ui/JobsPanel.h"
#include "ui/KPickerPanel.h"
#include "ui/LabelsPanel.h"
#include "ui/MainMenus.h"
#include "ui/ParameterPanel.h"
#include "ui/PlanesView.h"
#include "ui/ScreenshotService.h"
#include "ui/SeriesPickerDialog.h"
#include "ui/SessionController.h"
#include "ui/SlicePanel.h"
#include "ui/SpacingDialog.h"
#include "ui/TrainingPanel.h"
#include "ui/ProjectActions.h"
#include "ui/LabelSurfaces.h"
#include "ui/TrainingEstimator.h"
#include "ui/UnsavedWorkGuard.h"
#include "ui/ViewLayout.h"

// The icons live in a static library, whose resource initialiser the linker drops unless referenced.
static void initJulesegResources() { Q_INIT_RESOURCE(juleseg); }

namespace jseg::ui {

namespace {
QString fileNameOf(const QString& path) { return QFileInfo(path).fileName(); }
} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  initJulesegResources();
  setObjectName("MainWindow");
  setWindowTitle("juleseg");
  setWindowIcon(QIcon(":/icons/juleseg.svg"));
  setAcceptDrops(true);
  jobs_ = new JobBridge(2, this);
  model_ = new ViewerModel(this);
  controller_ = new SessionController(jobs_, this);
  unsaved_ = new UnsavedWorkGuard(controller_, this);
  projects_ = new ProjectActions(this);
  buildViews();
  buildDocks();
  menus_ = new MainMenus(this, viewMenu_);
  connectController();
  new TrainingEstimator(controller_, params_, training_, this);
  surfaces_ = new LabelSurfaces(model_, planesView(), jobs_, this);
  updateActions();
  resize(DockLayout::initialWindowSize(screen()));
  DockLayout::arrange(this, size());
  compactDocks_ = width() < DockLayout::kCompactWidth;
}

MainWindow::~MainWindow() {
  // Jobs reference the viewer's data and this window's members; stop them first.
  jobs_->cancelAll();
  jobs_->queue().waitIdle(5);
}

SliceView* MainWindow::sliceView(ViewKind k) const { return layout_->slicePanel(k)->view(); }
SlicePanel* MainWindow::slicePanel(ViewKind k) const { return layout_->slicePanel(k); }
PlanesView* MainWindow::planesView() const { return layout_->planesView(); }

void MainWindow::buildViews() {
  layout_ = new ViewLayout(model_);
  for (auto k : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal})
    connect(sliceView(k), &SliceView::hovered, this, &MainWindow::onHover);
  setCentralWidget(layout_);
  statusPos_ = new QLabel;
  statusPos_->setMinimumWidth(420);
  statusBar()->addPermanentWidget(statusPos_);
  statusBar()->showMessage("Open a volume (File menu, or drop a file here), or try the demo volume.");
  connect(model_, &ViewerModel::cursorChanged, this, [this] { onHover(model_->cursor()); });
}

void MainWindow::buildDocks() {
  params_ = new ParameterPanel;
  training_ = new TrainingPanel;
  kpicker_ = new KPickerPanel;
  labels_ = new LabelsPanel(model_);
  jobsPanel_ = new JobsPanel(jobs_);
  auto* tuneDock = DockLayout::addDock(this, "Tuning", "TuningDock", params_, Qt::LeftDockWidgetArea);
  auto* trainDock = DockLayout::addDock(this, "Training", "TrainingDock", training_, Qt::RightDockWidgetArea);
  auto* kDock = DockLayout::addDock(this, "K picker", "KPickerDock", kpicker_, Qt::RightDockWidgetArea);
  auto* labelDock = DockLayout::addDock(this, "Labels", "LabelsDock", labels_, Qt::RightDockWidgetArea);
  auto* jobsDock = DockLayout::addDock(this, "Jobs", "JobsDock", jobsPanel_, Qt::BottomDockWidgetArea);
  viewMenu_ = new QMenu("&View", this);
  for (auto* d : {tuneDock, trainDock, kDock, labelDock, jobsDock}) viewMenu_->addAction(d->toggleViewAction());

  connect(params_, &ParameterPanel::thresholdChanged, this, [this] { requestMaskPreview(); });
  connect(params_, &ParameterPanel::maskVisibilityChanged, model_, &ViewerModel::setMaskVisible);
  connect(params_, &ParameterPanel::channelChosen, controller_, &SessionController::showChannel);
  connect(controller_, &SessionController::channelShown, this,
          [this](int i, std::shared_ptr<const Volume> v, const VolumeStats& stats) {
            model_->showChannel(v, stats);
            params_->showChannelHistogram(i, stats);
          });
  connect(params_, &ParameterPanel::gridChanged, this,
          [this](bool show, int stride, int patch) { model_->setGrid(show ? stride : 0, patch); });
  connect(training_->trainButton(), &QPushButton::clicked, this, &MainWindow::startTraining);
  connect(training_->loadModelButton(), &QPushButton::clicked, this, [this] {
    QString f = QFileDialog::getOpenFileName(this, "Load model", QSettings().value("lastDir").toString(),
                                             "juleseg model (*.pt)");
    if (!f.isEmpty()) loadModelFile(f);
  });
  connect(kpicker_->featuresButton(), &QPushButton::clicked, this, &MainWindow::startFeatures);
  // One K: the picker's spinner, mirrored into the (hidden) parameter so presets, the command line and project
  // files that set k move the picker too.
  connect(kpicker_, &KPickerPanel::kChanged, this, [this](int k) {
    params_->setValue("k", k);
    if (controller_->labels()) return;  // labels applied: a new K waits for Apply
    controller_->previewK(k, model_->cursor());
  });
  connect(params_, &ParameterPanel::parametersChanged, this, [this] {
    const int k = params_->value("k").get<int>();
    if (k != kpicker_->k()) kpicker_->setK(k);
  });
  connect(kpicker_->applyButton(), &QPushButton::clicked, this, [this] { applyK(kpicker_->k()); });
  connect(labels_->truthButton(), &QPushButton::clicked, this, [this] {
    QString f = QFileDialog::getOpenFileName(this, "Load ground-truth labels", QSettings().value("lastDir").toString(),
                                             "Label volumes (*.nii *.nii.gz *.tif *.tiff)");
    if (!f.isEmpty()) controller_->loadTruth(f);
  });
  // The K preview follows the visible slices.
  connect(model_, &ViewerModel::cursorChanged, this, [this] {
    if (controller_->hasFeatures() && !controller_->labels()) controller_->previewK(kpicker_->k(), model_->cursor());
  });
}

void MainWindow::connectController() {
  auto* c = controller_;
  c->setSpacingResolver([this](const QString& path) -> std::optional<std::array<double, 3>> {
    if (quietErrors_) return std::nullopt;
    SpacingDialog dlg(path, {1, 1, 1}, this);
    if (dlg.exec() != QDialog::Accepted) return std::nullopt;
    return dlg.spacing();
  });
  connect(c, &SessionController::busyChanged, this, [this] { updateActions(); });
  connect(c, &SessionController::status, this, [this](const QString& s) { statusBar()->showMessage(s, 6000); });
  connect(c, &SessionController::failed, this, &MainWindow::showError);
  connect(c, &SessionController::volumeOpened, this, &MainWindow::onVolumeOpened);
  connect(c, &SessionController::loadFailed, this, [this](const QString& msg) {
    if (msg == "cancelled") statusBar()->showMessage("Loading cancelled", 4000);
    Q_EMIT loadFailed(msg);
  });
  connect(c, &SessionController::seriesChoiceNeeded, this,
          [this](const QString& path, const std::vector<DicomSeriesInfo>& series, const ReadOptions& options) {
            SeriesPickerDialog dlg(series, this);
            if (dlg.exec() != QDialog::Accepted || dlg.selectedUid().empty()) {
              statusBar()->showMessage("Loading cancelled", 4000);
              Q_EMIT loadFailed("cancelled");
              return;
            }
            ReadOptions o = options;
            o.series = dlg.selectedUid();
            openPath(path, o);
          });
  connect(c, &SessionController::maskReady, this, [this](std::shared_ptr<const Mask> mask) {
    const auto vol = model_->volumePtr();
    if (!vol || !mask->geom.sameGrid(vol->geom)) return;
    model_->setMask(mask);
    statusBar()->showMessage(QString("Mask: %1 voxels (%2 %)")
                                 .arg(qulonglong(mask->count()))
                                 .arg(100.0 * mask->count() / std::max<size_t>(1, vol->voxels.size()), 0, 'f', 1),
                             4000);
    Q_EMIT maskUpdated();
  });
  connect(c, &SessionController::roiLoaded, this, [this](bool ok, const QString& path) {
    if (!ok) return;
    // The region changes what every later stage sees: the features and labels of before are gone.
    kpicker_->clear();
    model_->clearLabels();
    params_->setShowMask(true);
    requestMaskPreview();
    statusBar()->showMessage("Region of interest: " + path + " (the mask tint shows window ∩ region)", 8000);
    updateActions();
  });
  connect(c, &SessionController::channelAdded, this, [this](bool ok, const QString& path) {
    if (!ok) return;
    kpicker_->clear();
    model_->clearLabels();
    statusBar()->showMessage("Channel added: " + path + "; train a model on every channel", 8000);
    params_->setChannels(controller_->channelNames());
    updateActions();
  });
  connect(c, &SessionController::truthLoaded, this, [this](bool ok) {
    if (ok) updateNmi();
  });
  connect(jobs_, &JobBridge::jobEvent, this, [this](const JobEvent& e) {
    if (e.kind == JobEvent::Kind::Data) training_->onTrainerEvent(e.data);
    if (e.kind == JobEvent::Kind::Progress && e.jobName.rfind("Features", 0) == 0 && !e.message.empty())
      kpicker_->setStatus(QString::fromStdString(e.message));
  });
  connect(c, &SessionController::trainingFinished, this, [this](bool ok) {
    training_->setRunning(false);
    updateActions();
    if (ok) {
      statusBar()->showMessage("Training finished; extract features next (Segment menu or K picker)", 8000);
      training_->setStatus("Trained: " + controller_->modelDescription());
      kpicker_->setStatus("Model trained: extract features (button above).");
    } else
      training_->setStatus(controller_->hasModel()
                               ? "Training stopped; the previous model stays: " + controller_->modelDescription()
                               : "Training stopped. Not trained yet.");
    Q_EMIT trainingFinished(ok);
  });
  connect(c, &SessionController::modelChanged, this, [this] {
    // A model sets what it was trained with (network, patch size, preset...): the panel shows it.
    const Parameters p = controller_->parameters();
    for (const auto& spec : parameterSchema()) params_->setValue(spec.name, p.get(spec.name));
    training_->setStatus("Model: " + controller_->modelDescription());
    kpicker_->clear();
    kpicker_->setStatus("Extract features with this model (button above).");
    model_->clearLabels();
    updateActions();
  });
  connect(c, &SessionController::featuresReady, this,
          [this](bool ok, const std::vector<KCurvePoint>& curve, int best) {
            updateActions();
            if (!ok) {
              kpicker_->setStatus("No features: extraction failed or was cancelled.");
              Q_EMIT featuresReady(false);
              return;
            }
            kpicker_->setCurve(curve, best);
            kpicker_->setAgreement(controller_->agreementDescription());
            if (auto* d = findChild<QDockWidget*>("KPickerDock")) d->raise();
            controller_->previewK(kpicker_->k(), model_->cursor());
            Q_EMIT featuresReady(true);
          });
  connect(c, &SessionController::previewReady, this, [this](std::shared_ptr<const LabelVolume> l, int k) {
    model_->setLabels(l, defaultLabelTable(k), true);
    kpicker_->setStatus(QString("Preview of K = %1 on the visible slices. Apply paints the volume.").arg(k));
  });
  connect(c, &SessionController::labelsPainted, this,
          [this](bool ok, int k, const std::vector<LabelStatistics>& stats) {
            updateActions();
            if (ok) {
              model_->setLabels(controller_->labels(), defaultLabelTable(k), false);
              labels_->setStatistics(stats);
              updateNmi();
              if (auto* d = findChild<QDockWidget*>("LabelsDock")) d->raise();
              params_->setShowMask(false);  // the mask tint would mix with the label colours
              statusBar()->showMessage(QString("Labels painted: K = %1 regions; save them from the File menu").arg(k),
                                       8000);
              const QString edges = controller_->unlabelledEdges(); // thin stacks: why edge slices stay empty
              kpicker_->setStatus(QString("K = %1 applied to the whole volume.").arg(k) +
                                  (edges.isEmpty() ? "" : " " + edges));
            }
            Q_EMIT labelsApplied(ok);
          });
  connect(c, &SessionController::labelsSaved, this, [this](bool ok, const QString& f) {
    if (ok) statusBar()->showMessage("Labels saved to " + f, 6000);
    Q_EMIT labelsSaved(ok);
  });
  connect(c, &SessionController::modelSaved, this, [this](bool ok, const QString& f) {
    if (ok) statusBar()->showMessage("Model saved to " + f, 6000);
  });
}

void MainWindow::updateActions() {
  const bool hasVol = model_->hasVolume(), busy = controller_->busy();
  menus_->updateActions(hasVol, controller_->labels() != nullptr, controller_->hasModel());
  training_->trainButton()->setEnabled(hasVol && !busy);
  training_->loadModelButton()->setEnabled(!busy);
  kpicker_->featuresButton()->setEnabled(hasVol && controller_->hasModel() && !busy);
  kpicker_->featuresButton()->setToolTip(controller_->hasModel()
                                             ? "Run the trained network densely over the volume at the chosen "
                                               "stride, then k-means for K = 2..10"
                                             : "Train or load a model first");
}

void MainWindow::showError(const QString& title, const QString& message) {
  std::cerr << "juleseg: " << title.toStdString() << ": " << message.toStdString() << "\n";
  statusBar()->showMessage(title + ": " + message, 10000);
  if (!quietErrors_) QMessageBox::critical(this, title, message);
}

bool MainWindow::confirmCancelRunning(const QString& what) {
  if (!controller_->busy()) return true;
  if (!quietErrors_) {
    const auto answer = QMessageBox::question(
        this, "A job is running", QString("“%1” is still running. Cancel it before %2?").arg(controller_->busyWith(), what),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) return false;
  }
  controller_->cancelStage();
  return true;
}

// ---------------------------------------------------------------- loading

void MainWindow::openPath(const QString& path, ReadOptions options) {
  if (!confirmCancelRunning("opening " + fileNameOf(path))) return;
  QSettings().setValue("lastDir", QFileInfo(path).absolutePath());
  statusBar()->showMessage("Loading " + path + " …");
  if (ProjectActions::isProjectFile(path))
    projects_->open(path);
  else
    controller_->openPath(path, options);
  menus_->addRecent(path);
}

void MainWindow::openDemo() {
  if (!confirmCancelRunning("opening the demo volume")) return;
  controller_->openDemo();
}

void MainWindow::onVolumeOpened(std::shared_ptr<const Volume> v, const VolumeStats& stats, const QString& name,
                                bool hasTruth) {
  // Nothing derived from the previous volume survives: labels, features, charts, texts.
  kpicker_->clear();
  kpicker_->setStatus(controller_->hasModel() ? "Extract features for this volume with the model in use."
                                              : "Train or load a model, then extract features.");
  training_->reset();
  training_->setStatus(controller_->hasModel() ? "Model: " + controller_->modelDescription() : "Not trained yet.");
  labels_->setStatistics({});
  params_->setShowMask(false); // the tint hides the new image until the user
                               // looks at the threshold
  labels_->setNmi(hasTruth ? "Ground truth: the phantom's tissues" : QString());
  model_->clearLabels();
  model_->setVolume(v, stats);
  params_->setStats(stats);
  params_->setChannels(controller_->channelNames());
  if (hasTruth) {
    const Parameters p = controller_->parameters();  // the phantom's own window
    params_->setThreshold(p.getDouble("threshold_lo"), p.getDouble("threshold_hi"));
  } else {
    params_->setThreshold(stats.min, stats.max);  // no background assumed: the whole volume is the specimen
  }
  setWindowTitle(QString("%1 — juleseg").arg(name));
  statusBar()->showMessage(describeVolume(name, *v, stats));
  if (!v->warnings.empty()) {
    QString w;
    for (const auto& s : v->warnings) w += QString::fromStdString(s) + "\n";
    if (quietErrors_) std::cerr << "juleseg: warnings: " << w.toStdString();
    else QMessageBox::warning(this, "Loaded with warnings", w);
  }
  updateActions();
  Q_EMIT volumeLoaded();
}

// ---------------------------------------------------------------- stages

std::optional<Parameters> MainWindow::validParameters() {
  try {
    return params_->parameters();
  } catch (const std::exception& ex) {
    showError("Parameters", ex.what());
    return std::nullopt;
  }
}

void MainWindow::startTraining() {
  if (!model_->hasVolume() || controller_->busy()) return;
  auto p = validParameters();
  if (!p) return;
  training_->reset();
  training_->setStatus("Starting…");
  training_->setRunning(true);
  controller_->train(*p);
}

void MainWindow::startFeatures() {
  auto p = validParameters();
  if (!p) return;
  kpicker_->clear();
  kpicker_->setStatus("Extracting features…");
  model_->clearLabels();
  controller_->extractFeatures(*p);
}

void MainWindow::applyK(int k) {
  auto p = validParameters();
  if (p) controller_->applyK(k, *p);
}

void MainWindow::loadModelFile(const QString& path) {
  if (auto p = validParameters()) controller_->loadModel(path, *p);
}

void MainWindow::saveLabelsTo(const QString& path) { controller_->saveLabels(path, model_->labelTable()); }

void MainWindow::updateNmi() {
  const auto truth = controller_->truth();
  const auto nmi = controller_->labelsNmi();
  if (!nmi) {
    labels_->setNmi(truth ? "Ground truth loaded; apply a K to compare." : QString());
    return;
  }
  labels_->setNmi(QString("NMI vs ground truth: <b>%1</b>").arg(*nmi, 0, 'f', 3));
}

// ---------------------------------------------------------------- previews

void MainWindow::requestMaskPreview() {
  if (model_->hasVolume()) controller_->previewMask(params_->thresholdLo(), params_->thresholdHi());
}

void MainWindow::onHover(std::array<int64_t, 3> idx) {
  if (!model_->hasVolume()) return;
  const auto& g = model_->volume()->geom;
  if (!g.contains(idx[0], idx[1], idx[2])) {
    statusPos_->setText(QString("(%1, %2, %3) outside").arg(idx[0]).arg(idx[1]).arg(idx[2]));
    return;
  }
  // The geometry is LPS; the read-out is RAS, 3D Slicer's convention (R = -L, A
  // = -P).
  const auto w = g.indexToWorld(double(idx[0]), double(idx[1]), double(idx[2]));
  QString text = QString("voxel (%1, %2, %3)  RAS (%4, %5, %6) mm  value %7")
                     .arg(idx[0])
                     .arg(idx[1])
                     .arg(idx[2])
                     .arg(-w[0], 0, 'f', 1)
                     .arg(-w[1], 0, 'f', 1)
                     .arg(w[2], 0, 'f', 1)
                     .arg(model_->valueAt(idx), 0, 'g', 6);
  int label = model_->labelAt(idx);
  if (label >= 0) text += QString("  label %1").arg(label);
  statusPos_->setText(text);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& u : e->mimeData()->urls())
    if (u.isLocalFile()) {
      openPath(u.toLocalFile());
      break;
    }
}

QImage MainWindow::screenshot(const QString& target, int scale) {
  return ScreenshotService(this).capture(target, scale);
}

// ---------------------------------------------------------------- layout

void MainWindow::restoreLayout() {
  QSettings s;
  if (s.contains("window/geometry")) restoreGeometry(s.value("window/geometry").toByteArray());
  if (s.contains("window/state")) restoreState(s.value("window/state").toByteArray());
}

void MainWindow::resizeEvent(QResizeEvent* e) {
  QMainWindow::resizeEvent(e);
  const bool compact = width() < DockLayout::kCompactWidth;
  if (compact == compactDocks_) return;
  compactDocks_ = compact;
  DockLayout::arrange(this, size());
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (!unsaved_->confirmQuit(this, quietErrors_)) {
    e->ignore();
    return;
  }
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  jobs_->cancelAll();
  e->accept();
}

} // namespace jseg::ui
