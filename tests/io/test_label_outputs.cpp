// ctest-links: juleseg_io opencv_core opencv_imgcodecs
// Label table, statistics, CSV and overlay PNGs: exact numbers on hand-made volumes, exact pixel
// colours, PNG files read back with OpenCV, and no partial files after errors or a cancel.
#include <QtTest>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/LabelOutputs.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

std::size_t filesIn(const std::string& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

// 4 x 3 x 2 volume, value = x + 10 y + 100 z, spacing 0.5 x 2 x 3 (voxel = 3 mm^3).
// Labels: 1 on z = 0, y = 0 (4 voxels); 2 on x = 3 everywhere (6 voxels, overriding label 1 at
// (3,0,0)); 7 at (0, 2, 1) only; the rest 0.
struct Scene {
  Volume v;
  LabelVolume l;
  Scene() {
    v.geom.dims = {4, 3, 2};
    v.geom.spacing = {0.5, 2.0, 3.0};
    v.voxels.resize(v.geom.voxelCount());
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) v.at(x, y, z) = float(x + 10 * y + 100 * z);
    l = makeLabelVolume(v.geom);
    for (int x = 0; x < 4; ++x) l.labels[l.geom.index(x, 0, 0)] = 1;
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 3; ++y) l.labels[l.geom.index(3, y, z)] = 2;
    l.labels[l.geom.index(0, 2, 1)] = 7;
  }
};

} // namespace

class TestLabelOutputs : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void defaultTableIsDistinguishable();
  void statisticsAreExact();
  void statisticsRejectOtherGrid();
  void jsonRoundTrip();
  void jsonRejectsBadTables();
  void csvIsExact();
  void overlayColoursAndOrientation();
  void overlayWindowAndOpacity();
  void pngMatchesRenderedSlice();
  void pngSeriesWritesEverySlice();
  void pngSeriesCancelLeavesNothing();
  void atomicFileLeavesNoTempAfterException();
};

void TestLabelOutputs::defaultTableIsDistinguishable() {
  const auto table = defaultLabelTable(30);
  QCOMPARE(table.size(), std::size_t(30));
  QCOMPARE(table.front().id, 1);
  QCOMPARE(table.front().name, std::string("Region 1"));
  QCOMPARE(table[11].name, std::string("Region 12"));
  std::set<std::array<uint8_t, 3>> first20;
  for (int i = 0; i < 20; ++i) {
    QVERIFY(table[i].visible);
    first20.insert(table[i].rgb);
    // Every colour stands apart from every other of the first 20 (sum of channel differences).
    for (int j = 0; j < i; ++j) {
      int d = 0;
      for (int k = 0; k < 3; ++k) d += std::abs(int(table[i].rgb[k]) - int(table[j].rgb[k]));
      QVERIFY2(d >= 60, qPrintable(QString("labels %1 and %2 too similar").arg(i + 1).arg(j + 1)));
    }
  }
  QCOMPARE(first20.size(), std::size_t(20));
  QCOMPARE(table[0].rgb, (std::array<uint8_t, 3>{230, 25, 75}));  // label 1 is red in every run
  // The palette repeats instead of running out.
  const auto big = defaultLabelTable(100);
  QCOMPARE(big[99].id, 100);
  QVERIFY(defaultLabelTable(0).empty());
}

void TestLabelOutputs::statisticsAreExact() {
  Scene s;
  const auto stats = computeLabelStatistics(s.v, s.l);
  QCOMPARE(stats.size(), std::size_t(3));
  // Label 1: x = 0..2 at y = z = 0 -> values 0, 1, 2: mean 1, population std sqrt(2/3).
  QCOMPARE(stats[0].id, 1);
  QCOMPARE(stats[0].voxels, std::size_t(3));
  QCOMPARE(stats[0].volumeMm3, 9.0);
  QCOMPARE(stats[0].meanIntensity, 1.0);
  QVERIFY(std::fabs(stats[0].stdIntensity - std::sqrt(2.0 / 3.0)) < 1e-12);
  // Label 2: 3 + {0, 10, 20} + {0, 100}: mean 63, deviations {-60,-50,-40,40,50,60}: std sqrt(7700/3).
  QCOMPARE(stats[1].id, 2);
  QCOMPARE(stats[1].voxels, std::size_t(6));
  QCOMPARE(stats[1].volumeMm3, 18.0);
  QCOMPARE(stats[1].meanIntensity, 63.0);
  QVERIFY(std::fabs(stats[1].stdIntensity - std::sqrt(7700.0 / 3.0)) < 1e-9);
  // Label 7: one voxel of value 120.
  QCOMPARE(stats[2].id, 7);
  QCOMPARE(stats[2].voxels, std::size_t(1));
  QCOMPARE(stats[2].volumeMm3, 3.0);
  QCOMPARE(stats[2].meanIntensity, 120.0);
  QCOMPARE(stats[2].stdIntensity, 0.0);

  // Double accumulation: a large offset does not swamp a small spread.
  Volume big;
  big.geom.dims = {2, 1, 1};
  big.voxels = {100000.f, 100002.f};
  LabelVolume bl = makeLabelVolume(big.geom);
  bl.labels = {1, 1};
  const auto bs = computeLabelStatistics(big, bl);
  QCOMPARE(bs[0].meanIntensity, 100001.0);
  QCOMPARE(bs[0].stdIntensity, 1.0);
}

void TestLabelOutputs::statisticsRejectOtherGrid() {
  Scene s;
  LabelVolume other = makeLabelVolume(Geometry{{4, 3, 3}});
  QVERIFY_THROWS_EXCEPTION(InputError, computeLabelStatistics(s.v, other));
}

void TestLabelOutputs::jsonRoundTrip() {
  auto table = defaultLabelTable(3);
  table[1].name = "Invasive \"carcinoma\", ünïcode";
  table[1].rgb = {1, 2, 3};
  table[2].visible = false;
  table[2].id = 40;
  const std::string path = test::tempDir("labels-json") + "/labels.json";
  writeLabelTableJson(table, path);
  const auto back = readLabelTableJson(path);
  QCOMPARE(back.size(), table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    QCOMPARE(back[i].id, table[i].id);
    QCOMPARE(back[i].name, table[i].name);
    QCOMPARE(back[i].rgb, table[i].rgb);
    QCOMPARE(back[i].visible, table[i].visible);
  }
  const std::string text = jseg::test::readFileBytes(path);
  QVERIFY(text.find("\"labels\"") != std::string::npos);
  QVERIFY(text.find("\"rgb\"") != std::string::npos);
  QVERIFY(text.find("\"visible\": false") != std::string::npos);
}

void TestLabelOutputs::jsonRejectsBadTables() {
  const std::string dir = test::tempDir("labels-badjson");
  const char* bad[] = {"not json", "{\"labels\": 5}", "[1,2]", "{\"labels\":[{\"id\":0}]}",
                       "{\"labels\":[{\"id\":1,\"rgb\":[1,2]}]}", "{\"labels\":[{\"id\":1,\"rgb\":[1,2,300]}]}",
                       "{\"labels\":[{\"id\":\"one\"}]}"};
  for (const char* text : bad) {
    writeFileAtomically(dir + "/t.json", text);
    QVERIFY_THROWS_EXCEPTION(InputError, readLabelTableJson(dir + "/t.json"));
  }
  QVERIFY_THROWS_EXCEPTION(InputError, readLabelTableJson(dir + "/missing.json"));
  // Missing optional fields take defaults.
  writeFileAtomically(dir + "/t.json", "{\"labels\":[{\"id\":2}]}");
  const auto t = readLabelTableJson(dir + "/t.json");
  QCOMPARE(t.size(), std::size_t(1));
  QCOMPARE(t[0].name, std::string("Region 2"));
  QCOMPARE(t[0].rgb, defaultLabelTable(2)[1].rgb);
  QVERIFY(t[0].visible);
}

void TestLabelOutputs::csvIsExact() {
  Scene s;
  auto table = defaultLabelTable(2);
  table[1].name = "Tumour, invasive";
  const std::string path = test::tempDir("labels-csv") + "/stats.csv";
  writeStatisticsCsv(computeLabelStatistics(s.v, s.l), table, path);
  QCOMPARE(QString::fromStdString(jseg::test::readFileBytes(path)),
           QString("id,name,voxels,volume_mm3,mean_intensity,std_intensity\n"
                   "1,Region 1,3,9.000,1.0000,0.8165\n"
                   "2,\"Tumour, invasive\",6,18.000,63.0000,50.6623\n"
                   "7,Region 7,1,3.000,120.0000,0.0000\n"));
}

void TestLabelOutputs::overlayColoursAndOrientation() {
  Scene s;
  auto table = defaultLabelTable(7);
  OverlayStyle style;
  style.opacity = 1.0;
  style.windowLo = 0;
  style.windowHi = 255;  // grey = value, exactly
  int w = 0, h = 0;

  auto px = [&](const std::vector<uint8_t>& img, int col, int row) {
    const std::size_t i = (std::size_t(row) * w + col) * 3;
    return std::array<uint8_t, 3>{img[i], img[i + 1], img[i + 2]};
  };
  auto grey = [](int g) { return std::array<uint8_t, 3>{uint8_t(g), uint8_t(g), uint8_t(g)}; };

  // Axis Z: pixel (c, r) = voxel (c, r, slice).
  auto img = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 0, style, w, h);
  QCOMPARE(w, 4);
  QCOMPARE(h, 3);
  QCOMPARE(img.size(), std::size_t(4 * 3 * 3));
  QCOMPARE(px(img, 0, 0), table[0].rgb);  // label 1
  QCOMPARE(px(img, 3, 2), table[1].rgb);  // label 2
  QCOMPARE(px(img, 1, 1), grey(11));      // label 0 shows the grey value x + 10 y
  QCOMPARE(px(img, 2, 2), grey(22));
  img = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 1, style, w, h);
  QCOMPARE(px(img, 0, 2), table[6].rgb);  // label 7 at (0, 2, 1)
  QCOMPARE(px(img, 1, 0), grey(101));

  // Axis Y: width = nx, height = nz, row 0 = last z.
  img = renderOverlaySlice(s.v, s.l, table, SliceAxis::Y, 2, style, w, h);
  QCOMPARE(w, 4);
  QCOMPARE(h, 2);
  QCOMPARE(px(img, 0, 0), table[6].rgb);  // (0, 2, z = 1)
  QCOMPARE(px(img, 1, 0), grey(121));     // (1, 2, 1)
  QCOMPARE(px(img, 1, 1), grey(21));      // (1, 2, 0)

  // Axis X: width = ny, height = nz, row 0 = last z.
  img = renderOverlaySlice(s.v, s.l, table, SliceAxis::X, 1, style, w, h);
  QCOMPARE(w, 3);
  QCOMPARE(h, 2);
  QCOMPARE(px(img, 2, 0), grey(121));     // (1, 2, 1)
  QCOMPARE(px(img, 0, 1), table[0].rgb);  // (1, 0, 0) label 1
  QCOMPARE(px(img, 1, 1), grey(11));      // (1, 1, 0)

  // Invisible labels are transparent; ids missing from the table use the default colour.
  table[1].visible = false;
  table.resize(2);
  img = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 1, style, w, h);
  QCOMPARE(px(img, 3, 0), grey(103));
  QCOMPARE(px(img, 0, 2), defaultLabelTable(7)[6].rgb);

  QVERIFY_THROWS_EXCEPTION(InputError, renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 2, style, w, h));
  QVERIFY_THROWS_EXCEPTION(InputError, renderOverlaySlice(s.v, s.l, table, SliceAxis::X, -1, style, w, h));
}

void TestLabelOutputs::overlayWindowAndOpacity() {
  Scene s;
  const auto table = defaultLabelTable(7);
  OverlayStyle style;  // window lo == hi: the volume's range 0..123
  style.opacity = 0.5;
  int w = 0, h = 0;
  const auto img = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 1, style, w, h);
  // (1, 1, 1) = 111 -> 111 / 123 * 255 = 230.12 -> 230.
  QCOMPARE(int(img[(1 * 4 + 1) * 3]), 230);
  // (3, 0, 1) = 103, label 2 (60, 180, 75) at 50 %: grey 213.54 -> (136.77, 196.77, 144.27).
  const std::size_t i = (0 * 4 + 3) * 3;
  QCOMPARE(int(img[i]), 137);
  QCOMPARE(int(img[i + 1]), 197);
  QCOMPARE(int(img[i + 2]), 144);

  // An explicit window clamps: [100, 110] makes everything below 100 black and above 110 white.
  OverlayStyle win;
  win.windowLo = 100;
  win.windowHi = 110;
  win.opacity = 0;
  const auto img2 = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 1, win, w, h);
  QCOMPARE(int(img2[(0 * 4 + 2) * 3]), 51);   // 102 -> 0.2 * 255
  QCOMPARE(int(img2[(1 * 4 + 0) * 3]), 255);  // 110
  QCOMPARE(int(img2[(2 * 4 + 1) * 3]), 255);  // 121 clamps
  const auto img3 = renderOverlaySlice(s.v, s.l, table, SliceAxis::Z, 0, win, w, h);
  QCOMPARE(int(img3[(1 * 4 + 1) * 3]), 0);    // 11 clamps
}

void TestLabelOutputs::pngMatchesRenderedSlice() {
  Scene s;
  const auto table = defaultLabelTable(7);
  OverlayStyle style;
  style.opacity = 0.6;
  const std::string dir = test::tempDir("labels-png");
  for (SliceAxis axis : {SliceAxis::X, SliceAxis::Y, SliceAxis::Z}) {
    const std::string path = dir + "/slice.png";
    writeOverlayPng(s.v, s.l, table, axis, 1, style, path);
    int w = 0, h = 0;
    const auto rgb = renderOverlaySlice(s.v, s.l, table, axis, 1, style, w, h);
    const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    QCOMPARE(bgr.cols, w);
    QCOMPARE(bgr.rows, h);
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        const cv::Vec3b p = bgr.at<cv::Vec3b>(r, c);
        const std::size_t i = (std::size_t(r) * w + c) * 3;
        QCOMPARE(p[2], rgb[i]);
        QCOMPARE(p[1], rgb[i + 1]);
        QCOMPARE(p[0], rgb[i + 2]);
      }
  }
  QCOMPARE(filesIn(dir), std::size_t(1));
}

void TestLabelOutputs::pngSeriesWritesEverySlice() {
  Scene s;
  const auto table = defaultLabelTable(7);
  const std::string dir = test::tempDir("labels-series") + "/out/sub";  // created on demand
  double last = -1;
  TaskContext ctx;
  ctx.progress = [&](double f, const std::string&) { last = f; };
  QCOMPARE(writeOverlayPngs(s.v, s.l, table, SliceAxis::X, OverlayStyle{}, dir, "sag", &ctx), 4);
  QCOMPARE(last, 1.0);
  QCOMPARE(filesIn(dir), std::size_t(4));
  for (int i = 0; i < 4; ++i) {
    const std::string p = dir + "/sag_000" + std::to_string(i) + ".png";
    const cv::Mat m = cv::imread(p, cv::IMREAD_COLOR);
    QCOMPARE(m.cols, 3);
    QCOMPARE(m.rows, 2);
  }
  // Slice 3 of axis X is all label 2 at opacity 0.5: (3, 0, 0) value 3 -> grey 6.22 -> red
  // channel 0.5 * 6.22 + 0.5 * 60 = 33.1.
  const cv::Mat m = cv::imread(dir + "/sag_0003.png", cv::IMREAD_COLOR);
  QCOMPARE(int(m.at<cv::Vec3b>(1, 0)[2]), 33);
}

void TestLabelOutputs::pngSeriesCancelLeavesNothing() {
  Scene s;
  const auto table = defaultLabelTable(7);
  const std::string dir = test::tempDir("labels-cancel");
  auto token = std::make_shared<CancelToken>();
  TaskContext ctx;
  ctx.cancel = token;
  int calls = 0;
  ctx.progress = [&](double, const std::string&) {
    if (++calls == 3) token->cancel();  // after two slices are on disk
  };
  QVERIFY_THROWS_EXCEPTION(CancelledError,
                           writeOverlayPngs(s.v, s.l, table, SliceAxis::X, OverlayStyle{}, dir, "c", &ctx));
  QCOMPARE(calls, 3);
  QCOMPARE(filesIn(dir), std::size_t(0));

  // Mismatched grids are refused before anything is written.
  LabelVolume other = makeLabelVolume(Geometry{{2, 2, 2}});
  QVERIFY_THROWS_EXCEPTION(InputError, writeOverlayPngs(s.v, other, table, SliceAxis::Z, OverlayStyle{}, dir, "c"));
  QCOMPARE(filesIn(dir), std::size_t(0));
}

void TestLabelOutputs::atomicFileLeavesNoTempAfterException() {
  const std::string dir = test::tempDir("labels-atomic");
  const std::string target = dir + "/out.csv";
  try {
    AtomicFile f(target);
    std::ofstream(f.tempPath()) << "half";
    QCOMPARE(filesIn(dir), std::size_t(1));  // the temporary file exists while writing
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  QCOMPARE(filesIn(dir), std::size_t(0));
  QVERIFY(!fs::exists(target));
  // An existing target survives a failed rewrite untouched.
  writeFileAtomically(target, "old");
  try {
    AtomicFile f(target);
    std::ofstream(f.tempPath()) << "new";
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  QCOMPARE(jseg::test::readFileBytes(target), std::string("old"));
  QCOMPARE(filesIn(dir), std::size_t(1));
}

QTEST_GUILESS_MAIN(TestLabelOutputs)
#include "test_label_outputs.moc"
