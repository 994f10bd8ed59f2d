// ctest-links: juleseg_base
#include <QtTest>

#include "core/base/Errors.h"
#include "core/params/ParameterSchema.h"

using namespace jseg;

class TestParameters : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void defaultsFollowThePaper() {
    Parameters p;
    QCOMPARE(p.getInt("patch_size"), 27);
    QCOMPARE(p.getInt("patches"), 10000);
    QCOMPARE(p.getInt("clusters"), 100);
    QCOMPARE(p.getInt("stride"), 5);
    QCOMPARE(p.getInt("k"), 3);
    QCOMPARE(p.getString("network"), std::string("paper3d"));
  }
  void presetsOverrideDefaults() {
    Parameters fast = Parameters::preset("fast");
    QVERIFY(fast.getInt("patches") < 10000);
    QCOMPARE(fast.getInt("k"), 3);
    QVERIFY_THROWS_EXCEPTION(InputError, Parameters::preset("nonsense"));
    // texture: fast's training on small patches, a label per voxel and smoothed features.
    Parameters texture = Parameters::preset("texture");
    QCOMPARE(texture.getString("network"), std::string("local3d"));
    QCOMPARE(texture.getInt("patch_size"), 9);
    QCOMPARE(texture.getInt("stride"), 1);
    QCOMPARE(texture.getInt("feature_smoothing"), 3);
    QCOMPARE(texture.getInt("patches"), fast.getInt("patches"));
    QCOMPARE(Parameters().getInt("feature_smoothing"), 0);  // the paper clusters the features as they are
    QVERIFY_THROWS_EXCEPTION(InputError, texture.set("feature_smoothing", -1));
  }
  void rangesAreEnforced() {
    Parameters p;
    QVERIFY_THROWS_EXCEPTION(InputError, p.set("k", 1));
    QVERIFY_THROWS_EXCEPTION(InputError, p.setFromString("k", "1"));
    QVERIFY_THROWS_EXCEPTION(InputError, p.setFromString("k", "three"));
    QVERIFY_THROWS_EXCEPTION(InputError, p.setFromString("eta", "1.5"));
    QVERIFY_THROWS_EXCEPTION(InputError, p.setFromString("device", "tpu"));
    QVERIFY_THROWS_EXCEPTION(InputError, p.set("no_such_parameter", 3));
    p.setFromString("k", "4");
    QCOMPARE(p.getInt("k"), 4);
    p.setFromString("final_pass", "false");
    QCOMPARE(p.getBool("final_pass"), false);
  }
  void crossChecks() {
    Parameters p;
    p.set("threshold_lo", 10.0);
    p.set("threshold_hi", 5.0);
    QVERIFY_THROWS_EXCEPTION(InputError, p.validate());
    Parameters q;
    q.set("stride", 30);
    QVERIFY_THROWS_EXCEPTION(InputError, q.validate());
  }
  void jsonRoundTrip() {
    Parameters p = Parameters::preset("fast");
    p.set("seed", 42);
    Parameters back = Parameters::fromJson(p.toJson());
    QCOMPARE(back.toJson(), p.toJson());
    QCOMPARE(back.getInt("seed"), 42);
  }
  void everySpecHasHelpAndValidDefault() {
    for (const auto& s : parameterSchema()) {
      QVERIFY2(!s.help.empty(), s.name.c_str());
      Parameters p;
      p.set(s.name, s.defaultValue);  // the default itself must pass validation
      QVERIFY(s.cliFlag().rfind("--", 0) == 0);
    }
  }
};

QTEST_GUILESS_MAIN(TestParameters)
#include "test_parameters.moc"
