#include "ui/GuiMain.h"

#include "core/base/Errors.h"
#include "core/params/OptionText.h"
#include "core/params/ParameterSchema.h"
#include "core/pipeline/SegmentationSession.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <optional>

#include "ui/JobBridge.h"
#include "ui/KPickerPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/ScreenshotService.h"
#include "ui/SessionController.h"
#include "ui/SliceView.h"

namespace jseg::ui {

namespace {

// What the command line asked for after the window is up (README screenshots and the GUI-vs-CLI test are made
// this way). Every schema parameter is an option spelled as juleseg-cli spells it (--patch-size 15, --k 3,
// --threshold lo:hi), generated from the schema.
struct GuiOptions {
  QString file;
  bool demo = false;
  QString screenshot;
  QString view = "window"; // or "axial", "coronal", "sagittal", "3d":
                           // screenshot of that view only
  int scale = 1;           // magnification of the screenshot, 1..4
  bool quitAfterLoad = false;
  bool segment = false;  // train, extract features and apply K, then screenshot/save/quit
  QString stopAfter;     // with --segment: "training" or "features" ends the scripted run early
  QString modelFile;
  QString saveLabels;    // with --segment: save the labels there when they are painted, then quit
  QString saveModel;     // with --segment: save the trained model there too
  QString labels;        // a saved label map opened after the volume (File > Open labels)
  QString mask;          // region of interest, as juleseg-cli --mask
  QStringList channels;  // more channels, as juleseg-cli --channel
  ReadOptions read;
  std::optional<std::array<float, 2>> threshold;
  bool grid = false;
  bool showMask = false; // the screenshot shows the threshold mask (also implied by --threshold)
  QSize size;
  Parameters params;     // the preset, then every schema option given
  bool paramsGiven = false;
};

bool parse(QApplication& app, GuiOptions& o) {
  QCommandLineParser p;
  p.setApplicationDescription("juleseg: unsupervised 3D segmentation (JULE + k-means), desktop application");
  p.addHelpOption();
  p.addVersionOption();
  p.addPositionalArgument("file",
                          "Volume to open: NIfTI, TIFF (file or folder) or DICOM folder/DICOMDIR; or a saved project "
                          "(.juleseg) to reopen with its model, labels and view",
                          "[FILE]");
  QCommandLineOption demo("demo", "Open the built-in demo phantom");
  QCommandLineOption shot("screenshot", "Save a screenshot of the window (or of --view) to OUT.png", "OUT.png");
  QCommandLineOption view("view",
                          "What --screenshot shows: axial, coronal, sagittal, "
                          "3d or window (default)",
                          "VIEW");
  QCommandLineOption scale("scale",
                           "Magnification of --screenshot, 1 to 4 (the views "
                           "render at that resolution)",
                           "N");
  QCommandLineOption quit("quit-after-load", "Quit after loading (and after the screenshot, if any)");
  QCommandLineOption seg("segment", "After loading, train, extract features and apply K (screenshot after that)");
  QCommandLineOption model("model", "Use this trained model instead of training (with --segment)", "model.pt");
  QCommandLineOption saveLabels("save-labels", "With --segment: save the labels (NIfTI or TIFF) when painted, then quit",
                                "LABELS");
  QCommandLineOption saveModel("save-model", "With --segment: also save the trained model", "model.pt");
  QStringList presetNames;
  for (const auto& pr : parameterPresets()) presetNames << QString::fromStdString(pr.name);
  QCommandLineOption preset(
      "preset",
      QString("Parameter preset (%1; default %2 on this machine); options "
              "below override it")
          .arg(presetNames.join(", "), QString::fromStdString(SegmentationSession::defaultPreset())),
      "NAME");
  QCommandLineOption thr("threshold", "Centre-voxel window lo:hi, as juleseg-cli takes it", "lo:hi");
  QCommandLineOption series("series", "DICOM: SeriesInstanceUID or number of the series to read", "UID");
  QCommandLineOption spacing("spacing", "Voxel spacing in mm, \"x,y,z\" or one number; overrides the file's", "MM");
  QCommandLineOption grid("show-grid", "Show the sampling grid on the slices");
  QCommandLineOption showMask("show-mask", "Show the threshold mask on the slices (on with --threshold)");
  QCommandLineOption mask("mask", "Region of interest on the volume's grid (non-zero = inside), as juleseg-cli takes it",
                          "FILE");
  QCommandLineOption labels("labels",
                            "Open a saved label map on the volume's grid after it (a result folder, "
                            "NIfTI with its label "
                            "file, .seg.nrrd, label TIFF), as File > Open labels does",
                            "FILE");
  QCommandLineOption channel("channel", "A co-registered volume on the same grid (repeatable), as juleseg-cli takes it",
                             "FILE");
  QCommandLineOption size("size", "Window size WxH", "WxH");
  QCommandLineOption stop("stop-after",
                          "With --segment: take the screenshot/quit after this stage (training, features) instead of "
                          "after the labels",
                          "STAGE");
  p.addOptions({demo, shot, view, scale, quit, seg, model, saveLabels, saveModel, preset, thr, series, spacing, grid,
                showMask, mask, channel, size, stop, labels});
  // The schema's parameters, as juleseg-cli names them (--patch-size, --k, ...); the window is --threshold.
  std::vector<const ParamSpec*> specs;
  for (const auto& s : parameterSchema()) {
    if (s.name == "threshold_lo" || s.name == "threshold_hi") continue;
    QString help = QString::fromStdString(s.help);
    p.addOption(QCommandLineOption(QString::fromStdString(s.cliFlag().substr(2)), help, "VALUE"));
    specs.push_back(&s);
  }
  p.process(app);
  try {
    if (!p.positionalArguments().isEmpty()) o.file = p.positionalArguments().first();
    o.demo = p.isSet(demo);
    o.screenshot = p.value(shot);
    if (p.isSet(view)) o.view = p.value(view).toLower();
    if (p.isSet(scale)) {
      bool ok = false;
      o.scale = p.value(scale).toInt(&ok);
      if (!ok || o.scale < 1 || o.scale > ScreenshotService::kMaxScale)
        throw InputError("--scale expects 1, 2, 3 or 4");
    }
    o.quitAfterLoad = p.isSet(quit);
    o.segment = p.isSet(seg);
    o.stopAfter = p.value(stop);
    o.modelFile = p.value(model);
    o.saveLabels = p.value(saveLabels);
    o.saveModel = p.value(saveModel);
    o.grid = p.isSet(grid);
    o.showMask = p.isSet(showMask) || p.isSet(thr);
    o.mask = p.value(mask);
    o.channels = p.values(channel);
    o.labels = p.value(labels);
    if (!o.labels.isEmpty() && o.segment)
      throw InputError(
          "--labels opens a saved result; it cannot be combined "
          "with --segment");
    if (!o.stopAfter.isEmpty() && o.stopAfter != "training" && o.stopAfter != "features")
      throw InputError("--stop-after expects training or features");
    if ((!o.saveLabels.isEmpty() || !o.saveModel.isEmpty()) && !o.segment)
      throw InputError("--save-labels and --save-model need --segment");
    if (p.isSet(preset)) o.params.applyPreset(p.value(preset).toStdString());
    o.paramsGiven = p.isSet(preset);
    for (const ParamSpec* s : specs) {
      const QString name = QString::fromStdString(s->cliFlag().substr(2));
      if (!p.isSet(name)) continue;
      o.params.setFromString(s->name, p.value(name).toStdString());
      o.paramsGiven = true;
    }
    if (p.isSet(thr)) o.threshold = parseThreshold(p.value(thr).toStdString());
    o.read.series = p.value(series).toStdString();
    if (p.isSet(spacing)) o.read.spacing = parseSpacing(p.value(spacing).toStdString());
    if (p.isSet(size)) {
      auto parts = p.value(size).toLower().split('x');
      if (parts.size() == 2) o.size = QSize(parts[0].toInt(), parts[1].toInt());
      if (!o.size.isValid() || o.size.width() < 200 || o.size.height() < 200)
        throw InputError("--size expects WxH (at least 200x200)");
    }
    if (!ScreenshotService::targets().contains(o.view))
      throw InputError("--view expects " + ScreenshotService::targets().join(", ").toStdString());
  } catch (const std::exception& ex) {
    std::cerr << "juleseg: error: " << ex.what() << "\n";
    return false;
  }
  return true;
}

// Calls `then` once no job is queued or running (polled; the job queue's own wait would block the GUI thread), or
// after `maxSeconds`.
void whenJobsIdle(QObject* context, JobBridge* jobs, double maxSeconds, std::function<void()> then) {
  bool busy = false;
  for (const auto& job : jobs->queue().jobs())
    busy = busy || job.state == JobState::Queued || job.state == JobState::Running;
  if (!busy || maxSeconds <= 0) return then();
  QTimer::singleShot(200, context, [=] { whenJobsIdle(context, jobs, maxSeconds - 0.2, then); });
}

bool hasArg(int argc, char** argv, std::initializer_list<const char*> names) {
  for (int i = 1; i < argc; ++i)
    for (const char* n : names)
      if (std::strcmp(argv[i], n) == 0) return true;
  return false;
}

// The VTK views draw into X windows (design.md §3), and Qt's xcb platform
// aborts without a display. --help and
// --version need no display; everything else needs X (a real one, or xvfb-run
// for scripted screenshots). Returns false (after saying why) when there is
// nothing to run on.
bool choosePlatform(int argc, char** argv) {
  const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
  const bool x11 = !qEnvironmentVariableIsEmpty("DISPLAY");
  if (hasArg(argc, argv, {"-h", "--help", "--help-all", "-v", "--version"})) {
    if (!x11) qputenv("QT_QPA_PLATFORM", "offscreen");
    return true;
  }
  if (x11 && (platform.isEmpty() || platform == "offscreen" || platform.startsWith("wayland"))) {
    qputenv("QT_QPA_PLATFORM", "xcb");
    return true;
  }
  if (!x11 && platform != "offscreen" && platform != "minimal") {
    std::cerr << "juleseg: no X display (DISPLAY is not set). Run the desktop "
                 "application in an X11 session, under "
                 "xvfb-run for scripted screenshots, or use juleseg-cli.\n";
    return false;
  }
  if (!x11 && hasArg(argc, argv, {"--screenshot"})) {
    std::cerr << "juleseg: --screenshot needs an X display for the 3D "
                 "rendering; run it under xvfb-run.\n";
    return false;
  }
  return true;
}

} // namespace

int guiMain(int argc, char** argv) {
  if (!choosePlatform(argc, argv)) return 2;
  QApplication app(argc, argv);
  QApplication::setOrganizationName("juleseg");
  QApplication::setApplicationName("juleseg");
  QApplication::setApplicationVersion(JULESEG_VERSION);
  QApplication::setWindowIcon(QIcon(":/icons/juleseg.svg"));
  GuiOptions o;
  if (!parse(app, o)) return 2;

  const bool scripted = !o.screenshot.isEmpty() || o.quitAfterLoad || !o.saveLabels.isEmpty();
  MainWindow w;
  w.setQuietErrors(scripted);
  if (!scripted) w.restoreLayout();
  if (o.size.isValid()) w.resize(o.size);
  if (o.paramsGiven) w.parameterPanel()->setParameters(o.params);
  w.show();

  int exitCode = 0;
  auto finish = [&](bool ok) {
    if (!o.screenshot.isEmpty()) {
      // Jobs still running (the 3D label surfaces, the training estimate) change what is on screen: wait for them
      // (two minutes at most), then let renders and layout settle before reading the views back.
      whenJobsIdle(&w, w.jobs(), 120, [&, ok] {
        QTimer::singleShot(300, &w, [&, ok] {
          const QImage img = w.screenshot(o.view, o.scale);
          if (img.isNull() || !img.save(o.screenshot)) {
            std::cerr << "juleseg: could not write " << o.screenshot.toStdString() << "\n";
            exitCode = 1;
          } else {
            std::cout << "screenshot: " << o.screenshot.toStdString() << "\n";
          }
          if (!ok) exitCode = 2;
          if (o.quitAfterLoad) app.exit(exitCode);
        });
      });
    } else if (o.quitAfterLoad) {
      app.exit(ok ? 0 : 2);
    }
  };

  if (scripted) {
    // Scripted runs (screenshots for the README) report their jobs on stderr.
    QObject::connect(w.jobs(), &JobBridge::jobEvent, &w, [](const JobEvent& e) {
      using K = JobEvent::Kind;
      if (e.kind == K::Started || e.kind == K::Finished || e.kind == K::Failed || e.kind == K::Cancelled)
        std::cerr << "juleseg: " << e.jobName << ": " << (e.kind == K::Started ? "started" : e.kind == K::Finished ? "finished" : e.kind == K::Failed ? "failed: " + e.message : "cancelled")
                  << " (" << e.elapsedSeconds << " s)\n";
      else if (e.kind == K::Data && e.data.value("type", "") == "period")
        std::cerr << "juleseg: period " << e.data.value("period", 0) << ": " << e.data.value("clusters", 0)
                  << " clusters, loss " << e.data.value("loss", 0.0) << "\n";
    });
  }
  QObject::connect(&w, &MainWindow::loadFailed, &w, [&](const QString&) { finish(false); });
  // After the volume: the mask and the channels, one stage after the other, then the rest.
  std::function<void()> afterInputs;
  auto nextInput = [&] {
    if (!o.mask.isEmpty()) {
      const QString m = o.mask;
      o.mask.clear();
      return w.controller()->loadMask(m);
    }
    if (!o.channels.isEmpty()) return w.controller()->addChannel(o.channels.takeFirst());
    afterInputs();
  };
  QObject::connect(w.controller(), &SessionController::roiLoaded, &w, [&](bool ok) {
    if (ok) nextInput();
    else finish(false);
  });
  QObject::connect(w.controller(), &SessionController::channelAdded, &w, [&](bool ok) {
    if (ok) nextInput();
    else finish(false);
  });
  QObject::connect(&w, &MainWindow::volumeLoaded, &w, [&] {
    if (o.threshold) w.parameterPanel()->setThreshold((*o.threshold)[0], (*o.threshold)[1]);
    if (o.grid) w.parameterPanel()->setShowGrid(true);
    nextInput();
  });
  QObject::connect(w.controller(), &SessionController::labelsOpened, &w, [&] {
    if (!o.labels.isEmpty()) finish(true);
  });
  QObject::connect(w.controller(), &SessionController::labelsOpenFailed, &w, [&] {
    if (!o.labels.isEmpty()) finish(false);
  });
  afterInputs = [&] {
    if (!o.labels.isEmpty()) {
      // The same call File > Open labels makes; the screenshot waits for the
      // labels.
      w.controller()->openLabels(o.labels);
      return;
    }
    if (o.segment) {
      if (!o.modelFile.isEmpty()) {
        // Loading the model is a job: features start when it has landed.
        QObject::connect(
            w.controller(), &SessionController::modelLoaded, &w,
            [&](bool ok) {
              if (ok)
                w.startFeatures();
              else
                finish(false);
            },
            Qt::SingleShotConnection);
        w.loadModelFile(o.modelFile);
      } else {
        w.startTraining();
      }
      return;
    }
    // A screenshot of the loaded volume shows the threshold mask (the first
    // thing to tune); the mask preview is a job: wait for it. An interactive
    // start leaves the mask off.
    if (o.screenshot.isEmpty() || !o.showMask) return finish(true);
    QObject::connect(&w, &MainWindow::maskUpdated, &w, [&] { finish(true); }, Qt::SingleShotConnection);
    w.parameterPanel()->setShowMask(true);
  };
  QObject::connect(&w, &MainWindow::trainingFinished, &w, [&](bool ok) {
    if (!o.segment) return;
    if (ok && o.stopAfter == "training") finish(true);
    else if (ok) w.startFeatures();
    else finish(false);
  });
  QObject::connect(&w, &MainWindow::featuresReady, &w, [&](bool ok) {
    if (!o.segment) return;
    if (ok && o.stopAfter == "features") {
      // The K preview of the visible slices is a job of its own: give it a moment to land.
      QTimer::singleShot(2500, &w, [&] { finish(true); });
    } else if (ok) {
      w.applyK(w.kPicker()->k());
    } else {
      finish(false);
    }
  });
  // Scripted saves after the labels, one after the other, then quit: the model (if asked), then the labels.
  auto saveLabelsOrFinish = [&] {
    if (o.saveLabels.isEmpty()) return finish(true);
    w.saveLabelsTo(o.saveLabels);
  };
  QObject::connect(&w, &MainWindow::labelsApplied, &w, [&](bool ok) {
    if (!o.segment) return;
    if (!ok || (o.saveLabels.isEmpty() && o.saveModel.isEmpty())) return finish(ok);
    o.quitAfterLoad = true;  // "saves when the run finishes, then exits"
    if (!o.saveModel.isEmpty()) w.controller()->saveModel(o.saveModel);
    else saveLabelsOrFinish();
  });
  QObject::connect(w.controller(), &SessionController::modelSaved, &w, [&](bool ok, const QString& path) {
    if (o.saveModel.isEmpty()) return;
    if (!ok) return finish(false);
    std::cout << "model: " << path.toStdString() << "\n";
    saveLabelsOrFinish();
  });
  QObject::connect(&w, &MainWindow::labelsSaved, &w, [&](bool ok) {
    if (o.saveLabels.isEmpty()) return;
    if (ok) std::cout << "labels: " << o.saveLabels.toStdString() << "\n";
    finish(ok);
  });

  if (o.demo) w.openDemo();
  else if (!o.file.isEmpty()) w.openPath(o.file, o.read);
  else if (scripted) finish(true);
  return app.exec() == 0 ? exitCode : 1;
}

} // namespace jseg::ui
