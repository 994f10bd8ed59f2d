#include "ui/GuiMain.h"

#include "core/base/Errors.h"
#include "core/params/ParameterSchema.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>
#include <iostream>

#include "ui/JobBridge.h"
#include "ui/KPickerPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/SliceView.h"

namespace jseg::ui {

namespace {

// What the command line asked for after the window is up (README screenshots are made this way).
struct GuiOptions {
  QString file;
  bool demo = false;
  QString screenshot;
  QString view;  // "", "axial", "coronal", "sagittal": screenshot of that view only
  bool quitAfterLoad = false;
  bool segment = false;  // train, extract features and apply K, then screenshot/quit
  QString stopAfter;     // with --segment: "training" or "features" ends the scripted run early
  QString modelFile;
  QString preset;
  double lo = 0, hi = 0;
  bool haveThreshold = false;
  int k = 0;
  bool grid = false;
  QSize size;
  QStringList sets;  // name=value overrides of schema parameters
};

bool parse(QApplication& app, GuiOptions& o) {
  QCommandLineParser p;
  p.setApplicationDescription("juleseg: unsupervised 3D segmentation (JULE + k-means), desktop application");
  p.addHelpOption();
  p.addVersionOption();
  p.addPositionalArgument("file", "Volume to open: NIfTI, TIFF (file or folder) or DICOM folder/DICOMDIR", "[FILE]");
  QCommandLineOption demo("demo", "Open the built-in demo phantom");
  QCommandLineOption shot("screenshot", "Save a screenshot of the window (or of --view) to OUT.png", "OUT.png");
  QCommandLineOption view("view", "Screenshot only this view: axial, coronal or sagittal", "VIEW");
  QCommandLineOption quit("quit-after-load", "Quit after loading (and after the screenshot, if any)");
  QCommandLineOption seg("segment", "After loading, train, extract features and apply K (screenshot after that)");
  QCommandLineOption model("model", "Use this trained model instead of training (with --segment)", "model.pt");
  QCommandLineOption preset("preset", "Parameter preset (paper, fast)", "NAME");
  QCommandLineOption thr("threshold", "Threshold window LO,HI", "LO,HI");
  QCommandLineOption k("k", "Number of regions K (2..10)", "K");
  QCommandLineOption grid("show-grid", "Show the sampling grid on the slices");
  QCommandLineOption size("size", "Window size WxH", "WxH");
  QCommandLineOption stop("stop-after",
                          "With --segment: take the screenshot/quit after this stage (training, features) instead of "
                          "after the labels",
                          "STAGE");
  QCommandLineOption set("set", "Set a parameter of the schema, e.g. --set patches=500 (repeatable)", "NAME=VALUE");
  p.addOptions({demo, shot, view, quit, seg, model, preset, thr, k, grid, size, set, stop});
  p.process(app);
  if (!p.positionalArguments().isEmpty()) o.file = p.positionalArguments().first();
  o.demo = p.isSet(demo);
  o.screenshot = p.value(shot);
  o.view = p.value(view).toLower();
  o.quitAfterLoad = p.isSet(quit);
  o.segment = p.isSet(seg);
  o.stopAfter = p.value(stop);
  if (!o.stopAfter.isEmpty() && o.stopAfter != "training" && o.stopAfter != "features") {
    std::cerr << "juleseg: --stop-after expects training or features\n";
    return false;
  }
  o.modelFile = p.value(model);
  o.preset = p.value(preset);
  o.grid = p.isSet(grid);
  o.sets = p.values(set);
  if (p.isSet(thr)) {
    auto parts = p.value(thr).split(',');
    bool a = false, b = false;
    if (parts.size() == 2) {
      o.lo = parts[0].toDouble(&a);
      o.hi = parts[1].toDouble(&b);
    }
    if (!a || !b || o.lo > o.hi) {
      std::cerr << "juleseg: --threshold expects LO,HI with LO <= HI\n";
      return false;
    }
    o.haveThreshold = true;
  }
  if (p.isSet(k)) {
    bool ok = false;
    o.k = p.value(k).toInt(&ok);
    if (!ok || o.k < 2 || o.k > 10) {
      std::cerr << "juleseg: --k expects 2..10\n";
      return false;
    }
  }
  if (p.isSet(size)) {
    auto parts = p.value(size).toLower().split('x');
    if (parts.size() == 2) o.size = QSize(parts[0].toInt(), parts[1].toInt());
    if (!o.size.isValid() || o.size.width() < 200 || o.size.height() < 200) {
      std::cerr << "juleseg: --size expects WxH (at least 200x200)\n";
      return false;
    }
  }
  if (!o.view.isEmpty() && o.view != "axial" && o.view != "coronal" && o.view != "sagittal") {
    std::cerr << "juleseg: --view expects axial, coronal or sagittal\n";
    return false;
  }
  return true;
}

} // namespace

int guiMain(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("juleseg");
  QApplication::setApplicationName("juleseg");
  QApplication::setApplicationVersion(JULESEG_VERSION);
  QApplication::setWindowIcon(QIcon(":/icons/juleseg.svg"));
  GuiOptions o;
  if (!parse(app, o)) return 2;

  const bool scripted = !o.screenshot.isEmpty() || o.quitAfterLoad;
  MainWindow w;
  w.setQuietErrors(scripted);
  if (!scripted) w.restoreLayout();
  if (o.size.isValid()) w.resize(o.size);
  if (!o.preset.isEmpty()) {
    try {
      w.parameterPanel()->applyPreset(o.preset.toStdString());
    } catch (const std::exception& ex) {
      std::cerr << "juleseg: " << ex.what() << "\n";
      return 2;
    }
  }
  try {
    for (const QString& kv : o.sets) {
      int eq = kv.indexOf('=');
      if (eq <= 0) throw InputError("--set expects NAME=VALUE, got '" + kv.toStdString() + "'");
      Parameters parsed;
      const std::string name = kv.left(eq).toStdString();
      parsed.setFromString(name, kv.mid(eq + 1).toStdString());
      w.parameterPanel()->setValue(name, parsed.get(name));
    }
    if (o.k > 0) w.parameterPanel()->setValue("k", o.k);
  } catch (const std::exception& ex) {
    std::cerr << "juleseg: " << ex.what() << "\n";
    return 2;
  }
  w.show();

  int exitCode = 0;
  auto finish = [&](bool ok) {
    if (!o.screenshot.isEmpty()) {
      // Let pending renders and layout settle before reading the views back.
      QTimer::singleShot(300, &w, [&, ok] {
        QImage img;
        if (o.view.isEmpty()) img = w.composeScreenshot();
        else {
          ViewKind kind = o.view == "axial" ? ViewKind::Axial : o.view == "coronal" ? ViewKind::Coronal : ViewKind::Sagittal;
          img = w.sliceView(kind)->grabImage();
        }
        if (img.isNull() || !img.save(o.screenshot)) {
          std::cerr << "juleseg: could not write " << o.screenshot.toStdString() << "\n";
          exitCode = 1;
        } else {
          std::cout << "screenshot: " << o.screenshot.toStdString() << "\n";
        }
        if (!ok) exitCode = 2;
        if (o.quitAfterLoad) app.exit(exitCode);
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
  QObject::connect(&w, &MainWindow::volumeLoaded, &w, [&] {
    if (o.haveThreshold) w.parameterPanel()->setThreshold(o.lo, o.hi);
    if (o.grid) w.parameterPanel()->setShowGrid(true);
    if (o.segment) {
      if (!o.modelFile.isEmpty()) {
        w.loadModelFile(o.modelFile);
        w.startFeatures();
      } else {
        w.startTraining();
      }
      return;
    }
    // The mask preview is a job: wait for it so the screenshot shows it.
    QObject::connect(&w, &MainWindow::maskUpdated, &w, [&] { finish(true); }, Qt::SingleShotConnection);
  });
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
      w.applyK(o.k > 0 ? o.k : w.kPicker()->k());
    } else {
      finish(false);
    }
  });
  QObject::connect(&w, &MainWindow::labelsApplied, &w, [&](bool ok) {
    if (o.segment) finish(ok);
  });

  if (o.demo) w.openDemo();
  else if (!o.file.isEmpty()) w.openPath(o.file);
  else if (scripted) finish(true);
  return app.exec() == 0 ? exitCode : 1;
}

} // namespace jseg::ui
