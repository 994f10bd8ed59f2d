// juleseg-cli params: the parameter schema (names, defaults, ranges, help) and presets, as text, JSON or the
// Markdown table docs/user-guide.md embeds — generated from the one schema so the docs cannot drift.
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/CliCommon.h"

namespace jseg::cli {

namespace {

std::string rangeOf(const ParamSpec& s) {
  std::ostringstream o;
  switch (s.type) {
    case ParamType::Int: o << (long long)s.min << " – " << (long long)s.max; break;
    case ParamType::Double:
      if (isUnboundedLow(s.min)) o << "any";
      else o << s.min << " – " << s.max;
      break;
    case ParamType::Bool: o << "true, false"; break;
    case ParamType::Choice:
      for (std::size_t i = 0; i < s.choices.size(); ++i) o << (i ? ", " : "") << s.choices[i];
      break;
  }
  return o.str();
}

std::string defaultOf(const ParamSpec& s) {
  if (s.type == ParamType::Double) {
    const double d = s.defaultValue.get<double>();
    if (isUnboundedLow(d) || isUnboundedHigh(d)) return "unbounded";
  }
  if (s.type == ParamType::Choice) return s.defaultValue.get<std::string>();
  return s.defaultValue.dump();
}

void printMarkdown() {
  std::string group;
  for (const auto& s : parameterSchema()) {
    if (s.group != group) {
      group = s.group;
      std::cout << "\n**" << group << "**\n\n| parameter (CLI flag) | default | range | what it does |\n|---|---|---|---|\n";
    }
    std::string help = s.help;
    for (auto& c : help)
      if (c == '|') c = '/';
    // The threshold is one option of its own on the command line.
    const std::string flag = s.name == "threshold_lo"   ? "--threshold LO:…"
                             : s.name == "threshold_hi" ? "--threshold …:HI"
                                                        : s.cliFlag();
    std::cout << "| `" << flag << "` | " << defaultOf(s) << " | " << rangeOf(s) << " | " << help << " |\n";
  }
  std::cout << "\n**Presets**\n\n| preset | what it sets |\n|---|---|\n";
  for (const auto& p : parameterPresets()) {
    std::string sets;
    for (auto it = p.overrides.begin(); it != p.overrides.end(); ++it)
      sets += (sets.empty() ? "" : ", ") + it.key() + " = " + it.value().dump();
    std::cout << "| `" << p.name << "` | " << p.help << (sets.empty() ? "" : " (" + sets + ")") << " |\n";
  }
}

} // namespace

void registerParamsCommand(CLI::App& app) {
  auto format = std::make_shared<std::string>("text");
  auto* cmd = app.add_subcommand("params", "List every parameter of the method with default, range and help");
  cmd->add_option("--format", *format, "text, json or markdown")->check(CLI::IsMember({"text", "json", "markdown"}));
  cmd->callback([format] {
    if (*format == "markdown") return printMarkdown();
    if (*format == "json") {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& s : parameterSchema())
        j.push_back({{"name", s.name}, {"flag", s.cliFlag()}, {"group", s.group}, {"default", s.defaultValue},
                     {"range", rangeOf(s)}, {"help", s.help}, {"advanced", s.advanced}});
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (const auto& s : parameterSchema())
      std::cout << s.cliFlag() << " (default " << defaultOf(s) << "; " << rangeOf(s) << ")\n    " << s.help << "\n";
  });
}

} // namespace jseg::cli
