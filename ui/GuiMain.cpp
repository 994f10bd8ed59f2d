#include "ui/GuiMain.h"

#include <QApplication>
#include <QLabel>
#include <QMainWindow>

namespace jseg::ui {
int guiMain(int argc, char** argv) {
  QApplication app(argc, argv);
  QMainWindow w;
  w.setWindowTitle("juleseg");
  w.setCentralWidget(new QLabel("juleseg"));
  w.resize(1200, 800);
  w.show();
  return app.exec();
}
} // namespace jseg::ui
