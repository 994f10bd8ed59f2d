#include "core/params/ParameterSchema.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <type_traits>
#include <utility>

#include "core/base/Errors.h"

namespace jseg {

using nlohmann::json;

std::string ParamSpec::cliFlag() const {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

namespace {

ParamSpec intParam(std::string name, int def, int lo, int hi, std::string group, std::string label, std::string help,
                   bool advanced) {
  return {std::move(name), ParamType::Int, def, double(lo), double(hi), {}, std::move(group), std::move(label),
          std::move(help), advanced};
}
ParamSpec dblParam(std::string name, double def, double lo, double hi, std::string group, std::string label,
                   std::string help, bool advanced) {
  return {std::move(name), ParamType::Double, def, lo, hi, {}, std::move(group), std::move(label), std::move(help),
          advanced};
}
ParamSpec boolParam(std::string name, bool def, std::string group, std::string label, std::string help,
                    bool advanced) {
  return {std::move(name), ParamType::Bool, def, 0, 1, {}, std::move(group), std::move(label), std::move(help),
          advanced};
}
ParamSpec choiceParam(std::string name, std::string def, std::vector<std::string> choices, std::string group,
                      std::string label, std::string help, bool advanced) {
  return {std::move(name), ParamType::Choice, def, 0, 0, std::move(choices), std::move(group), std::move(label),
          std::move(help), advanced};
}

// Checks of ParameterList.def that can fail only when it is edited, so they fail the build instead of a test.
constexpr bool sameText(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}
constexpr bool oneOf(const char* value, std::initializer_list<const char*> choices) {
  for (const char* c : choices)
    if (sameText(value, c)) return true;
  return false;
}
// The field is the name in camelCase ("fill_outside_window" -> fillOutsideWindow), so either finds the other.
constexpr bool isCamelCaseOf(const char* field, const char* name) {
  for (; *name; ++name, ++field) {
    if (*name == '_') {
      ++name;
      if (*name < 'a' || *name > 'z' || *field != *name - 'a' + 'A') return false;
    } else if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9')) || *field != *name) {
      return false;
    }
  }
  return *field == 0;
}

#define JSEG_UNPAREN(...) __VA_ARGS__
#define JSEG_CHECK_NAME(name, field)                                                                           \
  static_assert(isCamelCaseOf(#field, name), "parameter " name ": the field must be the name in camelCase and " \
                                             "the name snake_case");
#define JSEG_INT(name, field, def, lo, hi, ...)                                                                 \
  JSEG_CHECK_NAME(name, field)                                                                                  \
  static_assert(lo <= def && def <= hi, "parameter " name ": default out of range");
#define JSEG_DOUBLE JSEG_INT
#define JSEG_BOOL(name, field, ...) JSEG_CHECK_NAME(name, field)
#define JSEG_CHOICE(name, field, def, choices, ...)                                                             \
  JSEG_CHECK_NAME(name, field)                                                                                  \
  static_assert(oneOf(def, {JSEG_UNPAREN choices}), "parameter " name ": the default is not one of its choices");
#include "core/params/ParameterList.def"

constexpr const char* kParameterNames[] = {
#define JSEG_PARAM(name, field) name,
#include "core/params/ParameterList.def"
};
constexpr bool namesDistinct() {
  for (std::size_t i = 0; i < std::size(kParameterNames); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (sameText(kParameterNames[i], kParameterNames[j])) return false;
  return true;
}
static_assert(namesDistinct(), "ParameterList.def declares a parameter name twice");

// ParameterValues is generated from the same list, but nothing stops a hand-written field from joining it: count
// its fields as the number of initialisers it accepts (it is an aggregate) and compare with the list.
struct AnyField {
  template <class T>
  operator T() const;  // only used unevaluated
};
template <class T, class Indices, class = void>
struct InitialisableFrom : std::false_type {};
template <class T, std::size_t... I>
struct InitialisableFrom<T, std::index_sequence<I...>, std::void_t<decltype(T{(void(I), AnyField{})...})>>
    : std::true_type {};
static_assert(std::is_aggregate_v<ParameterValues> &&
                  InitialisableFrom<ParameterValues, std::make_index_sequence<kParameterCount>>::value &&
                  !InitialisableFrom<ParameterValues, std::make_index_sequence<kParameterCount + 1>>::value,
              "ParameterValues must have exactly one field per line of ParameterList.def");

} // namespace

const std::vector<ParamSpec>& parameterSchema() {
  static const std::vector<ParamSpec> schema = {
#define JSEG_INT(name, field, def, lo, hi, group, label, advanced, help) \
  intParam(name, def, lo, hi, group, label, help, advanced),
#define JSEG_DOUBLE(name, field, def, lo, hi, group, label, advanced, help) \
  dblParam(name, def, lo, hi, group, label, help, advanced),
#define JSEG_BOOL(name, field, def, group, label, advanced, help) boolParam(name, def, group, label, help, advanced),
#define JSEG_CHOICE(name, field, def, choices, group, label, advanced, help) \
  choiceParam(name, def, {JSEG_UNPAREN choices}, group, label, help, advanced),
#include "core/params/ParameterList.def"
  };
  return schema;
}

const ParamSpec& paramSpec(const std::string& name) {
  for (const auto& p : parameterSchema())
    if (p.name == name) return p;
  throw InputError("unknown parameter '" + name + "'");
}

namespace {

// Settings that `base` and `extra` together give (extra wins).
json withSettings(json base, const json& extra) {
  for (const auto& [key, value] : extra.items()) base[key] = value;
  return base;
}

} // namespace

const std::vector<Preset>& parameterPresets() {
  // Minutes on a CPU: few patches, few clusters, short periods, the background filled (shared by every preset
  // below but paper's).
  static const json quickTraining = {{"patches", 2000},
                                     {"clusters", 20},
                                     {"epochs_per_period", 5},
                                     {"initial_clusters", "network"},
                                     {"fill_outside_window", true}};
  // The texture and tissue presets' network: 3³ kernels on 9³ patches, a label per voxel.
  static const json localVoxelwise = withSettings(quickTraining, {{"network", "local3d"}, {"patch_size", 9}, {"stride", 1}});
  static const std::vector<Preset> presets = {
      {"paper", "Moriya et al. 2018: 10,000 patches of 27³, C = 100, stride 5, K = 3 (hours on a CPU).", json::object()},
      {"fast",
       "Minutes on 2 CPU cores: 2,000 patches of 15³ through the small3d network (25 channels, no pooling), "
       "C = 20, 5 epochs a period, initial clusters from the untrained network's features and the background "
       "filled before patches are cut (both measured on the demo phantom, stride 5: JULE NMI 0.29 -> 0.63). "
       "Training on mni152 (threshold 1:255) takes 1.5-9 min on 2 cores (quiet to shared) vs. a projected "
       "2-8 h for the paper preset.",
       withSettings(quickTraining, {{"network", "small3d"}, {"patch_size", 15}})},
      {"texture",
       "For regions that are wide and differ by texture more than by mean intensity (micro-CT tissues, the demo "
       "phantom, glioma sub-regions): the fast preset's training at 10 epochs a period for three local3d networks "
       "on 9³ patches (their features side by side), a label per voxel (stride 1), features whitened to 16 principal "
       "components and smoothed over 8 voxels (about a patch either way) before k-means. With several channels the "
       "networks learn the first volume's texture and each added channel's own voxel intensity goes beside "
       "their features (weight 1.5). Demo phantom, seeds 1-3: JULE NMI 0.89 against intensity k-means 0.61; "
       "inside BraTS tumours from FLAIR alone 0.21-0.43 against 0.12-0.13, from FLAIR + T1c 0.38-0.66 against "
       "0.32-0.38 (untrained networks 0.34-0.50). Not for 1 mm brain MRI, nor for structures narrower than the "
       "smoothing.",
       // The added channels' intensities, unsmoothed: inside a glioma (FLAIR + T1c) T1c's voxel contrast draws the
       // enhancing rim and the necrotic core that 8-voxel smoothing blurs (pat0006 0.26 -> 0.40, pat0001 0.46 ->
       // 0.69), while FLAIR's, the first volume's, spreads within the oedema and costs 0.07-0.14. Weight 1.5 rather
       // than 1 or 1.25: the seeds' labels agree most (pat0006 0.92 against 0.75 and 0.58); below about 1.3 k-means
       // falls to the cut without the rim on some seeds. The networks see the first volume only: trained on FLAIR +
       // T1c, untrained networks finished the same way did as well as JULE inside pat0006 (0.39-0.41 both); trained
       // on FLAIR, JULE leads them by 0.04-0.07 there and by 0.18-0.20 inside pat0001. Ten epochs a period, not the
       // quick five: inside pat0006 (FLAIR + T1c) the weakest seed rises from 0.370 to 0.377 and the seeds agree
       // more (0.398 / 0.389 / 0.377, networks' agreement 0.84-0.89), where every other training change tried left
       // it at the untrained networks' 0.34; training takes about 1.4x as long.
       withSettings(localVoxelwise, {{"networks", 3},
                                     {"epochs_per_period", 10},
                                     {"network_channels", "first"},
                                     {"feature_whitening", 16},
                                     {"feature_smoothing", 8},
                                     {"feature_intensity", true},
                                     {"intensity_channels", "added"},
                                     {"intensity_weight", 1.5}})},
      {"tissue",
       "For tissues that differ by intensity at the voxel scale (1 mm brain MRI): the texture preset's training, a "
       "label per voxel, no smoothing, the learned features whitened to 16 principal components and each voxel's "
       "own standardised intensity appended (weight 8), so that structures thinner than a patch (cortex, sulcal "
       "fluid) keep their voxels and the features only decide where intensity is ambiguous. mni152, seeds 1-3: "
       "JULE 0.690 / 0.693 / 0.684 against intensity k-means 0.694 / 0.683 / 0.694.",
       // Weight 8 rather than 5: the seeds' labels agree more (0.957 against 0.921, a criterion without a truth) and
       // the worst seed comes within 0.01 of k-means (5: -0.013); 12 agrees as much and scores lower.
       withSettings(localVoxelwise, {{"feature_whitening", 16}, {"feature_intensity", true}, {"intensity_weight", 8.0}})},
  };
  return presets;
}

Parameters::Parameters() {
  values_ = json::object();
  for (const auto& p : parameterSchema()) values_[p.name] = p.defaultValue;
}

Parameters Parameters::preset(const std::string& name) {
  Parameters p;
  p.applyPreset(name);
  return p;
}

void Parameters::applyPreset(const std::string& name) {
  for (const auto& pr : parameterPresets()) {
    if (pr.name != name) continue;
    for (auto it = pr.overrides.begin(); it != pr.overrides.end(); ++it) set(it.key(), it.value());
    return;
  }
  std::string names;
  for (const auto& pr : parameterPresets()) names += (names.empty() ? "" : ", ") + pr.name;
  throw InputError("unknown preset '" + name + "' (choose one of: " + names + ")");
}

namespace {
std::string rangeText(const ParamSpec& s) {
  std::ostringstream o;
  o << "[" << s.min << ", " << s.max << "]";
  return o.str();
}
} // namespace

void Parameters::set(const std::string& name, const json& value) {
  const ParamSpec& s = paramSpec(name);
  switch (s.type) {
    case ParamType::Int: {
      if (!value.is_number()) throw InputError("parameter " + name + " must be an integer");
      double d = value.get<double>();
      if (std::floor(d) != d) throw InputError("parameter " + name + " must be an integer, got " + value.dump());
      if (d < s.min || d > s.max)
        throw InputError("parameter " + name + " = " + value.dump() + " is out of range " + rangeText(s));
      values_[name] = static_cast<long long>(d);
      break;
    }
    case ParamType::Double: {
      if (!value.is_number()) throw InputError("parameter " + name + " must be a number");
      double d = value.get<double>();
      if (!std::isfinite(d) || d < s.min || d > s.max)
        throw InputError("parameter " + name + " = " + value.dump() + " is out of range " + rangeText(s));
      values_[name] = d;
      break;
    }
    case ParamType::Bool:
      if (!value.is_boolean()) throw InputError("parameter " + name + " must be true or false");
      values_[name] = value;
      break;
    case ParamType::Choice: {
      if (!value.is_string()) throw InputError("parameter " + name + " must be one of its choices");
      auto v = value.get<std::string>();
      if (std::find(s.choices.begin(), s.choices.end(), v) == s.choices.end()) {
        std::string all;
        for (const auto& c : s.choices) all += (all.empty() ? "" : ", ") + c;
        throw InputError("parameter " + name + " = '" + v + "' is not one of: " + all);
      }
      values_[name] = v;
      break;
    }
  }
}

void Parameters::setFromString(const std::string& name, const std::string& text) {
  const ParamSpec& s = paramSpec(name);
  try {
    switch (s.type) {
      case ParamType::Int:
      case ParamType::Double: {
        std::size_t used = 0;
        double d = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument("trailing");
        if (s.type == ParamType::Int && std::floor(d) == d) set(name, static_cast<long long>(d));
        else set(name, d);
        return;
      }
      case ParamType::Bool:
        if (text == "true" || text == "1" || text == "on" || text == "yes") return set(name, true);
        if (text == "false" || text == "0" || text == "off" || text == "no") return set(name, false);
        throw std::invalid_argument("bool");
      case ParamType::Choice: return set(name, text);
    }
  } catch (const std::invalid_argument&) {
    throw InputError("parameter " + name + ": cannot read '" + text + "' as a value");
  } catch (const std::out_of_range&) {
    throw InputError("parameter " + name + ": '" + text + "' is out of range " + rangeText(s));
  }
}

const json& Parameters::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InputError("unknown parameter '" + name + "'");
  return *it;
}
int Parameters::getInt(const std::string& name) const { return static_cast<int>(get(name).get<long long>()); }
double Parameters::getDouble(const std::string& name) const { return get(name).get<double>(); }
bool Parameters::getBool(const std::string& name) const { return get(name).get<bool>(); }
std::string Parameters::getString(const std::string& name) const { return get(name).get<std::string>(); }

Parameters Parameters::fromJson(const json& j) {
  if (!j.is_object()) throw InputError("parameters must be a JSON object");
  Parameters p;
  for (auto it = j.begin(); it != j.end(); ++it) p.set(it.key(), it.value());
  p.validate();
  return p;
}

void Parameters::validate() const {
  const ParameterValues v = values();
  if (v.thresholdLo > v.thresholdHi) {
    std::ostringstream o;
    o << "threshold low " << v.thresholdLo << " is above threshold high " << v.thresholdHi;
    throw InputError(o.str());
  }
  const int w = v.patchSize, s = v.stride;
  if (s > w)
    throw InputError("stride " + std::to_string(s) + " is larger than the patch size " + std::to_string(w) +
                     " (the paper requires s <= w)");
  if (w % 2 == 0) throw InputError("patch size " + std::to_string(w) + " must be odd so a patch has a centre voxel");
  const int d = v.patchDepth;
  if (d != 0 && d % 2 == 0)
    throw InputError("patch depth " + std::to_string(d) + " must be odd so a patch has a centre slice");
  if (d != 0 && s > d)
    throw InputError("stride " + std::to_string(s) + " is larger than the patch depth " + std::to_string(d) +
                     " (the grid would skip slices; s <= d)");
  if (v.clusters >= v.patches)
    throw InputError("final clusters C = " + std::to_string(v.clusters) + " must be fewer than the " +
                     std::to_string(v.patches) + " training patches");
}

bool ParameterValues::operator==(const ParameterValues& other) const {
  return true
#define JSEG_PARAM(name, field) &&field == other.field
#include "core/params/ParameterList.def"
      ;
}

ParameterValues Parameters::values() const {
  ParameterValues v;
#define JSEG_INT(name, field, ...) v.field = getInt(name);
#define JSEG_DOUBLE(name, field, ...) v.field = getDouble(name);
#define JSEG_BOOL(name, field, ...) v.field = getBool(name);
#define JSEG_CHOICE(name, field, ...) v.field = getString(name);
#include "core/params/ParameterList.def"
  return v;
}

Parameters Parameters::fromValues(const ParameterValues& values) {
  Parameters p;
#define JSEG_PARAM(name, field) p.set(name, values.field);
#include "core/params/ParameterList.def"
  p.validate();
  return p;
}

} // namespace jseg
