// ctest-links: juleseg_base
#include <QtTest>

#include <algorithm>
#include <set>

#include "core/base/Errors.h"
#include "core/params/ParameterSchema.h"

using namespace jseg;

namespace {
// Every parameter moved off its default to a value no other parameter of its type holds, so a typed field that
// read another parameter's key would show. Not validate()d (the threshold ends up [0, 1.5e38]).
void setAllOffDefault(Parameters& p) {
  std::set<double> used;
  for (const auto& s : parameterSchema()) {
    switch (s.type) {
      case ParamType::Int: {
        long long v = s.defaultValue.get<long long>() + 2;
        while (used.count(double(v))) v += 2;
        QVERIFY2(v <= s.max, s.name.c_str());
        used.insert(double(v));
        p.set(s.name, v);
        break;
      }
      case ParamType::Double: {
        const double def = s.defaultValue.get<double>();
        double v = (s.min + s.max) / 2;
        while (v == def || used.count(v)) v = (v + s.max) / 2;
        used.insert(v);
        p.set(s.name, v);
        break;
      }
      case ParamType::Bool: p.set(s.name, !s.defaultValue.get<bool>()); break;
      case ParamType::Choice: {
        const auto other = std::find_if(s.choices.rbegin(), s.choices.rend(),
                                        [&](const std::string& c) { return c != s.defaultValue.get<std::string>(); });
        p.set(s.name, *other);
        break;
      }
    }
  }
}
} // namespace

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
    QCOMPARE(texture.getInt("feature_smoothing"), 8);
    QCOMPARE(texture.getInt("feature_whitening"), 16);
    QCOMPARE(texture.getInt("networks"), 3);
    QCOMPARE(texture.getBool("feature_intensity"), true);  // the added channels' voxel intensities, not the first's
    QCOMPARE(texture.getString("intensity_channels"), std::string("added"));
    QCOMPARE(texture.getDouble("intensity_weight"), 1.5);
    QCOMPARE(texture.getString("network_channels"), std::string("first"));  // networks learn the first volume's texture
    QCOMPARE(Parameters().getString("network_channels"), std::string("all"));  // the paper's input: every channel
    QCOMPARE(Parameters::preset("tissue").getString("network_channels"), std::string("all"));
    QCOMPARE(Parameters::preset("tissue").getString("intensity_channels"), std::string("all"));
    QCOMPARE(Parameters::preset("paper").getInt("feature_whitening"), 0);  // off in the paper preset
    QCOMPARE(texture.getInt("patches"), fast.getInt("patches"));
    QCOMPARE(texture.getInt("epochs_per_period"), 10);  // twice the quick presets' 5 (issue 13, pat0006's seed 3)
    QCOMPARE(fast.getInt("epochs_per_period"), 5);
    QCOMPARE(Parameters::preset("tissue").getInt("epochs_per_period"), 5);
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
  void typedValuesAreTheNamedValues() {
    const ParameterValues defaults;
    QVERIFY(Parameters().values() == defaults);  // the struct's defaults are the schema's
    Parameters p;
    setAllOffDefault(p);
    const ParameterValues v = p.values();
    int checked = 0;
#define JSEG_CHECK(name, field, getter)                                                                      \
  QVERIFY2(v.field == p.getter(name), name);                                                                 \
  QVERIFY2(v.field != defaults.field, name);                                                                 \
  ++checked;
#define JSEG_INT(name, field, ...) JSEG_CHECK(name, field, getInt)
#define JSEG_DOUBLE(name, field, ...) JSEG_CHECK(name, field, getDouble)
#define JSEG_BOOL(name, field, ...) JSEG_CHECK(name, field, getBool)
#define JSEG_CHOICE(name, field, ...) JSEG_CHECK(name, field, getString)
#include "core/params/ParameterList.def"
#undef JSEG_CHECK
    QCOMPARE(checked, int(parameterSchema().size()));
    QCOMPARE(checked, kParameterCount);
    // The schema lists the parameters in the list's order.
    std::vector<std::string> names;
#define JSEG_PARAM(name, field) names.push_back(name);
#include "core/params/ParameterList.def"
    for (std::size_t i = 0; i < names.size(); ++i) QCOMPARE(parameterSchema()[i].name, names[i]);
  }
  void typedValuesRoundTrip() {
    // Typed -> named -> typed, for every type, through a valid set off the defaults.
    ParameterValues v = Parameters::preset("texture").values();
    v.patchSize = 11;                   // int
    v.thresholdLo = 12.5;               // double
    v.thresholdHi = 4000.25;
    v.lambda = 0.375;
    v.finalPass = false;                // bool
    v.globalPool = true;
    v.fillRule = "nearest";             // choice
    v.device = "cpu";
    const Parameters p = Parameters::fromValues(v);
    QCOMPARE(p.getInt("patch_size"), 11);
    QCOMPARE(p.getDouble("threshold_lo"), 12.5);
    QCOMPARE(p.getBool("final_pass"), false);
    QCOMPARE(p.getString("fill_rule"), std::string("nearest"));
    QVERIFY(p.values() == v);
    QVERIFY(Parameters::fromJson(p.toJson()).values() == v);
    // Named -> typed -> named gives the same JSON, integers still integers.
    const Parameters q = Parameters::preset("fast");
    QCOMPARE(Parameters::fromValues(q.values()).toJson(), q.toJson());
    QVERIFY(Parameters::fromValues(q.values()).toJson().at("patch_size").is_number_integer());
    // Typed values are checked like named ones.
    ParameterValues bad = v;
    bad.k = 1;
    QVERIFY_THROWS_EXCEPTION(InputError, Parameters::fromValues(bad));
    bad = v;
    bad.network = "resnet";
    QVERIFY_THROWS_EXCEPTION(InputError, Parameters::fromValues(bad));
    bad = v;
    bad.stride = 13;  // larger than the patch
    QVERIFY_THROWS_EXCEPTION(InputError, Parameters::fromValues(bad));
  }
  void unboundedThreshold() {
    const ParameterValues v = Parameters().values();
    QCOMPARE(v.thresholdLo, -kUnboundedThreshold);
    QCOMPARE(v.thresholdHi, kUnboundedThreshold);
    QVERIFY(isUnboundedLow(v.thresholdLo) && isUnboundedHigh(v.thresholdHi));
    QVERIFY(!isUnboundedLow(v.thresholdHi) && !isUnboundedHigh(v.thresholdLo));
    // Still unbounded after a trip through float (volume and CLI thresholds are floats).
    QVERIFY(isUnboundedLow(float(v.thresholdLo)) && isUnboundedHigh(float(v.thresholdHi)));
    // Real intensities, even of float data, are not.
    QVERIFY(!isUnboundedLow(-1e30) && !isUnboundedHigh(65535.0) && !isUnboundedHigh(1e36));
    const ParamSpec& lo = paramSpec("threshold_lo");
    QVERIFY(isUnboundedLow(lo.min) && isUnboundedHigh(lo.max));
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
