#include "ui/MainMenus.h"

#include <QAction>
#include <QActionGroup>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <algorithm>

#include "core/io/LabelOutputs.h"
#include "ui/KPickerPanel.h"
#include "ui/LabelsPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/LabelSurfaces.h"
#include "ui/PlanesView.h"
#include "ui/ProjectActions.h"
#include "ui/ScreenshotService.h"
#include "ui/SessionController.h"
#include "ui/SliceView.h"
#include "ui/ViewLayout.h"

namespace jseg::ui {

namespace {
constexpr int kMaxRecent = 8;
} // namespace

QString MainMenus::startPath(const QString& fileName) {
  const QString dir = QSettings().value("lastDir").toString();
  return dir.isEmpty() ? fileName : QDir(dir).filePath(fileName);
}

QString MainMenus::remember(const QString& chosen) {
  if (!chosen.isEmpty()) QSettings().setValue("lastDir", QFileInfo(chosen).absolutePath());
  return chosen;
}

MainMenus::MainMenus(MainWindow* w, QMenu* viewMenu) : QObject(w), w_(w) {
  QMenuBar* bar = w->menuBar();
  viewMenu_ = viewMenu;
  auto* model = w->model();
  QMenu* file = bar->addMenu("&File");
  auto* openFile = file->addAction(QIcon(":/icons/open.svg"), "&Open file…", this, [this] {
    QString f = QFileDialog::getOpenFileName(w_, "Open volume", QSettings().value("lastDir").toString(),
                                             "Volumes (*.nii *.nii.gz *.tif *.tiff *.dcm DICOMDIR);;All files (*)");
    if (!f.isEmpty()) w_->openPath(f);
  });
  openFile->setShortcut(QKeySequence::Open);
  openFile->setToolTip("Open a NIfTI, TIFF or DICOM file");
  auto* openDir = file->addAction("Open &folder…", this, [this] {
    QString d = QFileDialog::getExistingDirectory(w_, "Open DICOM series or TIFF slices folder",
                                                  QSettings().value("lastDir").toString());
    if (!d.isEmpty()) w_->openPath(d);
  });
  openDir->setShortcut(QKeySequence("Ctrl+Shift+O"));
  auto* demo = file->addAction("Open &demo volume", w_, &MainWindow::openDemo);
  demo->setShortcut(QKeySequence("Ctrl+D"));
  demo->setToolTip("A generated micro-CT-like phantom with three tissues and its ground truth");
  auto* openMask = file->addAction("Open &mask…", this, [this] {
    QString f = QFileDialog::getOpenFileName(w_, "Open region-of-interest mask", QSettings().value("lastDir").toString(),
                                             "Label or mask volumes (*.nii *.nii.gz *.tif *.tiff);;All files (*)");
    if (!remember(f).isEmpty()) w_->controller()->loadMask(f);
  });
  openMask->setToolTip("A volume on the same grid whose non-zero voxels are the region to segment (e.g. a tumour)");
  auto* addChannel = file->addAction("Add &channel…", this, [this] {
    QString f = QFileDialog::getOpenFileName(w_, "Add a co-registered channel", QSettings().value("lastDir").toString(),
                                             "Volumes (*.nii *.nii.gz *.tif *.tiff *.dcm);;All files (*)");
    if (!remember(f).isEmpty()) w_->controller()->addChannel(f);
  });
  addChannel->setToolTip("Another contrast of the same scan on the same grid (e.g. T1c beside FLAIR): the networks "
                         "and the baselines see every channel; the threshold applies to the first");
  auto* openLabels = file->addAction("Open &labels…", this, [this] {
    QString f = QFileDialog::getOpenFileName(
        w_, "Open a saved label map", QSettings().value("lastDir").toString(),
        "Label maps (*.nii *.nii.gz *.seg.nrrd *.nrrd *.tif *.tiff);;All files (*)");
    if (!remember(f).isEmpty()) w_->controller()->openLabels(f);
  });
  openLabels->setToolTip("A saved segmentation on this volume's grid (juleseg, ITK-SNAP, 3D Slicer, Fiji) as the "
                         "labels overlay, with its names and colours: to compare runs or continue from a result");
  connect(w_->controller(), &SessionController::labelsOpened, this, &MainMenus::showOpenedLabels);
  needVolume_ << openMask << addChannel << openLabels;
  auto* openProject = file->addAction("Open &project…", this, [this] {
    QString f =
        remember(QFileDialog::getOpenFileName(w_, "Open project", startPath(""), "juleseg project (*.juleseg)"));
    if (!f.isEmpty()) w_->openPath(f);
  });
  openProject->setShortcut(QKeySequence("Ctrl+Shift+P"));
  openProject->setToolTip("Reopen a saved project: volume, region, channels, parameters, model, labels and view");
  auto* saveProject = file->addAction("Save p&roject…", this, [this] {
    QString f = remember(
        QFileDialog::getSaveFileName(w_, "Save project", startPath("project.juleseg"), "juleseg project (*.juleseg)"));
    if (f.isEmpty()) return;
    if (!f.endsWith(".juleseg")) f += ".juleseg";
    w_->projects()->save(f);
  });
  saveProject->setShortcut(QKeySequence("Ctrl+Alt+S"));
  saveProject->setToolTip(
      "Save the inputs, parameters, model, labels (with names and colours) and the view as a "
      ".juleseg file with the model and labels beside it; File > Open project or "
      "`juleseg PROJECT.juleseg` reopens it, `juleseg-cli run --project` reruns it");
  needVolume_ << saveProject;
  recentMenu_ = file->addMenu("Recent files");
  updateRecentMenu();
  file->addSeparator();
  auto* saveLab = file->addAction(QIcon(":/icons/save.svg"), "&Save labels…", this, [this] {
    QString f = QFileDialog::getSaveFileName(w_, "Save labels", startPath("labels.nii.gz"),
                                             "NIfTI + ITK-SNAP label descriptions (*.nii.gz *.nii);;TIFF stack "
                                             "with ImageJ LUT (*.tif *.tiff);;"
                                             "3D Slicer segmentation (*.seg.nrrd);;DICOM Segmentation (*.dcm)");
    if (!remember(f).isEmpty()) w_->saveLabelsTo(f);
  });
  saveLab->setShortcut(QKeySequence::Save);
  auto* savePng = file->addAction("Save overlay PNG (axial slice)…", this, [this] { saveOverlayPng(false); });
  auto* savePngs = file->addAction("Save overlay PNGs (all axial slices)…", this, [this] { saveOverlayPng(true); });
  auto* saveCsv = file->addAction("Save statistics CSV…", this, &MainMenus::saveStatistics);
  needLabels_ << saveLab << savePng << savePngs << saveCsv;
  saveModelAction_ = file->addAction("Save model…", this, [this] {
    QString f = QFileDialog::getSaveFileName(w_, "Save model", startPath("model.pt"), "juleseg model (*.pt)");
    if (!remember(f).isEmpty()) w_->controller()->saveModel(f);
  });
  // Screenshots of one view or of the window, magnified ×1–×4 (File >
  // Screenshot magnification).
  QMenu* shots = file->addMenu(QIcon(":/icons/camera.svg"), "Save screenshot");
  QAction* shotWin = nullptr;
  for (const QString& target : ScreenshotService::targets()) {
    const QString label = target == "3d"       ? "3D view"
                          : target == "window" ? "Whole window"
                                               : target.left(1).toUpper() + target.mid(1) + " view";
    auto* a = shots->addAction(label + "…", this, [this, target] { saveScreenshot(target); });
    if (target == "window") {
      shotWin = a;
      a->setShortcut(QKeySequence("Ctrl+Shift+S"));
    } else {
      needVolume_ << a;
    }
  }
  shotWin->setIcon(QIcon(":/icons/camera.svg"));
  shotWin->setToolTip("Save a screenshot of the window (File > Save screenshot has each view)");
  QMenu* mag = shots->addMenu("Magnification");
  auto* magGroup = new QActionGroup(this);
  const int savedScale = QSettings().value("screenshot/scale", 1).toInt();
  for (int s = 1; s <= ScreenshotService::kMaxScale; ++s) {
    auto* a = mag->addAction(QString("×%1").arg(s), this, [s] { QSettings().setValue("screenshot/scale", s); });
    a->setCheckable(true);
    a->setChecked(s == savedScale);
    magGroup->addAction(a);
  }
  file->addSeparator();
  auto* quit = file->addAction("&Quit", w_, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  bar->addMenu(viewMenu_);
  viewMenu_->addSeparator();
  auto* autoWin = viewMenu_->addAction("Auto window (0.5–99.5 %)", model, &ViewerModel::autoWindow);
  autoWin->setShortcut(QKeySequence("Ctrl+0"));
  auto* fullWin = viewMenu_->addAction("Full intensity range", this,
                                       [this] { w_->model()->setWindow(w_->model()->stats().min, w_->model()->stats().max); });
  struct Preset {
    const char* name;
    float w, l;
  };
  QMenu* ct = viewMenu_->addMenu("CT window presets");
  for (auto p : {Preset{"Soft tissue (W 400, L 40)", 400, 40}, Preset{"Lung (W 1500, L −600)", 1500, -600},
                 Preset{"Bone (W 2000, L 300)", 2000, 300}})
    ct->addAction(p.name, this, [this, p] { w_->model()->setWindow(p.l - p.w / 2, p.l + p.w / 2); });
  auto* reset = viewMenu_->addAction("Reset zoom", this, [this] {
    for (auto k : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal}) w_->sliceView(k)->resetCamera();
    w_->planesView()->resetCamera();
  });
  reset->setShortcut(QKeySequence("Ctrl+R"));
  // ITK-SNAP's single-view mode: one view fills the centre (double-clicking a
  // view's title does the same).
  QMenu* layoutMenu = viewMenu_->addMenu("Maximise view");
  const char* names[] = {"Axial", "Coronal", "Sagittal", "3D"};
  for (int i = 0; i < 4; ++i) {
    auto* a = layoutMenu->addAction(names[i], this, [this, i] { w_->viewLayout()->maximise(i); });
    a->setShortcut(QKeySequence(QString("Ctrl+%1").arg(i + 1)));
  }
  auto* four =
      layoutMenu->addAction("All four views", this, [this] { w_->viewLayout()->maximise(ViewLayout::kAllViews); });
  four->setShortcut(QKeySequence("Ctrl+5"));
  auto* surfaces = viewMenu_->addAction("Label surfaces in 3D");
  surfaces->setCheckable(true);
  surfaces->setChecked(true); // LabelSurfaces starts enabled; the window creates it after the menus
  surfaces->setToolTip("Show the painted labels as smooth surfaces in the 3D view, in their colours");
  connect(surfaces, &QAction::toggled, this, [this](bool on) { w_->labelSurfaces()->setEnabled(on); });
  auto* toggleMask = viewMenu_->addAction("Show mask overlay");
  toggleMask->setCheckable(true);
  toggleMask->setChecked(w_->parameterPanel()->showMask());
  toggleMask->setShortcut(QKeySequence("M"));
  // One state, two controls: the menu action and the Tuning panel's checkbox.
  connect(toggleMask, &QAction::toggled, w_->parameterPanel(), &ParameterPanel::setShowMask);
  connect(w_->parameterPanel(), &ParameterPanel::maskVisibilityChanged, toggleMask, &QAction::setChecked);
  needVolume_ << autoWin << fullWin << reset;

  QMenu* seg = bar->addMenu("&Segment");
  auto* train = seg->addAction(QIcon(":/icons/train.svg"), "&Train JULE", w_, &MainWindow::startTraining);
  train->setShortcut(QKeySequence("Ctrl+T"));
  auto* feats = seg->addAction("Extract features && sweep K", w_, &MainWindow::startFeatures);
  feats->setShortcut(QKeySequence("Ctrl+F"));
  auto* apply = seg->addAction("Apply K to volume", this, [this] { w_->applyK(w_->kPicker()->k()); });
  apply->setShortcut(QKeySequence("Ctrl+Return"));
  auto* truth = seg->addAction("Load ground truth…", this, [this] {
    QString f = QFileDialog::getOpenFileName(w_, "Load ground-truth labels", QSettings().value("lastDir").toString(),
                                             "Label volumes (*.nii *.nii.gz *.tif *.tiff)");
    if (!remember(f).isEmpty()) w_->controller()->loadTruth(f);
  });
  auto* cancel = seg->addAction("Cancel all jobs", w_->jobs(), &JobBridge::cancelAll);
  cancel->setShortcut(QKeySequence("Esc"));
  needVolume_ << train << truth;

  QMenu* help = bar->addMenu("&Help");
  help->addAction("About juleseg", this, [this] {
    QMessageBox::about(w_, "About juleseg",
                       QString("<b>juleseg %1</b><br>Unsupervised 3D segmentation: a 3D CNN learned with JULE "
                               "(joint unsupervised learning of deep representations and image clusters), "
                               "k-means on its features, labels painted back on the volume "
                               "(Moriya et al., 2018).")
                           .arg(JULESEG_VERSION));
  });

  auto* tb = w->addToolBar("Main");
  tb->setObjectName("MainToolBar");
  tb->addAction(openFile);
  tb->addAction(saveLab);
  tb->addAction(train);
  tb->addAction(shotWin);
}

void MainMenus::addRecent(const QString& path) {
  QSettings s;
  QStringList list = s.value("recentFiles").toStringList();
  QString abs = QFileInfo(path).absoluteFilePath();
  list.removeAll(abs);
  list.prepend(abs);
  while (list.size() > kMaxRecent) list.removeLast();
  s.setValue("recentFiles", list);
  updateRecentMenu();
}

void MainMenus::updateRecentMenu() {
  recentMenu_->clear();
  const QStringList list = QSettings().value("recentFiles").toStringList();
  for (const auto& f : list) recentMenu_->addAction(f, this, [this, f] { w_->openPath(f); });
  recentMenu_->setEnabled(!list.isEmpty());
}

void MainMenus::updateActions(bool hasVolume, bool hasLabels, bool hasModel) {
  for (auto* a : needVolume_) a->setEnabled(hasVolume);
  for (auto* a : needLabels_) a->setEnabled(hasLabels);
  saveModelAction_->setEnabled(hasModel);
}

// ---------------------------------------------------------------- outputs

void MainMenus::saveOverlayPng(bool allSlices) {
  auto labels = w_->controller()->labels();
  auto vol = w_->model()->volumePtr();
  if (!labels || !vol) return;
  auto table = w_->model()->labelTable();
  OverlayStyle style;
  style.windowLo = w_->model()->windowLo();
  style.windowHi = w_->model()->windowHi();
  style.opacity = w_->model()->labelOpacity();
  const int axis = w_->model()->axes(ViewKind::Axial).sliceAxis;
  const int64_t slice = w_->model()->cursor()[axis];
  std::string target;
  if (allSlices) {
    QString d = remember(QFileDialog::getExistingDirectory(w_, "Folder for the overlay PNGs", startPath("")));
    if (d.isEmpty()) return;
    target = d.toStdString();
  } else {
    QString f = remember(QFileDialog::getSaveFileName(
        w_, "Save overlay PNG", startPath(QString("overlay_%1.png").arg(slice + 1)), "PNG (*.png)"));
    if (f.isEmpty()) return;
    target = f.toStdString();
  }
  JobOptions jo;
  jo.name = allSlices ? "Save overlay PNGs" : "Save overlay PNG";
  w_->jobs()->submit(
      jo,
      [=](JobContext& ctx) {
        if (allSlices) writeOverlayPngs(*vol, *labels, table, SliceAxis(axis), style, target, "overlay", &ctx.task());
        else writeOverlayPng(*vol, *labels, table, SliceAxis(axis), slice, style, target);
      },
      {[this, target] { w_->statusBar()->showMessage("Saved " + QString::fromStdString(target), 6000); },
       [this](const QString& msg) { w_->showError("Could not save the overlay", msg); },
       {}});
}

void MainMenus::saveStatistics() {
  auto labels = w_->controller()->labels();
  if (!labels) return;
  QString f = remember(QFileDialog::getSaveFileName(w_, "Save statistics", startPath("statistics.csv"), "CSV (*.csv)"));
  if (f.isEmpty()) return;
  try {
    writeStatisticsCsv(computeLabelStatistics(*w_->model()->volume(), *labels), w_->model()->labelTable(), f.toStdString());
    w_->statusBar()->showMessage("Statistics saved to " + f, 6000);
  } catch (const std::exception& ex) {
    w_->showError("Could not save the statistics", ex.what());
  }
}

void MainMenus::saveScreenshot(const QString& target) {
  QString f = remember(
      QFileDialog::getSaveFileName(w_, "Save screenshot", startPath("juleseg_" + target + ".png"), "PNG (*.png)"));
  if (f.isEmpty()) return;
  const QImage img = w_->screenshot(
      target, std::clamp(QSettings().value("screenshot/scale", 1).toInt(), 1, ScreenshotService::kMaxScale));
  if (img.isNull() || !img.save(f)) w_->showError("Could not save the screenshot", "writing " + f + " failed");
  else w_->statusBar()->showMessage("Screenshot saved to " + f, 6000);
}

void MainMenus::showOpenedLabels(std::shared_ptr<const LabelVolume> labels, const std::vector<LabelInfo>& table,
                                 const std::vector<LabelStatistics>& stats, const QString& path) {
  w_->model()->setLabels(std::move(labels), table, false);
  if (auto* panel = w_->findChild<LabelsPanel*>()) panel->setStatistics(stats);
  if (auto* dock = w_->findChild<QDockWidget*>("LabelsDock")) dock->raise();
  w_->statusBar()->showMessage(QString("Labels opened from %1: %2 regions").arg(path).arg(table.size()), 8000);
}

} // namespace jseg::ui
