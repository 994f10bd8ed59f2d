#pragma once
// Bridge between a Qt6 widget and a plain vtkRenderWindow (design.md §3, bridge (a)): the widget owns a
// native X window that VTK renders into directly; Qt never paints it. Input events are handled by
// subclasses in Qt, not by a VTK interactor.
#include <QImage>
#include <array>
#include <QWidget>

#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>

namespace jseg::ui {

class VtkView : public QWidget {
  Q_OBJECT
public:
  explicit VtkView(QWidget* parent = nullptr);
  ~VtkView() override;

  vtkRenderer* renderer() const { return renderer_; }
  vtkRenderWindow* renderWindow() const { return renderWindow_; }
  // Renders at the next turn of the event loop (several requests become one render).
  void requestRender();
  // Renders now if the window is on screen.
  void renderNow();
  // What VTK drew, read back from the GL buffer (QWidget::grab cannot see a
  // native GL window). A magnification above 1 renders the scene again in tiles
  // at that many times the resolution.
  QImage grabImage(int magnification = 1);
  QPaintEngine* paintEngine() const override { return nullptr; }
  // Widget (logical) coordinates to VTK world coordinates on the focal plane.
  std::array<double, 3> widgetToWorld(const QPointF& p) const;
  // Number of renders so far (tests use it to wait for a frame).
  int renderCount() const { return renders_; }

protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void showEvent(QShowEvent*) override;
  bool event(QEvent* e) override;
  // Called once the render window is bound to the native window.
  virtual void onFirstRender() {}

private:
  void bindWindow();
  vtkSmartPointer<vtkRenderWindow> renderWindow_;
  vtkSmartPointer<vtkRenderer> renderer_;
  bool bound_ = false;
  bool renderPending_ = false;
  int renders_ = 0;
};

} // namespace jseg::ui
