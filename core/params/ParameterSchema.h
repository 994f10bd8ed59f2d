#pragma once
// The one parameter schema (design.md §2): names, types, defaults, ranges, help and presets of every
// tunable of the pipeline. The CLI builds its options from it, the GUI its panels, the project file
// its "parameters" object, so the three cannot drift apart.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

const std::vector<ParamSpec>& parameterSchema();
const ParamSpec& paramSpec(const std::string& name);  // throws InputError for an unknown name

// A preset is a named set of overrides on the defaults.
struct Preset {
  std::string name;
  std::string help;
  nlohmann::json overrides;  // object name -> value
};
const std::vector<Preset>& parameterPresets();

// A full, validated set of parameter values.
class Parameters {
public:
  Parameters();  // schema defaults ("paper" preset)
  static Parameters preset(const std::string& name);  // throws InputError for an unknown preset

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

  nlohmann::json toJson() const { return values_; }
  // Unknown keys are an InputError; missing keys keep their defaults.
  static Parameters fromJson(const nlohmann::json& j);
  // Cross-parameter checks (threshold lo <= hi, stride <= patch size, ...); throws InputError.
  void validate() const;

private:
  nlohmann::json values_;
};

} // namespace jseg
