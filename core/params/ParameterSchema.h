#pragma once
// The one parameter schema (design.md §2): names, types, defaults, ranges, help and presets of every
// tunable of the pipeline. The CLI builds its options from it, the GUI its panels, the project file
// its "parameters" object, so the three cannot drift apart. The parameters themselves are declared once, in
// ParameterList.def; the schema and the typed ParameterValues below are both generated from that list.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/params/UnboundedThreshold.h"

namespace jseg {

enum class ParamType { Int, Double, Bool, Choice };

struct ParamSpec {
  std::string name;   // snake_case key in project files; CLI flag is --name with '_' -> '-'
  ParamType type;
  nlohmann::json defaultValue;
  double min = 0, max = 0;              // Int/Double (inclusive)
  std::vector<std::string> choices;     // Choice
  std::string group;                    // "Mask", "Patches", "Network", "Clustering", "Training", ...
  std::string label;                    // short human name for the GUI
  std::string help;                     // one or two sentences: what it does, and the paper's value
  bool advanced = false;                // hidden behind "advanced" in the GUI
  std::string cliFlag() const;
};

const std::vector<ParamSpec>& parameterSchema();  // in ParameterList.def's order
const ParamSpec& paramSpec(const std::string& name);  // throws InputError for an unknown name

// A preset is a named set of overrides on the defaults.
struct Preset {
  std::string name;
  std::string help;
  nlohmann::json overrides;  // object name -> value
};
const std::vector<Preset>& parameterPresets();

// Every parameter as a typed field with the schema's default: the engine reads these, so a misspelt name or a
// wrong type is a compile error instead of an InputError at run time. Choices stay strings, as in the
// project file.
struct ParameterValues {
#define JSEG_INT(name, field, def, ...) int field = def;
#define JSEG_DOUBLE(name, field, def, ...) double field = def;
#define JSEG_BOOL(name, field, def, ...) bool field = def;
#define JSEG_CHOICE(name, field, def, ...) std::string field = def;
#include "core/params/ParameterList.def"

  bool operator==(const ParameterValues& other) const;
  bool operator!=(const ParameterValues& other) const { return !(*this == other); }
};

// How many parameters ParameterList.def declares (= parameterSchema().size(), = fields of ParameterValues;
// ParameterSchema.cpp checks the latter at compile time).
constexpr int kParameterCount = 0
#define JSEG_PARAM(name, field) +1
#include "core/params/ParameterList.def"
    ;

// A full, validated set of parameter values, kept as JSON so that the CLI, the GUI and project files can
// address them by name.
class Parameters {
public:
  Parameters();  // schema defaults ("paper" preset)
  static Parameters preset(const std::string& name);  // throws InputError for an unknown preset
  // Each field is set (and range-checked) as by set(), then validate()d; throws InputError.
  static Parameters fromValues(const ParameterValues& values);

  // Setting validates type and range and throws InputError naming the parameter and its range.
  void set(const std::string& name, const nlohmann::json& value);
  // Parses a value given as text (CLI, GUI line edits): "27", "0.9", "true", "cpu".
  void setFromString(const std::string& name, const std::string& text);
  void applyPreset(const std::string& name);

  int getInt(const std::string& name) const;
  double getDouble(const std::string& name) const;
  bool getBool(const std::string& name) const;
  std::string getString(const std::string& name) const;
  const nlohmann::json& get(const std::string& name) const;
  // A typed copy of every value; later set() calls do not change it.
  ParameterValues values() const;

  nlohmann::json toJson() const { return values_; }
  // Unknown keys are an InputError; missing keys keep their defaults.
  static Parameters fromJson(const nlohmann::json& j);
  // Cross-parameter checks (threshold lo <= hi, stride <= patch size, ...); throws InputError.
  void validate() const;

private:
  nlohmann::json values_;
};

} // namespace jseg
