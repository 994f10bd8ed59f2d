#pragma once
// For benches: the stages `juleseg-cli run` calls, on the demo phantom or a file, returning what run.json
// records (parameters, timings, grid points, NMI of JULE and of the evaluation battery when a truth is known).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/pipeline/SegmentationSession.h"

namespace jseg::bench {

struct SessionRunInput {
  std::string volume;      // empty: the demo phantom (with its truth)
  std::string truth;       // optional
  std::string mask;        // optional region of interest (nonzero voxels)
  std::string channel;     // optional second co-registered contrast
  std::string model;       // empty: train, and save the model as OUT/model.pt
  std::string outDir;
  bool untrained = true;   // score untrained networks too (with a truth)
};

inline nlohmann::json runSession(const Parameters& params, const SessionRunInput& in) {
  SegmentationSession s(params);
  if (in.volume.empty()) s.openDemo();
  else s.openVolume(in.volume);
  if (!in.channel.empty()) s.addChannel(in.channel);
  if (!in.mask.empty()) s.loadMask(in.mask);
  if (!in.truth.empty()) s.loadTruth(in.truth);
  std::filesystem::create_directories(in.outDir);
  if (in.model.empty()) {
    s.train();
    s.saveModel((std::filesystem::path(in.outDir) / "model.pt").string());
  } else {
    s.loadModel(in.model);
  }
  s.extractFeatures();
  s.paint(s.parameters().getInt("k"));
  if (s.truth()) s.score(in.untrained);
  OutputOptions o;
  o.folder = in.outDir;
  o.overlays = false;
  s.writeOutputs(o);
  std::ifstream f((std::filesystem::path(in.outDir) / "run.json").string());
  return nlohmann::json::parse(f);
}

// NMI of `method` in a run.json, NaN when it was not scored.
inline double scoreOf(const nlohmann::json& run, const std::string& method) {
  return run.contains("nmi") && run["nmi"].contains(method) ? run["nmi"][method].get<double>() : std::nan("");
}

} // namespace jseg::bench
