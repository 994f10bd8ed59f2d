#include "core/segment/FeatureSmoothing.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base/Errors.h"
#include "core/segment/KMeans.h"  // resolveThreadCount

namespace jseg {

namespace {

// Running box sum of half-width r along one axis of a dense lattice, in place; `line` holds one lattice line.
void boxAlongAxis(std::vector<float>& v, std::vector<float>& line, const std::array<int64_t, 3>& dims, int axis,
                  int r) {
  const int64_t n = dims[std::size_t(axis)];
  const int64_t step = axis == 0 ? 1 : axis == 1 ? dims[0] : dims[0] * dims[1];
  const int64_t a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;  // the two other axes
  const int64_t other1 = dims[std::size_t(a1)], other2 = dims[std::size_t(a2)];
  const int64_t step1 = a1 == 0 ? 1 : a1 == 1 ? dims[0] : dims[0] * dims[1];
  const int64_t step2 = a2 == 0 ? 1 : a2 == 1 ? dims[0] : dims[0] * dims[1];
  line.resize(std::size_t(n));
  for (int64_t q = 0; q < other2; ++q)
    for (int64_t p = 0; p < other1; ++p) {
      float* base = v.data() + q * step2 + p * step1;
      for (int64_t i = 0; i < n; ++i) line[std::size_t(i)] = base[i * step];
      // Sums in double: a long line of small values must not lose the last ones.
      double sum = 0;
      for (int64_t i = 0; i < std::min<int64_t>(r, n); ++i) sum += line[std::size_t(i)];
      for (int64_t i = 0; i < n; ++i) {
        if (i + r < n) sum += line[std::size_t(i + r)];
        if (i - r - 1 >= 0) sum -= line[std::size_t(i - r - 1)];
        base[i * step] = float(sum);
      }
    }
}

void boxFilter(std::vector<float>& v, std::vector<float>& line, const std::array<int64_t, 3>& dims,
               const std::array<int, 3>& r) {
  for (int axis = 0; axis < 3; ++axis)
    if (r[std::size_t(axis)] > 0) boxAlongAxis(v, line, dims, axis, r[std::size_t(axis)]);
}

bool none(const std::array<int, 3>& r) { return r[0] == 0 && r[1] == 0 && r[2] == 0; }

}  // namespace

// Lattice steps per axis: the stride differs along z for 2D patches (one slice thick, z stride 1); an axis
// with a single lattice point has nothing to average.
std::array<int, 3> FeatureSmoothing::latticeRadii(const FeatureGrid& grid) const {
  std::array<int, 3> r{};
  for (std::size_t a = 0; a < 3; ++a) r[a] = grid.latticeDims[a] > 1 ? latticeRadius(grid.stride[a]) : 0;
  return r;
}

FeatureSmoothing::FeatureSmoothing(int radiusVoxels, int threads) : radius_(radiusVoxels), threads_(threads) {
  if (radiusVoxels < 0) throw InputError("feature smoothing radius must be 0 or more voxels");
}

int FeatureSmoothing::latticeRadius(int stride) const { return stride > 0 ? radius_ / stride : 0; }

uint64_t FeatureSmoothing::workingBytes(const FeatureGrid& grid) const {
  if (none(latticeRadii(grid)) || grid.count() == 0) return 0;
  // The point counts and one lattice-sized column per thread.
  return uint64_t(grid.latticeCount()) * sizeof(float) * uint64_t(1 + resolveThreadCount(threads_));
}

void FeatureSmoothing::apply(FeatureGrid& grid, const TaskContext* ctx) const {
  const std::array<int, 3> r = latticeRadii(grid);
  const std::size_t n = grid.count();
  if (none(r) || n == 0) return;
  const std::size_t lattice = grid.latticeCount();
  const auto dims = grid.latticeDims;

  // How many points each box holds: the denominator of the mean.
  std::vector<float> counts(lattice, 0.f), line;
  for (std::size_t i = 0; i < n; ++i) counts[std::size_t(grid.lattice[i])] = 1.f;
  boxFilter(counts, line, dims, r);

  const int columns = grid.hasIntensityColumn ? grid.dim - std::max(1, grid.intensityColumns) : grid.dim;
  const std::size_t dim = std::size_t(grid.dim);
  const int workers = std::max(1, std::min(resolveThreadCount(threads_), columns));
  std::atomic<int> next{0}, done{0};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto work = [&](bool reporter) {
    std::vector<float> dense(lattice), buf;
    try {
      for (int c = next++; c < columns; c = next++) {
        checkCancel(ctx);
        std::fill(dense.begin(), dense.end(), 0.f);
        for (std::size_t i = 0; i < n; ++i) dense[std::size_t(grid.lattice[i])] = grid.features[i * dim + std::size_t(c)];
        boxFilter(dense, buf, dims, r);
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t at = std::size_t(grid.lattice[i]);
          grid.features[i * dim + std::size_t(c)] = dense[at] / counts[at];
        }
        const int finished = ++done;
        if (reporter) reportProgress(ctx, double(finished) / columns, "smoothing features");
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failureMutex);
      if (!failure) failure = std::current_exception();
      next = columns;  // the others stop at their next column
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

} // namespace jseg
