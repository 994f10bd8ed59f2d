#include "ui/UnsavedWorkGuard.h"

#include <QMessageBox>
#include <QPushButton>

#include "ui/SessionController.h"

namespace jseg::ui {

UnsavedWorkGuard::UnsavedWorkGuard(SessionController* controller, QObject* parent)
    : QObject(parent), controller_(controller) {
  connect(controller, &SessionController::labelsPainted, this, [this](bool ok) {
    if (ok) unsavedLabels_ = true;
  });
  connect(controller, &SessionController::labelsSaved, this, [this](bool ok) {
    if (ok) unsavedLabels_ = false;
  });
  connect(controller, &SessionController::projectSaved, this, [this](bool ok) {
    if (ok) unsavedLabels_ = false;
  });
  // A new volume already replaced the labels (opening asked about them first).
  connect(controller, &SessionController::volumeOpened, this, [this] { unsavedLabels_ = false; });
}

QString UnsavedWorkGuard::whatWouldBeLost() const {
  QStringList lost;
  if (unsavedLabels_) lost << "The labels have not been saved.";
  if (controller_->busy()) lost << QString("“%1” is still running and will be cancelled.").arg(controller_->busyWith());
  return lost.join("\n");
}

bool UnsavedWorkGuard::confirmQuit(QWidget* parent, bool quiet) const {
  const QString lost = whatWouldBeLost();
  if (lost.isEmpty() || quiet) return true;
  QMessageBox box(QMessageBox::Warning, "Quit juleseg?", lost + "\n\nQuit anyway?", QMessageBox::NoButton, parent);
  box.setObjectName("confirmQuitBox");
  auto* quit = box.addButton("Quit", QMessageBox::DestructiveRole);
  box.addButton(QMessageBox::Cancel);
  box.setDefaultButton(QMessageBox::Cancel);
  box.exec();
  return box.clickedButton() == quit;
}

} // namespace jseg::ui
