#include "ui/MainWindow.h"

#include <optional>
#include <set>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QToolBar>
#include <QVBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QPushButton>
#include <cmath>
#include <iostream>

#include "core/base/Errors.h"
#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/LabelOutputs.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/ModelFile.h"
#include "core/jule/PatchSampler.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/KMeans.h"
#include "core/segment/KSweep.h"
#include "core/segment/LabelProjector.h"
#include "core/segment/ModelFeatures.h"
#include "ui/JobsPanel.h"
#include "ui/KPickerPanel.h"
#include "ui/LabelsPanel.h"
#include "ui/ParameterPanel.h"
#include "ui/PlanesView.h"
#include "ui/SeriesPickerDialog.h"
#include "ui/SlicePanel.h"
#include "ui/SpacingDialog.h"
#include "ui/TrainingPanel.h"

// The icons live in a static library, whose resource initialiser the linker drops unless referenced.
static void initJulesegResources() { Q_INIT_RESOURCE(juleseg); }

namespace jseg::ui {

namespace {
constexpr int kMaxRecent = 8;

// A first threshold guess: when one end bin of the histogram holds a large share of the voxels it is
// background (air around a specimen, zero outside a skull-stripped brain) and is left out.
std::array<double, 2> initialThreshold(const VolumeStats& s) {
  uint64_t total = 0;
  for (auto b : s.bins) total += b;
  double lo = s.min, hi = s.max;
  if (total > 0 && s.bins.size() > 2 && s.bins.front() > total / 5) {
    double binWidth = (double(s.max) - s.min) / double(s.bins.size());
    lo = s.min + binWidth;
  }
  return {lo, hi};
}

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

  // Classic four-up layout: axial | coronal over sagittal | 3D, with splitters in both directions.
  auto* central = new QSplitter(Qt::Vertical);
  auto* top = new QSplitter(Qt::Horizontal);
  auto* bottom = new QSplitter(Qt::Horizontal);
  central->addWidget(top);
  central->addWidget(bottom);
  for (auto k : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal}) {
    auto* p = new SlicePanel(model_, k);
    panels_[int(k)] = p;
    (k == ViewKind::Sagittal ? bottom : top)->addWidget(p);
    connect(p->view(), &SliceView::hovered, this, &MainWindow::onHover);
  }
  auto* box3d = new QWidget;
  auto* lay3d = new QVBoxLayout(box3d);
  lay3d->setContentsMargins(1, 1, 1, 1);
  lay3d->setSpacing(1);
  auto* title3d = new QLabel("3D");
  title3d->setStyleSheet("font-weight: bold; padding-left: 3px;");
  planes_ = new PlanesView(model_);
  lay3d->addWidget(title3d);
  lay3d->addWidget(planes_, 1);
  bottom->addWidget(box3d);
  setCentralWidget(central);

  statusPos_ = new QLabel;
  statusPos_->setMinimumWidth(420);
  statusBar()->addPermanentWidget(statusPos_);
  statusBar()->showMessage("Open a volume (File menu, or drop a file here), or try the demo volume.");

  buildDocks();
  buildMenus();

  connect(model_, &ViewerModel::cursorChanged, this, [this] { onHover(model_->cursor()); });
  connect(jobs_, &JobBridge::jobEvent, this, [this](const JobEvent& e) {
    if (e.kind == JobEvent::Kind::Data && e.jobId == trainJob_) training_->onTrainerEvent(e.data);
    if (e.kind == JobEvent::Kind::Progress && e.jobId == featureJob_ && !e.message.empty())
      kpicker_->setStatus(QString::fromStdString(e.message));
  });
  updateActions();
  resize(1400, 880);
}

MainWindow::~MainWindow() {
  // Jobs reference the model's data and this window's members; stop them first.
  jobs_->cancelAll();
  jobs_->queue().waitIdle(5);
}

SliceView* MainWindow::sliceView(ViewKind k) const { return panels_[int(k)]->view(); }
SlicePanel* MainWindow::slicePanel(ViewKind k) const { return panels_[int(k)]; }

void MainWindow::buildDocks() {
  auto mkDock = [this](const char* title, const char* name, QWidget* w, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  params_ = new ParameterPanel;
  auto* scroll = new QScrollArea;
  scroll->setWidget(params_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(330);
  auto* tuneDock = mkDock("Tuning", "TuningDock", scroll, Qt::LeftDockWidgetArea);

  training_ = new TrainingPanel;
  kpicker_ = new KPickerPanel;
  labels_ = new LabelsPanel(model_);
  auto* trainDock = mkDock("Training", "TrainingDock", training_, Qt::RightDockWidgetArea);
  auto* kDock = mkDock("K picker", "KPickerDock", kpicker_, Qt::RightDockWidgetArea);
  auto* labelDock = mkDock("Labels", "LabelsDock", labels_, Qt::RightDockWidgetArea);
  tabifyDockWidget(trainDock, kDock);
  tabifyDockWidget(kDock, labelDock);
  trainDock->raise();
  jobsPanel_ = new JobsPanel(jobs_);
  auto* jobsDock = mkDock("Jobs", "JobsDock", jobsPanel_, Qt::BottomDockWidgetArea);
  jobsDock->setMinimumHeight(90);
  resizeDocks({jobsDock}, {120}, Qt::Vertical);
  resizeDocks({trainDock}, {400}, Qt::Horizontal);
  viewMenu_ = new QMenu("&View", this);
  for (auto* d : {tuneDock, trainDock, kDock, labelDock, jobsDock}) viewMenu_->addAction(d->toggleViewAction());

  connect(params_, &ParameterPanel::thresholdChanged, this, [this] { requestMaskPreview(); });
  connect(params_, &ParameterPanel::maskVisibilityChanged, model_, &ViewerModel::setMaskVisible);
  connect(params_, &ParameterPanel::gridChanged, this,
          [this](bool show, int stride, int patch) { model_->setGrid(show ? stride : 0, patch); });
  connect(training_->trainButton(), &QPushButton::clicked, this, &MainWindow::startTraining);
  connect(training_->loadModelButton(), &QPushButton::clicked, this, [this] {
    QString f = QFileDialog::getOpenFileName(this, "Load model", QString(), "juleseg model (*.pt)");
    if (!f.isEmpty()) loadModelFile(f);
  });
  connect(kpicker_->featuresButton(), &QPushButton::clicked, this, &MainWindow::startFeatures);
  connect(kpicker_, &KPickerPanel::kChanged, this, [this](int k) {
    applied_.reset();  // a new K replaces labels applied earlier by a preview
    updateActions();
    requestKPreview(k);
  });
  connect(kpicker_->applyButton(), &QPushButton::clicked, this, [this] { applyK(kpicker_->k()); });
  connect(labels_->truthButton(), &QPushButton::clicked, this, &MainWindow::loadTruth);
  // K preview follows the visible slices.
  connect(model_, &ViewerModel::cursorChanged, this, [this] {
    if (sweep_ && model_->labelsArePreview()) requestKPreview(kpicker_->k());
  });
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu("&File");
  auto* openFile = file->addAction(QIcon(":/icons/open.svg"), "&Open file…", this, [this] {
    QString f = QFileDialog::getOpenFileName(this, "Open volume", QSettings().value("lastDir").toString(),
                                             "Volumes (*.nii *.nii.gz *.tif *.tiff *.dcm DICOMDIR);;All files (*)");
    if (!f.isEmpty()) openPath(f);
  });
  openFile->setShortcut(QKeySequence::Open);
  openFile->setToolTip("Open a NIfTI, TIFF or DICOM file");
  auto* openDir = file->addAction("Open &folder…", this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, "Open DICOM series or TIFF slices folder",
                                                  QSettings().value("lastDir").toString());
    if (!d.isEmpty()) openPath(d);
  });
  openDir->setShortcut(QKeySequence("Ctrl+Shift+O"));
  auto* demo = file->addAction("Open &demo volume", this, &MainWindow::openDemo);
  demo->setShortcut(QKeySequence("Ctrl+D"));
  demo->setToolTip("A generated micro-CT-like phantom with three tissues and its ground truth");
  recentMenu_ = file->addMenu("Recent files");
  updateRecentMenu();
  file->addSeparator();
  auto* saveLab = file->addAction(QIcon(":/icons/save.svg"), "&Save labels…", this, &MainWindow::saveLabels);
  saveLab->setShortcut(QKeySequence::Save);
  auto* savePng = file->addAction("Save overlay PNG (axial slice)…", this, [this] { saveOverlayPng(false); });
  auto* savePngs = file->addAction("Save overlay PNGs (all axial slices)…", this, [this] { saveOverlayPng(true); });
  auto* saveCsv = file->addAction("Save statistics CSV…", this, &MainWindow::saveStatistics);
  needLabels_ << saveLab << savePng << savePngs << saveCsv;
  saveModelAction_ = file->addAction("Save model…", this, [this] {
    if (!juleModel_) return;
    QString f = QFileDialog::getSaveFileName(this, "Save model", "model.pt", "juleseg model (*.pt)");
    if (f.isEmpty()) return;
    try {
      ModelFile::save(*juleModel_, f.toStdString());
      statusBar()->showMessage("Model saved to " + f, 5000);
    } catch (const std::exception& ex) {
      showError("Could not save the model", ex.what());
    }
  });
  auto* shotWin = file->addAction(QIcon(":/icons/camera.svg"), "Save screenshot of the window…", this,
                                  [this] { saveScreenshot(true); });
  shotWin->setShortcut(QKeySequence("Ctrl+Shift+S"));
  auto* shotView = file->addAction("Save screenshot of the axial view…", this, [this] { saveScreenshot(false); });
  needVolume_ << shotView;
  file->addSeparator();
  auto* quit = file->addAction("&Quit", this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  menuBar()->addMenu(viewMenu_);
  viewMenu_->addSeparator();
  auto* autoWin = viewMenu_->addAction("Auto window (0.5–99.5 %)", model_, &ViewerModel::autoWindow);
  autoWin->setShortcut(QKeySequence("Ctrl+0"));
  auto* fullWin = viewMenu_->addAction("Full intensity range", this,
                                       [this] { model_->setWindow(model_->stats().min, model_->stats().max); });
  struct Preset {
    const char* name;
    float w, l;
  };
  QMenu* ct = viewMenu_->addMenu("CT window presets");
  for (auto p : {Preset{"Soft tissue (W 400, L 40)", 400, 40}, Preset{"Lung (W 1500, L −600)", 1500, -600},
                 Preset{"Bone (W 2000, L 300)", 2000, 300}})
    ct->addAction(p.name, this, [this, p] { model_->setWindow(p.l - p.w / 2, p.l + p.w / 2); });
  auto* reset = viewMenu_->addAction("Reset zoom", this, [this] {
    for (auto* p : panels_) p->view()->resetCamera();
    planes_->resetCamera();
  });
  reset->setShortcut(QKeySequence("Ctrl+R"));
  auto* toggleMask = viewMenu_->addAction("Show mask overlay");
  toggleMask->setCheckable(true);
  toggleMask->setChecked(true);
  toggleMask->setShortcut(QKeySequence("M"));
  // One state, two controls: the menu action and the Tuning panel's checkbox.
  connect(toggleMask, &QAction::toggled, params_, &ParameterPanel::setShowMask);
  connect(params_, &ParameterPanel::maskVisibilityChanged, toggleMask, &QAction::setChecked);
  needVolume_ << autoWin << fullWin << reset;

  QMenu* seg = menuBar()->addMenu("&Segment");
  auto* train = seg->addAction(QIcon(":/icons/train.svg"), "&Train JULE", this, &MainWindow::startTraining);
  train->setShortcut(QKeySequence("Ctrl+T"));
  auto* feats = seg->addAction("Extract features && sweep K", this, &MainWindow::startFeatures);
  feats->setShortcut(QKeySequence("Ctrl+F"));
  auto* apply = seg->addAction("Apply K to volume", this, [this] { applyK(kpicker_->k()); });
  apply->setShortcut(QKeySequence("Ctrl+Return"));
  seg->addAction("Load ground truth…", this, &MainWindow::loadTruth);
  auto* cancel = seg->addAction("Cancel all jobs", jobs_, &JobBridge::cancelAll);
  cancel->setShortcut(QKeySequence("Esc"));
  needVolume_ << train;

  QMenu* help = menuBar()->addMenu("&Help");
  help->addAction("About juleseg", this, [this] {
    QMessageBox::about(this, "About juleseg",
                       QString("<b>juleseg %1</b><br>Unsupervised 3D segmentation: a 3D CNN learned with JULE "
                               "(joint unsupervised learning of deep representations and image clusters), "
                               "k-means on its features, labels painted back on the volume "
                               "(Moriya et al., 2018).")
                           .arg(JULESEG_VERSION));
  });

  auto* tb = addToolBar("Main");
  tb->setObjectName("MainToolBar");
  tb->addAction(openFile);
  tb->addAction(saveLab);
  tb->addAction(train);
  tb->addAction(shotWin);
}

void MainWindow::updateActions() {
  bool hasVol = model_->hasVolume();
  for (auto* a : needVolume_) a->setEnabled(hasVol);
  bool hasLabels = applied_ != nullptr;
  for (auto* a : needLabels_) a->setEnabled(hasLabels);
  saveModelAction_->setEnabled(juleModel_ != nullptr);
  training_->trainButton()->setEnabled(hasVol && trainJob_ == 0);
  kpicker_->featuresButton()->setEnabled(hasVol && juleModel_ && featureJob_ == 0 && trainJob_ == 0);
  kpicker_->featuresButton()->setToolTip(juleModel_ ? "Run the trained network densely over the volume at the "
                                                      "chosen stride, then k-means for K = 2..10"
                                                    : "Train or load a model first");
}

void MainWindow::showError(const QString& title, const QString& message) {
  std::cerr << "juleseg: " << title.toStdString() << ": " << message.toStdString() << "\n";
  statusBar()->showMessage(title + ": " + message, 10000);
  if (!quietErrors_) QMessageBox::critical(this, title, message);
}

// ---------------------------------------------------------------- loading

void MainWindow::openPath(const QString& path, ReadOptions options) {
  if (loadJob_) jobs_->cancel(loadJob_);
  QSettings().setValue("lastDir", QFileInfo(path).absolutePath());
  struct Result {
    std::shared_ptr<Volume> volume;
    VolumeStats stats;
    std::vector<DicomSeriesInfo> series;  // set when the user must choose one
  };
  auto result = std::make_shared<Result>();
  const std::string p = path.toStdString();
  JobOptions jo;
  jo.name = "Load " + fileNameOf(path).toStdString();
  jo.priority = 10;
  statusBar()->showMessage("Loading " + path + " …");
  loadJob_ = jobs_->submit(
      jo,
      [result, p, options](JobContext& ctx) {
        if (options.series.empty() && detectVolumeFormat(p) == VolumeFormat::Dicom) {
          ctx.progress(-1, "scanning DICOM files");
          auto series = DicomSeriesReader::listSeries(p, &ctx.task());
          if (series.size() > 1) {
            result->series = std::move(series);
            return;
          }
        }
        auto v = std::make_shared<Volume>(readVolume(p, options, &ctx.task()));
        ctx.checkCancel();
        ctx.progress(0.99, "histogram");
        result->stats = VolumeStats::compute(*v);
        result->volume = std::move(v);
      },
      {[this, result, path, options] {
         loadJob_ = 0;
         if (!result->series.empty()) {
           SeriesPickerDialog dlg(result->series, this);
           if (dlg.exec() != QDialog::Accepted || dlg.selectedUid().empty()) {
             statusBar()->showMessage("Loading cancelled", 4000);
             return;
           }
           ReadOptions o = options;
           o.series = dlg.selectedUid();
           openPath(path, o);
           return;
         }
         auto v = result->volume;
         if (!v->geom.spacingKnown && !quietErrors_) {
           SpacingDialog dlg(path, v->geom.spacing, this);
           if (dlg.exec() == QDialog::Accepted) {
             v->geom.spacing = dlg.spacing();
             v->geom.spacingKnown = true;
           }
         }
         finishLoad(v, result->stats, path);
         addRecent(path);
       },
       [this, path](const QString& msg) {
         loadJob_ = 0;
         showError("Could not open " + fileNameOf(path), msg);
         Q_EMIT loadFailed(msg);
       },
       [this] {
         loadJob_ = 0;
         statusBar()->showMessage("Loading cancelled", 4000);
         Q_EMIT loadFailed("cancelled");
       }});
}

void MainWindow::openDemo() {
  struct Result {
    std::shared_ptr<Volume> volume;
    std::shared_ptr<LabelVolume> truth;
    VolumeStats stats;
    float lo = 0, hi = 0;
  };
  auto result = std::make_shared<Result>();
  JobOptions jo;
  jo.name = "Make demo phantom";
  jo.priority = 10;
  loadJob_ = jobs_->submit(
      jo,
      [result](JobContext& ctx) {
        ctx.progress(-1, "generating");
        Phantom ph = makeDemoPhantom();
        ctx.checkCancel();
        result->volume = std::make_shared<Volume>(std::move(ph.volume));
        result->truth = std::make_shared<LabelVolume>(std::move(ph.truth));
        result->lo = ph.suggestedLo;
        result->hi = ph.suggestedHi;
        result->stats = VolumeStats::compute(*result->volume);
      },
      {[this, result] {
         loadJob_ = 0;
         if (result->volume->description.empty()) result->volume->description = "demo phantom";
         const float threshold[2] = {result->lo, result->hi};
         finishLoad(result->volume, result->stats, "demo phantom", result->truth, threshold);
       },
       [this](const QString& msg) {
         loadJob_ = 0;
         showError("Could not make the demo volume", msg);
         Q_EMIT loadFailed(msg);
       },
       [this] { loadJob_ = 0; }});
}

void MainWindow::finishLoad(std::shared_ptr<Volume> v, VolumeStats stats, const QString& path,
                            std::shared_ptr<LabelVolume> truth, const float* threshold) {
  grid_.reset();
  sweep_.reset();
  truth_.reset();
  applied_.reset();
  kpicker_->clear();
  labels_->setStatistics({});
  labels_->setNmi(QString());
  model_->setVolume(v, stats);
  params_->setStats(stats);
  auto thr = initialThreshold(stats);
  if (threshold) params_->setThreshold(threshold[0], threshold[1]);
  else params_->setThreshold(thr[0], thr[1]);
  if (truth) {
    truth_ = truth;
    labels_->setNmi("Ground truth: the phantom's tissues");
  }
  const auto& g = v->geom;
  setWindowTitle(QString("%1 — juleseg").arg(fileNameOf(path)));
  QString msg = QString("%1: %2 × %3 × %4 voxels, %5 × %6 × %7 mm%8, %9, range %10 … %11")
                    .arg(fileNameOf(path))
                    .arg(g.dims[0])
                    .arg(g.dims[1])
                    .arg(g.dims[2])
                    .arg(g.spacing[0], 0, 'g', 4)
                    .arg(g.spacing[1], 0, 'g', 4)
                    .arg(g.spacing[2], 0, 'g', 4)
                    .arg(g.spacingKnown ? "" : " (assumed)")
                    .arg(pixelTypeName(v->originalType))
                    .arg(stats.min)
                    .arg(stats.max);
  statusBar()->showMessage(msg);
  if (!v->warnings.empty()) {
    QString w;
    for (const auto& s : v->warnings) w += QString::fromStdString(s) + "\n";
    if (quietErrors_) std::cerr << "juleseg: warnings: " << w.toStdString();
    else QMessageBox::warning(this, "Loaded with warnings", w);
  }
  updateActions();
  Q_EMIT volumeLoaded();
}

void MainWindow::addRecent(const QString& path) {
  QSettings s;
  QStringList list = s.value("recentFiles").toStringList();
  QString abs = QFileInfo(path).absoluteFilePath();
  list.removeAll(abs);
  list.prepend(abs);
  while (list.size() > kMaxRecent) list.removeLast();
  s.setValue("recentFiles", list);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  recentMenu_->clear();
  const QStringList list = QSettings().value("recentFiles").toStringList();
  for (const auto& f : list) recentMenu_->addAction(f, this, [this, f] { openPath(f); });
  recentMenu_->setEnabled(!list.isEmpty());
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

// ---------------------------------------------------------------- previews

void MainWindow::requestMaskPreview() {
  auto vol = model_->volumePtr();
  if (!vol) return;
  float lo = float(params_->thresholdLo()), hi = float(params_->thresholdHi());
  auto mask = std::make_shared<Mask>();
  JobOptions jo;
  jo.name = "Mask preview";
  jo.coalesceKey = "mask-preview";
  jo.priority = 20;
  jobs_->submit(jo, [vol, lo, hi, mask](JobContext&) { *mask = thresholdMask(*vol, lo, hi); },
                {[this, vol, mask] {
                   if (model_->volumePtr() != vol) return;  // a newer volume replaced it
                   model_->setMask(mask);
                   statusBar()->showMessage(QString("Mask: %1 voxels (%2 %)")
                                                .arg(qulonglong(mask->count()))
                                                .arg(100.0 * mask->count() / std::max<size_t>(1, vol->voxels.size()),
                                                     0, 'f', 1),
                                            4000);
                   Q_EMIT maskUpdated();
                 },
                 {},
                 {}});
}

void MainWindow::onHover(std::array<int64_t, 3> idx) {
  if (!model_->hasVolume()) return;
  const auto& g = model_->volume()->geom;
  if (!g.contains(idx[0], idx[1], idx[2])) {
    statusPos_->setText(QString("(%1, %2, %3) outside").arg(idx[0]).arg(idx[1]).arg(idx[2]));
    return;
  }
  auto w = g.indexToWorld(double(idx[0]), double(idx[1]), double(idx[2]));
  QString text = QString("voxel (%1, %2, %3)  LPS (%4, %5, %6) mm  value %7")
                     .arg(idx[0])
                     .arg(idx[1])
                     .arg(idx[2])
                     .arg(w[0], 0, 'f', 1)
                     .arg(w[1], 0, 'f', 1)
                     .arg(w[2], 0, 'f', 1)
                     .arg(model_->valueAt(idx), 0, 'g', 6);
  int label = model_->labelAt(idx);
  if (label >= 0) text += QString("  label %1").arg(label);
  statusPos_->setText(text);
}

// ---------------------------------------------------------------- pipeline

std::optional<Parameters> MainWindow::validParameters() {
  try {
    return params_->parameters();
  } catch (const std::exception& ex) {
    showError("Parameters", ex.what());
    return std::nullopt;
  }
}

void MainWindow::startTraining() {
  auto vol = model_->volumePtr();
  if (!vol || trainJob_) return;
  auto checked = validParameters();
  if (!checked) return;
  const Parameters p = *checked;
  auto result = std::make_shared<JuleModel>();
  training_->reset();
  training_->setRunning(true);
  JobOptions jo;
  jo.name = "Train JULE (" + std::to_string(p.getInt("patches")) + " patches, C = " +
            std::to_string(p.getInt("clusters")) + ")";
  trainJob_ = jobs_->submit(
      jo,
      [vol, p, result](JobContext& ctx) {
        ctx.progress(0, "sampling patches");
        const float lo = float(p.getDouble("threshold_lo")), hi = float(p.getDouble("threshold_hi"));
        Volume filled;
        if (p.getBool("fill_outside_window")) filled = fillOutsideWindow(*vol, lo, hi, p.getString("fill_rule"));
        PatchSet patches =
            sampleTrainingPatches(*vol, p.getBool("fill_outside_window") ? filled : *vol, p, lo, hi, &ctx.task());
        ctx.checkCancel();
        JuleResult r = trainJuleNetworks(patches, p, [&ctx](const JuleEvent& ev) { ctx.emitData(toJson(ev)); },
                                         &ctx.task());
        *result = std::move(r.model);
        if (result->parameters.empty()) result->parameters = p.toJson();
      },
      {[this, result] {
         trainJob_ = 0;
         juleModel_ = result;
         training_->setRunning(false);
         statusBar()->showMessage("Training finished; extract features next (Segment menu or K picker)", 8000);
         updateActions();
         Q_EMIT trainingFinished(true);
       },
       [this](const QString& msg) {
         trainJob_ = 0;
         training_->setRunning(false);
         updateActions();
         showError("Training failed", msg);
         Q_EMIT trainingFinished(false);
       },
       [this] {
         trainJob_ = 0;
         training_->setRunning(false);
         updateActions();
         statusBar()->showMessage("Training cancelled", 5000);
         Q_EMIT trainingFinished(false);
       }});
  updateActions();
}

void MainWindow::loadModelFile(const QString& path) {
  try {
    juleModel_ = std::make_shared<JuleModel>(ModelFile::load(path.toStdString()));
    // Show what the model was trained with; segmentation-time settings (window, stride, K) stay the user's.
    static const std::set<std::string> keep = {"threshold_lo", "threshold_hi", "stride", "k", "kmeans_restarts",
                                               "kmeans_max_iter", "feature_smoothing", "feature_intensity",
                                               "intensity_weight",
                                               "threads", "device"};
    if (juleModel_->parameters.is_object())
      for (auto it = juleModel_->parameters.begin(); it != juleModel_->parameters.end(); ++it)
        if (!keep.count(it.key())) {
          try {
            params_->setValue(it.key(), it.value());
          } catch (const std::exception&) {
            // A parameter this version does not know: the model still works, the panel just cannot show it.
          }
        }
    statusBar()->showMessage("Model loaded: " + path, 5000);
  } catch (const std::exception& ex) {
    showError("Could not load the model", ex.what());
  }
  updateActions();
}

void MainWindow::startFeatures() {
  auto vol = model_->volumePtr();
  auto net = juleModel_;
  if (!vol || !net || featureJob_) return;
  auto checked = validParameters();
  if (!checked) return;
  const Parameters p = *checked;
  auto grid = std::make_shared<FeatureGrid>();
  auto sweep = std::make_shared<KSweepResult>();
  kpicker_->clear();
  model_->clearLabels();
  applied_.reset();
  JobOptions jo;
  jo.name = "Features at stride " + std::to_string(p.getInt("stride")) + " + k-means K = 2..10";
  featureJob_ = jobs_->submit(
      jo,
      [vol, net, p, grid, sweep](JobContext& ctx) {
        ModelFeatures ex(*net, p.getInt("threads"));
        // Features take most of the time; the sweep the rest.
        TaskContext sub;
        sub.cancel = ctx.task().cancel;
        sub.progress = [&ctx](double f, const std::string& m) { ctx.progress(f < 0 ? -1 : 0.8 * f, "features: " + m); };
        const float lo = float(p.getDouble("threshold_lo")), hi = float(p.getDouble("threshold_hi"));
        *grid = ex.layout(*vol, p.getInt("stride"), lo, hi);  // the window is tested on the real intensities
        if (p.getBool("fill_outside_window")) ex.compute(*grid, fillOutsideWindow(*vol, lo, hi, p.getString("fill_rule")), &sub);
        else ex.compute(*grid, *vol, &sub);
        if (grid->count() < 10) throw InputError("fewer than 10 grid points lie inside the threshold window");
        TaskContext smoothing;
        smoothing.cancel = ctx.task().cancel;
        smoothing.progress = [&ctx](double, const std::string& m) { ctx.progress(0.8, "features: " + m); };
        finishFeatures(*grid, *vol, p, &smoothing);
        KSweepOptions so;
        so.kMin = 2;
        so.kMax = int(std::min<std::size_t>(10, grid->count()));
        so.kmeans.restarts = p.getInt("kmeans_restarts");
        so.kmeans.maxIterations = p.getInt("kmeans_max_iter");
        so.kmeans.seed = uint64_t(p.getInt("seed"));
        so.kmeans.threads = p.getInt("threads");
        TaskContext sub2;
        sub2.cancel = ctx.task().cancel;
        sub2.progress = [&ctx](double f, const std::string& m) {
          ctx.progress(f < 0 ? -1 : 0.8 + 0.2 * f, "k-means: " + m);
        };
        *sweep = kSweep(grid->features.data(), grid->count(), grid->dim, so, &sub2);
      },
      {[this, grid, sweep, p] {
         featureJob_ = 0;
         grid_ = grid;
         sweep_ = sweep;
         std::vector<KCurvePoint> pts;
         for (const auto& e : sweep->entries) pts.push_back({e.k, e.inertia, e.silhouette});
         kpicker_->setCurve(pts, sweep->bestBySilhouette());
         if (auto* d = findChild<QDockWidget*>("KPickerDock")) d->raise();
         updateActions();
         int k = std::clamp(p.getInt("k"), 2, 10);
         if (kpicker_->k() == k) requestKPreview(k);
         else kpicker_->setK(k);
         Q_EMIT featuresReady(true);
       },
       [this](const QString& msg) {
         featureJob_ = 0;
         updateActions();
         kpicker_->setStatus("Feature extraction failed.");
         showError("Feature extraction failed", msg);
         Q_EMIT featuresReady(false);
       },
       [this] {
         featureJob_ = 0;
         updateActions();
         kpicker_->setStatus("Feature extraction cancelled.");
         Q_EMIT featuresReady(false);
       }});
  updateActions();
}

std::optional<std::vector<float>> MainWindow::sweptCentroids(int k) const {
  if (!grid_ || !sweep_ || !model_->volumePtr()) return std::nullopt;
  for (const auto& e : sweep_->entries)
    if (e.k == k) return e.centroids;
  return std::nullopt;  // K outside the swept range
}

void MainWindow::requestKPreview(int k) {
  auto swept = sweptCentroids(k);
  if (!swept) return;
  auto grid = grid_;
  auto vol = model_->volumePtr();
  std::vector<float> centroids = std::move(*swept);
  const auto cursor = model_->cursor();
  auto out = std::make_shared<LabelVolume>();
  JobOptions jo;
  jo.name = "Preview K = " + std::to_string(k);
  jo.coalesceKey = "k-preview";
  jo.priority = 20;
  jobs_->submit(
      jo,
      [grid, vol, centroids, k, cursor, out](JobContext& ctx) {
        // Only grid points whose block touches one of the three visible slices.
        FeatureGrid sub;
        sub.geom = grid->geom;
        sub.extent = grid->extent;
        sub.stride = grid->stride;
        sub.latticeDims = grid->latticeDims;
        sub.firstCentre = grid->firstCentre;
        sub.lo = grid->lo;
        sub.hi = grid->hi;
        sub.dim = grid->dim;
        sub.hasIntensityColumn = grid->hasIntensityColumn;
        for (std::size_t i = 0; i < grid->count(); ++i) {
          bool touches = false;
          for (int a = 0; a < 3 && !touches; ++a) {
            int64_t b0 = grid->centres[i][a] - grid->stride[a] / 2;
            touches = cursor[a] >= b0 && cursor[a] < b0 + grid->stride[a];
          }
          if (!touches) continue;
          sub.centres.push_back(grid->centres[i]);
          sub.lattice.push_back(grid->lattice[i]);
          sub.features.insert(sub.features.end(), grid->row(i), grid->row(i) + grid->dim);
        }
        ctx.checkCancel();
        std::vector<int32_t> clusters(sub.count());
        if (sub.count() > 0) KMeans::assign(sub.features.data(), sub.count(), sub.dim, centroids.data(), k, clusters.data());
        *out = LabelProjector().project(sub, clusters.data(), k, *vol, &ctx.task()).labels;
      },
      {[this, out, vol, k] {
         if (model_->volumePtr() != vol || applied_) return;
         model_->setLabels(out, defaultLabelTable(k), true);
         kpicker_->setStatus(QString("Preview of K = %1 on the visible slices. Apply paints the volume.").arg(k));
       },
       [this](const QString& msg) { showError("Preview failed", msg); },
       {}});
}

void MainWindow::applyK(int k) {
  auto swept = sweptCentroids(k);
  if (!swept) return;
  auto grid = grid_;
  auto vol = model_->volumePtr();
  std::vector<float> centroids = std::move(*swept);
  auto out = std::make_shared<LabelVolume>();
  auto stats = std::make_shared<std::vector<LabelStatistics>>();
  JobOptions jo;
  jo.name = "Paint labels K = " + std::to_string(k);
  jobs_->submit(
      jo,
      [grid, vol, centroids, k, out, stats](JobContext& ctx) {
        std::vector<int32_t> clusters(grid->count());
        ctx.progress(0.1, "assigning grid points");
        KMeans::assign(grid->features.data(), grid->count(), grid->dim, centroids.data(), k, clusters.data());
        ctx.checkCancel();
        ctx.progress(0.4, "painting blocks");
        *out = LabelProjector().project(*grid, clusters.data(), k, *vol, &ctx.task()).labels;
        ctx.progress(0.9, "statistics");
        *stats = computeLabelStatistics(*vol, *out);
      },
      {[this, out, vol, k, stats] {
         if (model_->volumePtr() != vol) return;
         applied_ = out;
         model_->setLabels(out, defaultLabelTable(k), false);
         labels_->setStatistics(*stats);
         updateNmi();
         if (auto* d = findChild<QDockWidget*>("LabelsDock")) d->raise();
         params_->setShowMask(false);  // the mask tint would mix with the label colours
         statusBar()->showMessage(QString("Labels painted: K = %1 regions; save them from the File menu").arg(k), 8000);
         updateActions();
         kpicker_->setStatus(QString("K = %1 applied to the whole volume.").arg(k));
         Q_EMIT labelsApplied(true);
       },
       [this](const QString& msg) {
         showError("Painting labels failed", msg);
         Q_EMIT labelsApplied(false);
       },
       [this] { Q_EMIT labelsApplied(false); }});
}

// ---------------------------------------------------------------- labels, truth, outputs

void MainWindow::loadTruth() {
  if (!model_->hasVolume()) return;
  QString f = QFileDialog::getOpenFileName(this, "Load ground-truth labels", QSettings().value("lastDir").toString(),
                                           "Label volumes (*.nii *.nii.gz *.tif *.tiff)");
  if (f.isEmpty()) return;
  auto out = std::make_shared<LabelVolume>();
  std::string path = f.toStdString();
  JobOptions jo;
  jo.name = "Load ground truth " + fileNameOf(f).toStdString();
  jobs_->submit(
      jo,
      [path, out](JobContext& ctx) {
        if (NiftiIO::looksLikeNifti(path)) {
          *out = NiftiIO::readLabels(path, &ctx.task());
          return;
        }
        Volume v = readVolume(path, {}, &ctx.task());
        *out = makeLabelVolume(v.geom);
        for (std::size_t i = 0; i < v.voxels.size(); ++i) {
          float x = v.voxels[i];
          if (x < 0 || x > 65535 || x != std::floor(x))
            throw InputError(path + " holds non-integer or negative values; it is not a label volume");
          out->labels[i] = uint16_t(x);
        }
      },
      {[this, out, f] {
         if (!model_->hasVolume() || !out->geom.sameGrid(model_->volume()->geom)) {
           showError("Ground truth does not match", fileNameOf(f) + " is not on the grid of the open volume");
           return;
         }
         truth_ = out;
         updateNmi();
       },
       [this, f](const QString& msg) { showError("Could not load " + fileNameOf(f), msg); },
       {}});
}

void MainWindow::updateNmi() {
  if (!truth_ || !applied_) {
    labels_->setNmi(truth_ ? "Ground truth loaded; apply a K to compare." : QString());
    return;
  }
  try {
    SegmentationScore s = scoreSegmentation(*applied_, *truth_);
    labels_->setNmi(QString("NMI vs ground truth: <b>%1</b> (%2 voxels with truth > 0)")
                        .arg(s.nmi, 0, 'f', 3)
                        .arg(qlonglong(s.voxels)));
  } catch (const std::exception& ex) {
    labels_->setNmi(QString("NMI: %1").arg(ex.what()));
  }
}

void MainWindow::saveLabels() {
  if (!applied_) return;
  QString f = QFileDialog::getSaveFileName(this, "Save labels", "labels.nii.gz",
                                           "NIfTI (*.nii.gz *.nii);;TIFF stack (*.tif *.tiff)");
  if (!f.isEmpty()) saveLabelsTo(f);
}

void MainWindow::saveLabelsTo(const QString& f) {
  if (!applied_) return;
  auto labels = applied_;
  auto table = model_->labelTable();
  std::string path = f.toStdString();
  JobOptions jo;
  jo.name = "Save " + fileNameOf(f).toStdString();
  jobs_->submit(
      jo,
      [labels, path, table](JobContext&) {
        QString lower = QString::fromStdString(path).toLower();
        if (lower.endsWith(".tif") || lower.endsWith(".tiff")) writeTiffLabels(*labels, path);
        else NiftiIO::writeLabels(*labels, path);
        // Names and colours the user chose travel with the labels.
        writeLabelTableJson(table, path + ".labels.json");
      },
      {[this, f] {
         statusBar()->showMessage("Labels saved to " + f, 6000);
         Q_EMIT labelsSaved(true);
       },
       [this](const QString& msg) {
         showError("Could not save the labels", msg);
         Q_EMIT labelsSaved(false);
       },
       [this] { Q_EMIT labelsSaved(false); }});
}

void MainWindow::saveOverlayPng(bool allSlices) {
  if (!applied_) return;
  auto vol = model_->volumePtr();
  auto labels = applied_;
  auto table = model_->labelTable();
  OverlayStyle style;
  style.windowLo = model_->windowLo();
  style.windowHi = model_->windowHi();
  style.opacity = model_->labelOpacity();
  const int axis = model_->axes(ViewKind::Axial).sliceAxis;
  const int64_t slice = model_->cursor()[axis];
  std::string target;
  if (allSlices) {
    QString d = QFileDialog::getExistingDirectory(this, "Folder for the overlay PNGs");
    if (d.isEmpty()) return;
    target = d.toStdString();
  } else {
    QString f = QFileDialog::getSaveFileName(this, "Save overlay PNG", QString("overlay_%1.png").arg(slice), "PNG (*.png)");
    if (f.isEmpty()) return;
    target = f.toStdString();
  }
  JobOptions jo;
  jo.name = allSlices ? "Save overlay PNGs" : "Save overlay PNG";
  jobs_->submit(
      jo,
      [=](JobContext& ctx) {
        if (allSlices) writeOverlayPngs(*vol, *labels, table, SliceAxis(axis), style, target, "overlay", &ctx.task());
        else writeOverlayPng(*vol, *labels, table, SliceAxis(axis), slice, style, target);
      },
      {[this, target] { statusBar()->showMessage("Saved " + QString::fromStdString(target), 6000); },
       [this](const QString& msg) { showError("Could not save the overlay", msg); },
       {}});
}

void MainWindow::saveStatistics() {
  if (!applied_) return;
  QString f = QFileDialog::getSaveFileName(this, "Save statistics", "statistics.csv", "CSV (*.csv)");
  if (f.isEmpty()) return;
  try {
    writeStatisticsCsv(computeLabelStatistics(*model_->volume(), *applied_), model_->labelTable(), f.toStdString());
    statusBar()->showMessage("Statistics saved to " + f, 6000);
  } catch (const std::exception& ex) {
    showError("Could not save the statistics", ex.what());
  }
}

QImage MainWindow::composeScreenshot() {
  QImage img = grab().toImage().convertToFormat(QImage::Format_RGB32);
  QPainter p(&img);
  const qreal dpr = img.devicePixelRatio();
  for (VtkView* v : findChildren<VtkView*>()) {
    if (!v->isVisible()) continue;
    QImage shot = v->grabImage();
    if (shot.isNull()) continue;
    QPoint pos = v->mapTo(this, QPoint(0, 0));
    p.drawImage(QRectF(pos.x(), pos.y(), v->width(), v->height()), shot);
  }
  Q_UNUSED(dpr);
  return img;
}

void MainWindow::saveScreenshot(bool windowOnly) {
  QString f = QFileDialog::getSaveFileName(this, "Save screenshot", "juleseg.png", "PNG (*.png)");
  if (f.isEmpty()) return;
  QImage img = windowOnly ? composeScreenshot() : sliceView(ViewKind::Axial)->grabImage();
  if (img.isNull() || !img.save(f)) showError("Could not save the screenshot", "writing " + f + " failed");
  else statusBar()->showMessage("Screenshot saved to " + f, 6000);
}

// ---------------------------------------------------------------- layout

void MainWindow::restoreLayout() {
  QSettings s;
  if (s.contains("window/geometry")) restoreGeometry(s.value("window/geometry").toByteArray());
  if (s.contains("window/state")) restoreState(s.value("window/state").toByteArray());
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  jobs_->cancelAll();
  e->accept();
}

} // namespace jseg::ui
