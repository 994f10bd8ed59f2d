#pragma once
// The open end of an intensity window. JSON (project files, run.json) has no infinity, so "no lower/upper limit"
// is stored as a finite stand-in. It is kept below FLT_MAX so that it survives the trip through the float
// thresholds of volumes and the CLI; and since that trip rounds it, code asks isUnboundedLow/High rather than
// comparing with the constant. Its own header, without the schema's JSON, so that engine headers such as
// PatchSampler.h can use it; ParameterSchema.h includes it.

namespace jseg {

constexpr double kUnboundedThreshold = 3.0e38;
// Any threshold at least this far from zero means "no limit": far above any real intensity, far below the
// stand-in even after it went through a float.
constexpr double kUnboundedThresholdFrom = 1.0e37;

constexpr bool isUnboundedLow(double lo) { return lo <= -kUnboundedThresholdFrom; }
constexpr bool isUnboundedHigh(double hi) { return hi >= kUnboundedThresholdFrom; }

static_assert(float(kUnboundedThreshold) == 3.0e38f, "the stand-in must fit a float");
static_assert(isUnboundedLow(-float(kUnboundedThreshold)) && isUnboundedHigh(float(kUnboundedThreshold)),
              "a float copy of the stand-in must still read as unbounded");

} // namespace jseg
