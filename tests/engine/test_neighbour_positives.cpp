// ctest-links: juleseg_core torch
// ctest-lock: libtorch_cores
// neighbour_positives: every training patch gets a partner cut a few voxels away (inside the window and the
// region, the whole patch inside the volume), standardised with the patches' own statistics; JULE trains on the
// pairs, and with the parameter at 0 the patches and the model are exactly those of JULE without it.
#include <QtTest>

#include <cmath>
#include <cstdlib>

#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/pipeline/SegmentationPipeline.h"

using namespace jseg;

namespace {

// Every voxel's value encodes its position: x + 100 y + 10000 z.
Volume positionVolume(int n) {
  Volume v;
  v.geom.dims = {n, n, n};
  v.voxels.resize(v.geom.voxelCount());
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) v.at(x, y, z) = float(x + 100 * y + 10000 * z);
  return v;
}

std::array<int64_t, 3> decode(double value) {
  const int64_t v = std::llround(value);
  return {v % 100, (v / 100) % 100, v / 10000};
}

Parameters params(int radius, bool standardize) {
  Parameters p = Parameters::preset("fast");
  p.set("patch_size", 5);
  p.set("patches", 300);
  p.set("neighbour_positives", radius);
  p.set("standardize_patches", standardize);
  p.set("seed", 3);
  return p;
}

} // namespace

class TestNeighbourPositives : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void partnersLieNearbyInsideTheRegion() {
    const Volume v = positionVolume(30);
    Mask roi;
    roi.geom = v.geom;
    roi.inside.assign(v.geom.voxelCount(), 0);
    for (int z = 8; z < 22; ++z)
      for (int y = 8; y < 22; ++y)
        for (int x = 8; x < 22; ++x) roi.inside[v.geom.index(x, y, z)] = 1;
    const float lo = 0, hi = 1e9f;
    const PatchSet ps = sampleTrainingPatches({&v}, {&v}, params(3, false), lo, hi, &roi, nullptr);
    QCOMPARE(ps.neighbours.size(), ps.data.size());
    const std::size_t centre = (2 * 5 + 2) * 5 + 2;  // voxel (2, 2, 2) of a 5^3 patch
    int moved = 0;
    for (int i = 0; i < ps.count; ++i) {
      const auto a = ps.centres[std::size_t(i)];
      const auto b = decode(ps.neighbours[std::size_t(i) * ps.patchValues() + centre]);
      int64_t far = 0;
      for (int ax = 0; ax < 3; ++ax) far = std::max<int64_t>(far, std::abs(b[ax] - a[ax]));
      QVERIFY2(far <= 3, "a partner lies further than neighbour_positives voxels");
      QVERIFY(roi.inside[v.geom.index(b[0], b[1], b[2])]);
      moved += far > 0;
      // The partner is exactly the patch cut at its centre.
      std::vector<float> expect(ps.patchValues());
      PatchSampler::extract(v, b, 5, expect.data());
      QVERIFY(std::equal(expect.begin(), expect.end(), ps.neighbours.begin() + std::ptrdiff_t(i) * std::ptrdiff_t(ps.patchValues())));
    }
    QVERIFY(moved >= ps.count * 9 / 10);  // a 14^3 region leaves almost every patch a partner elsewhere
  }

  void partnersShareThePatchesStandardisation() {
    const Volume v = positionVolume(24);
    const PatchSet raw = sampleTrainingPatches({&v}, {&v}, params(2, false), 0, 1e9f, nullptr, nullptr);
    const PatchSet st = sampleTrainingPatches({&v}, {&v}, params(2, true), 0, 1e9f, nullptr, nullptr);
    QVERIFY(st.standardized);
    for (std::size_t k = 0; k < raw.neighbours.size(); k += 997)
      QVERIFY(std::abs(st.neighbours[k] - float((raw.neighbours[k] - st.mean) / st.std)) < 1e-3f);
  }

  void offLeavesThePatchesAlone() {
    const Volume v = positionVolume(24);
    const PatchSet off = sampleTrainingPatches({&v}, {&v}, params(0, true), 0, 1e9f, nullptr, nullptr);
    const PatchSet on = sampleTrainingPatches({&v}, {&v}, params(2, true), 0, 1e9f, nullptr, nullptr);
    QVERIFY(off.neighbours.empty());
    QVERIFY(off.data == on.data);  // the partners are drawn after the patches, from their own generator
  }

  void trainsOnThePairs() {
    Volume v = positionVolume(24);
    for (auto& x : v.voxels) x = std::fmod(x, 37.f);  // some structure for the network
    Parameters p = params(2, true);
    p.set("network", "local3d");
    p.set("patch_size", 9);
    p.set("patches", 200);
    p.set("clusters", 10);
    p.set("epochs_per_period", 1);
    p.set("threads", 2);
    const PatchSet ps = sampleTrainingPatches({&v}, {&v}, p, 0, 1e9f, nullptr, nullptr);
    const JuleResult with = trainJuleNetworks(ps, p, {}, nullptr);
    PatchSet alone = ps;
    alone.neighbours.clear();
    const JuleResult without = trainJuleNetworks(alone, p, {}, nullptr);
    QVERIFY(with.epochs > 0);
    // The partners change what the network learns.
    const auto a = with.model.network->parameters().front().flatten(), b = without.model.network->parameters().front().flatten();
    QVERIFY(!a.equal(b));
  }
};

QTEST_APPLESS_MAIN(TestNeighbourPositives)
#include "test_neighbour_positives.moc"
