#include "ui/VtkView.h"

#include <QGuiApplication>
#include <QResizeEvent>
#include <QTimer>
#include <algorithm>
#include <vtkCamera.h>
#include <vtkImageData.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowToImageFilter.h>

#if __has_include(<QtGui/qguiapplication_platform.h>)
#include <QtGui/qguiapplication_platform.h>
#define JSEG_HAVE_X11_INTERFACE 1
#endif

namespace jseg::ui {

VtkView::VtkView(QWidget* parent) : QWidget(parent) {
  setAttribute(Qt::WA_NativeWindow);
  setAttribute(Qt::WA_PaintOnScreen);
  setAttribute(Qt::WA_NoSystemBackground);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setMinimumSize(120, 120);
  renderWindow_ = vtkSmartPointer<vtkRenderWindow>::New();
  renderer_ = vtkSmartPointer<vtkRenderer>::New();
  renderer_->SetBackground(0, 0, 0);
  renderWindow_->AddRenderer(renderer_);
  // Keeps VTK from opening, mapping or resizing a top-level window of its own.
  renderWindow_->SetMultiSamples(0);
}

VtkView::~VtkView() {
  if (bound_) renderWindow_->Finalize();
}

void VtkView::bindWindow() {
  if (bound_) return;
  if (QGuiApplication::platformName() != QLatin1String("xcb")) return;  // offscreen: nothing to draw into
#ifdef JSEG_HAVE_X11_INTERFACE
  if (auto* x11 = qGuiApp->nativeInterface<QNativeInterface::QX11Application>())
    renderWindow_->SetDisplayId(x11->display());
#endif
  renderWindow_->SetWindowId(reinterpret_cast<void*>(winId()));
  const qreal dpr = devicePixelRatioF();
  renderWindow_->SetSize(std::max(1, int(width() * dpr)), std::max(1, int(height() * dpr)));
  bound_ = true;
  onFirstRender();
}

void VtkView::requestRender() {
  if (renderPending_) return;
  renderPending_ = true;
  QTimer::singleShot(0, this, [this] {
    renderPending_ = false;
    renderNow();
  });
}

void VtkView::renderNow() {
  if (!isVisible()) return;
  bindWindow();
  if (!bound_) return;
  renderer_->ResetCameraClippingRange();
  renderWindow_->Render();
  ++renders_;
}

void VtkView::paintEvent(QPaintEvent*) { renderNow(); }

void VtkView::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  if (bound_) {
    const qreal dpr = devicePixelRatioF();
    renderWindow_->SetSize(std::max(1, int(width() * dpr)), std::max(1, int(height() * dpr)));
  }
  requestRender();
}

void VtkView::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  requestRender();
}

bool VtkView::event(QEvent* e) {
  // Without a paint engine Qt must not try to compose this widget into a backing store.
  if (e->type() == QEvent::UpdateRequest) {
    renderNow();
    return true;
  }
  return QWidget::event(e);
}

QImage VtkView::grabImage(int magnification) {
  renderNow();
  if (!bound_) return {};
  auto filter = vtkSmartPointer<vtkWindowToImageFilter>::New();
  filter->SetInput(renderWindow_);
  filter->SetInputBufferTypeToRGB();
  filter->ReadFrontBufferOff();
  filter->ShouldRerenderOn();
  filter->SetScale(std::clamp(magnification, 1, 8));
  filter->Update();
  vtkImageData* img = filter->GetOutput();
  int dims[3];
  img->GetDimensions(dims);
  auto* px = static_cast<unsigned char*>(img->GetScalarPointer());
  if (!px || dims[0] <= 0 || dims[1] <= 0) return {};
  QImage out(dims[0], dims[1], QImage::Format_RGB888);
  // VTK's rows run bottom-up.
  for (int y = 0; y < dims[1]; ++y)
    memcpy(out.scanLine(dims[1] - 1 - y), px + size_t(y) * dims[0] * 3, size_t(dims[0]) * 3);
  return out;
}

std::array<double, 3> VtkView::widgetToWorld(const QPointF& p) const {
  const qreal dpr = devicePixelRatioF();
  int* size = renderWindow_->GetSize();
  double dx = p.x() * dpr, dy = size[1] - p.y() * dpr;
  // Depth of the focal point keeps the answer on the plane the camera looks at.
  double fp[4];
  vtkCamera* cam = renderer_->GetActiveCamera();
  cam->GetFocalPoint(fp);
  fp[3] = 1;
  renderer_->SetWorldPoint(fp);
  renderer_->WorldToDisplay();
  double z = renderer_->GetDisplayPoint()[2];
  renderer_->SetDisplayPoint(dx, dy, z);
  renderer_->DisplayToWorld();
  double w[4];
  renderer_->GetWorldPoint(w);
  if (w[3] != 0) {
    w[0] /= w[3];
    w[1] /= w[3];
    w[2] /= w[3];
  }
  return {w[0], w[1], w[2]};
}

} // namespace jseg::ui
