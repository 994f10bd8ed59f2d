#pragma once
// The labels as smooth surfaces in the 3D view (ITK-SNAP's mesh view): one surface per label, extracted with VTK's
// discrete flying edges and smoothed, coloured and shown or hidden as the label table says. Extraction runs as a
// job whenever the painted labels change (never for a preview of K, which covers only the visible slices); colour
// and visibility edits only restyle the existing surfaces. View > Label surfaces in 3D switches them off.
#include <QObject>
#include <map>
#include <memory>

#include <vtkSmartPointer.h>

#include "core/base/Volume.h"

class vtkActor;
class vtkPolyData;

namespace jseg::ui {

class JobBridge;
class PlanesView;
class ViewerModel;

class LabelSurfaces : public QObject {
  Q_OBJECT
public:
  LabelSurfaces(ViewerModel* model, PlanesView* view, JobBridge* jobs, QObject* parent = nullptr);
  bool enabled() const { return enabled_; }
  void setEnabled(bool on);
  // Labels with a surface in the view (tests), and the points of one (0 when none).
  int surfaceCount() const { return int(actors_.size()); }
  vtkIdType pointCount(int label) const;

Q_SIGNALS:
  void surfacesReady(int count);

private:
  void rebuild();
  void restyle();
  void clearActors();
  ViewerModel* model_;
  PlanesView* view_;
  JobBridge* jobs_;
  bool enabled_ = true;
  uint64_t generation_ = 0;
  std::shared_ptr<const LabelVolume> shown_; // the labels the surfaces were made from
  std::map<int, vtkSmartPointer<vtkActor>> actors_;
};

} // namespace jseg::ui
