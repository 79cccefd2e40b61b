#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, starting from the
# generated seeds and the committed corpus; new crashes fail the run and are
# left in BUILD/fuzz-crashes/ (add them to tests/fuzz/corpus/<target>/ once fixed).
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
# Seeds come from the normal build's fixture writer when present (same generator).
seeds_build=$build
[ -x "$build/mkdump" ] || seeds_build=$here/build
bash "$here/tools/gen-fuzz-seeds.sh" "$seeds_build" >/dev/null
mkdir -p "$build/fuzz-crashes"
status=0
for target in "$build"/fuzz/fuzz_*; do
  name=$(basename "$target")
  work=$build/fuzz-work/$name
  # Targets without generated seeds start from their committed corpus alone.
  mkdir -p "$work" "$seeds_build/fuzz-seeds/$name" "$here/tests/fuzz/corpus/$name"
  echo "fuzzing $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 \
       -artifact_prefix="$build/fuzz-crashes/$name-" "$work" \
       "$here/tests/fuzz/corpus/$name" "$seeds_build/fuzz-seeds/$name" >"$build/fuzz-$name.log" 2>&1; then
    echo "FAILED: $name (see $build/fuzz-$name.log)"; tail -30 "$build/fuzz-$name.log"; status=1
  else
    grep -E "^(#[0-9]+ *DONE|Done)" "$build/fuzz-$name.log" | tail -1 || true
  fi
done
if [ $status -eq 0 ]; then echo "fuzz: all targets ran without crashes"; fi
exit $status
