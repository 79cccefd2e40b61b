#!/usr/bin/env bash
# make bench: speed figures, printed as ratios to plain system calls on the
# same file so they mean something on a noisy machine. Never pass/fail.
#   1. a 16 GiB synthetic bitmap kernel dump (a sparse file, generated once
#      into the build directory by the fixture writer): open + summary, and
#      random 4 KiB virtual reads through its page tables;
#   2. the largest real kernel dump in ../shared/dumps/kernel (if present):
#      open + summary;
#   3. symbols: opening a kernel PDB, symbolizing 100k addresses, identifying
#      a kernel among the ISF tables (bench/bench_symbols.c);
#   4. stacks: a 64-frame x64 unwind over cached unwind data, and ub's
#      backward search over a real driver's code (bench/bench_stack.c;
#      synthetic code when ../shared is absent);
#   5. analyze: a whole `bugcheck analyze` of a real small memory dump with
#      no symbols, a local symbol store and the ISF tables
#      (bench/bench_analyze.c; a synthetic dump when ../shared is absent).
set -euo pipefail
build=${1:?usage: run-bench.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
bench=$build/bench/bench_dump
[ -x "$bench" ] || { echo "run-bench: $bench not built (run make build)"; exit 1; }
dump=$build/bench-16g.dmp
range=$build/bench-16g.range
if [ ! -s "$dump" ] || [ ! -s "$range" ]; then
  # mkdump prints the VA range that maps all of RAM: "... (bench_dump FILE BASE SIZE)".
  "$build/mkdump" --size-gib 16 --format bitmap-kernel "$dump" | tee /dev/stderr |
    sed -n 's/.*(bench_dump [^ ]* \(0x[0-9a-f]*\) \(0x[0-9a-f]*\)).*/\1 \2/p' > "$range"
fi
read -r base size < "$range"
echo "== synthetic 16 GiB bitmap kernel dump ($(du -h "$dump" | cut -f1) on disk, sparse)"
"$bench" "$dump" "$base" "$size"
shared=${BC_SHARED_DIR:-$here/../shared}
largest=$(ls -S "$shared"/dumps/kernel/*.dmp 2>/dev/null | head -1 || true)
if [ -n "$largest" ]; then
  echo "== largest real dump: $(basename "$largest") ($(du -h "$largest" | cut -f1))"
  "$bench" "$largest"
else
  echo "== skipped: ../shared/dumps not found (no real dump to time)"
fi
if [ -d "$shared/symbols/pdb" ]; then
  echo "== symbols"
  "$build/bench/bench_symbols" "$shared"
else
  echo "== skipped: ../shared/symbols not found (no symbol benchmarks)"
fi
echo "== stack walk and ub"
if [ -d "$shared/symbols/pe" ]; then
  "$build/bench/bench_stack" "$shared"
else
  "$build/bench/bench_stack"
fi
echo "== analyze"
if [ -d "$shared/dumps/kernel" ]; then
  "$build/bench/bench_analyze" "$shared"
else
  "$build/bench/bench_analyze"
fi
