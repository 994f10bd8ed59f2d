#pragma once
// Knows whether quitting would lose work: labels painted but not saved (File >
// Save labels or Save project clear it), or a stage job still running. The
// window asks it in closeEvent; the question names what would be lost.
#include <QObject>
#include <QString>

class QWidget;

namespace jseg::ui {

class SessionController;

class UnsavedWorkGuard : public QObject {
  Q_OBJECT
public:
  explicit UnsavedWorkGuard(SessionController* controller, QObject* parent = nullptr);
  bool hasUnsavedLabels() const { return unsavedLabels_; }
  void markSaved() { unsavedLabels_ = false; }
  // What would be lost, one sentence per item; empty when nothing.
  QString whatWouldBeLost() const;
  // Asks when something would be lost (unless `quiet`: then quits). True = go
  // ahead and quit.
  bool confirmQuit(QWidget* parent, bool quiet) const;

private:
  SessionController* controller_;
  bool unsavedLabels_ = false;
};

} // namespace jseg::ui
