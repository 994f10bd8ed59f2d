#include "ui/ViewLayout.h"

#include <QEvent>
#include <QLabel>
#include <QVBoxLayout>

#include "ui/PlanesView.h"
#include "ui/SlicePanel.h"
#include "ui/SliceView.h"

namespace jseg::ui {

ViewLayout::ViewLayout(ViewerModel* model, QWidget* parent) : QSplitter(Qt::Vertical, parent) {
  setObjectName("ViewLayout");
  top_ = new QSplitter(Qt::Horizontal);
  bottom_ = new QSplitter(Qt::Horizontal);
  addWidget(top_);
  addWidget(bottom_);
  for (auto k : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal}) {
    auto* p = new SlicePanel(model, k);
    panels_[int(k)] = p;
    boxes_[int(k)] = p;
    (k == ViewKind::Sagittal ? bottom_ : top_)->addWidget(p);
  }
  auto* box3d = new QWidget;
  auto* lay3d = new QVBoxLayout(box3d);
  lay3d->setContentsMargins(1, 1, 1, 1);
  lay3d->setSpacing(1);
  auto* title3d = new QLabel("3D");
  title3d->setStyleSheet("font-weight: bold; padding-left: 3px;");
  title3d->setToolTip(
      "Double-click a view's title to maximise it (again to "
      "restore the four views)");
  planes_ = new PlanesView(model);
  lay3d->addWidget(title3d);
  lay3d->addWidget(planes_, 1);
  bottom_->addWidget(box3d);
  boxes_[k3dView] = box3d;
  // Equal quarters whatever the titles' lengths; the views may shrink to their
  // minimum.
  for (auto* s : {top_, bottom_}) s->setSizes({1000, 1000});
  setSizes({1000, 1000});
  for (auto* label : findChildren<QLabel*>()) label->installEventFilter(this);
}

bool ViewLayout::eventFilter(QObject* watched, QEvent* e) {
  if (e->type() == QEvent::MouseButtonDblClick)
    for (int i = 0; i < 4; ++i)
      if (boxes_[i]->isAncestorOf(qobject_cast<QWidget*>(watched))) {
        maximise(i);
        return true;
      }
  return QSplitter::eventFilter(watched, e);
}

void ViewLayout::maximise(int index) {
  if (index == maximised_ && index != kAllViews) index = kAllViews;
  maximised_ = index;
  for (int i = 0; i < 4; ++i) boxes_[i]->setVisible(index == kAllViews || index == i);
  top_->setVisible(index == kAllViews || index == 0 || index == 1);
  bottom_->setVisible(index == kAllViews || index == 2 || index == k3dView);
  Q_EMIT maximisedChanged(index);
}

} // namespace jseg::ui
