#include "ui/LabelSurfaces.h"

#include <set>

#include <vtkActor.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkUnsignedShortArray.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "ui/JobBridge.h"
#include "ui/PlanesView.h"
#include "ui/ViewerModel.h"

namespace jseg::ui {

namespace {

// One label's surface: flying edges on the label's voxels, windowed-sinc smoothing (the voxel staircase would
// otherwise dominate), normals for shading. Runs on a worker thread on its own image over the shared labels.
vtkSmartPointer<vtkPolyData> surfaceOf(vtkImageData* image, int label) {
  auto edges = vtkSmartPointer<vtkDiscreteFlyingEdges3D>::New();
  edges->SetInputData(image);
  edges->SetValue(0, label);
  edges->ComputeNormalsOff();
  edges->ComputeGradientsOff();
  edges->ComputeScalarsOff();
  auto smooth = vtkSmartPointer<vtkWindowedSincPolyDataFilter>::New();
  smooth->SetInputConnection(edges->GetOutputPort());
  smooth->SetNumberOfIterations(15);
  smooth->SetPassBand(0.05);
  smooth->BoundarySmoothingOff();
  smooth->NonManifoldSmoothingOn();
  smooth->NormalizeCoordinatesOn();
  auto normals = vtkSmartPointer<vtkPolyDataNormals>::New();
  normals->SetInputConnection(smooth->GetOutputPort());
  normals->SplittingOff();
  normals->Update();
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->ShallowCopy(normals->GetOutput());
  return out;
}

} // namespace

LabelSurfaces::LabelSurfaces(ViewerModel* model, PlanesView* view, JobBridge* jobs, QObject* parent)
    : QObject(parent), model_(model), view_(view), jobs_(jobs) {
  connect(model, &ViewerModel::labelsChanged, this, &LabelSurfaces::rebuild);
  connect(model, &ViewerModel::volumeChanged, this, &LabelSurfaces::rebuild);
  connect(model, &ViewerModel::labelStyleChanged, this, &LabelSurfaces::restyle);
}

void LabelSurfaces::setEnabled(bool on) {
  if (on == enabled_) return;
  enabled_ = on;
  shown_.reset();
  rebuild();
}

vtkIdType LabelSurfaces::pointCount(int label) const {
  auto it = actors_.find(label);
  if (it == actors_.end()) return 0;
  auto* data = vtkPolyData::SafeDownCast(it->second->GetMapper()->GetInput());
  return data ? data->GetNumberOfPoints() : 0;
}

void LabelSurfaces::clearActors() {
  for (auto& [label, actor] : actors_) view_->renderer()->RemoveActor(actor);
  actors_.clear();
  view_->requestRender();
}

void LabelSurfaces::rebuild() {
  const std::shared_ptr<const LabelVolume> labels =
      enabled_ && model_->hasVolume() && !model_->labelsArePreview() ? model_->labelsPtr() : nullptr;
  if (labels == shown_ && labels) return restyle();
  const uint64_t generation = ++generation_;
  shown_ = labels;
  clearActors();
  if (!labels || !model_->labelImage()) return;
  const Geometry g = labels->geom;
  const std::array<double, 3> spacing{g.spacing[0], g.spacing[1], g.spacing[2]};
  auto surfaces = std::make_shared<std::map<int, vtkSmartPointer<vtkPolyData>>>();
  JobOptions jo;
  jo.name = "3D label surfaces";
  jo.coalesceKey = "label-surfaces";
  jobs_->submit(jo,
                [labels, spacing, surfaces](JobContext& ctx) {
                  // The job's own image over the immutable labels: the views' pipelines are never touched off the GUI
                  // thread.
                  auto image = vtkSmartPointer<vtkImageData>::New();
                  const Geometry& geom = labels->geom;
                  image->SetDimensions(int(geom.dims[0]), int(geom.dims[1]), int(geom.dims[2]));
                  image->SetSpacing(spacing.data());
                  image->SetOrigin(0, 0, 0);
                  auto array = vtkSmartPointer<vtkUnsignedShortArray>::New();
                  array->SetArray(const_cast<uint16_t*>(labels->labels.data()), vtkIdType(geom.voxelCount()), 1);
                  image->GetPointData()->SetScalars(array);
                  const std::set<int> present(labels->labels.begin(), labels->labels.end());
                  int done = 0;
                  for (int label : present) {
                    ctx.checkCancel();
                    ctx.progress(double(done++) / present.size(), "label " + std::to_string(label));
                    if (label == 0) continue;
                    auto surface = surfaceOf(image, label);
                    if (surface->GetNumberOfPoints() > 0) (*surfaces)[label] = surface;
                  }
                },
                {[this, generation, surfaces] {
                   if (generation != generation_) return; // the labels changed again meanwhile
                   for (auto& [label, surface] : *surfaces) {
                     auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
                     mapper->SetInputData(surface);
                     mapper->ScalarVisibilityOff();
                     auto actor = vtkSmartPointer<vtkActor>::New();
                     actor->SetMapper(mapper);
                     actor->GetProperty()->SetSpecular(0.2);
                     view_->renderer()->AddActor(actor);
                     actors_[label] = actor;
                   }
                   restyle();
                   Q_EMIT surfacesReady(int(actors_.size()));
                 },
                 [](const QString&) {}, [] {}});
}

void LabelSurfaces::restyle() {
  const auto& table = model_->labelTable();
  for (auto& [label, actor] : actors_) {
    const LabelInfo* info = nullptr;
    for (const auto& t : table)
      if (t.id == label) info = &t;
    actor->SetVisibility(info ? info->visible : true);
    if (info) actor->GetProperty()->SetColor(info->rgb[0] / 255.0, info->rgb[1] / 255.0, info->rgb[2] / 255.0);
  }
  view_->requestRender();
}

} // namespace jseg::ui
