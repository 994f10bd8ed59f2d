#!/usr/bin/env bash
# Builds the libFuzzer targets of the volume readers (clang, ASan + UBSan), makes their seed corpora
# from ../shared/data, and fuzzes each reader for a bounded time. Exits non-zero when any target finds a
# crash, a sanitizer report, a leak, an exception other than jseg::Error, a hang (> 10 s on one input)
# or an input that makes the reader use more than 2 GB.
#
#   fuzz/run-fuzzers.sh [targets...]          targets: tiff dicom nifti (default: all three)
#   JULESEG_FUZZ_SECONDS=60                   fuzzing time per target
#   JULESEG_FUZZ_BUILD=<repo>/build-fuzz      build folder (clang; not shared with a gcc build)
#   JULESEG_SHARED_DATA=<repo>/../shared/data where the seed volumes come from
#
# Findings land in $JULESEG_FUZZ_BUILD/findings/<target>-crash-*, with the full log beside them;
# replay one with: build-fuzz/fuzz/fuzz_<target> build-fuzz/findings/<file>
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${JULESEG_FUZZ_SECONDS:-60}
build=${JULESEG_FUZZ_BUILD:-$top/build-fuzz}
data=${JULESEG_SHARED_DATA:-$top/../shared/data}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(tiff dicom nifti)

command -v clang++ >/dev/null || { echo "run-fuzzers: clang++ is missing (scripts/setup installs it)" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DJULESEG_FUZZ=ON -DJULESEG_BUILD_GUI=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 2; }
cmake --build "$build" --target fuzzers -j "$(nproc)"

# Seeds are rebuilt every run from the shared data (never stored in the repository); what libFuzzer
# learns is kept in corpus/<target> between runs.
rm -rf "$build/seeds"
if [ -d "$data" ]; then
  ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/juleseg_fuzz_seeds" "$data" "$build/seeds"
else
  echo "run-fuzzers: no shared data at $data; fuzzing from empty corpora" >&2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# DCMTK's own leak on one kind of damaged file (see the file) is not a finding; every other leak is.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/fuzz/lsan.supp:print_suppressions=0}
mkdir -p "$build/findings"
failed=()
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  [ -x "$exe" ] || { echo "run-fuzzers: unknown target $t (tiff, dicom, nifti)" >&2; exit 2; }
  mkdir -p "$build/corpus/$t" "$build/seeds/$t"
  log="$build/findings/$t.log"
  echo "== fuzz_$t: ${seconds} s, seeds $(ls "$build/seeds/$t" | wc -l), corpus $(ls "$build/corpus/$t" | wc -l)"
  rc=0
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" "$build/corpus/$t" "$build/seeds/$t" >"$log" 2>&1 || rc=$?
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | sed 's/^/   /' || true
  grep -E "cov: [0-9]+" "$log" | tail -1 | sed 's/^/   last: /' || true
  if [ "$rc" -ne 0 ]; then
    echo "!! fuzz_$t failed (exit $rc); log: $log"
    grep -E "ERROR|FINDING|runtime error|Test unit written|SUMMARY|uncaught|deadly signal|timeout|out-of-memory" "$log" | head -20
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "run-fuzzers: findings in: ${failed[*]} (see $build/findings)"
  exit 1
fi
echo "run-fuzzers: ${#targets[@]} targets, ${seconds} s each, no findings"
