#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 15) from its seed
# corpus (fuzz/seeds.py, from testdata/ and examples/data/); fails on the first crash, whose
# input libFuzzer writes to fuzz/artifacts/<target>/. cargo-fuzz is built once into
# target/tools/ (stable Rust: RUSTC_BOOTSTRAP=1 lets it pass libFuzzer's -Z flags).
#
#   fuzz/run.sh                      # every target, 15 s each (what the test command runs),
#                                    # FUZZ_JOBS (default: the number of cores) at a time
#   FUZZ_SECONDS=600 fuzz/run.sh manifest fleet   # longer local runs of some targets
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
fuzz="$root/target/tools/cargo-fuzz/bin/cargo-fuzz"
if [ ! -x "$fuzz" ]; then
  cargo install --quiet cargo-fuzz --version 0.13.2 --locked --root "$root/target/tools/cargo-fuzz"
fi
python3 seeds.py
"$fuzz" build --sanitizer none
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("$fuzz" list)
# FUZZ_JOBS targets at a time (default: one per core; libFuzzer runs one process per target).
jobs_max="${FUZZ_JOBS:-$(nproc)}"
results=$(mktemp -d)
run_one() { # $1: the target; writes $results/<target>.ok or .failed
  local t=$1 scratch log
  scratch=$(mktemp -d)
  # New inputs go to the scratch dir (the first one given), never into the seeds.
  if log=$("$fuzz" run --sanitizer none "$t" "$scratch" "seeds/$t" -- -max_total_time="${FUZZ_SECONDS:-15}" 2>&1); then
    echo "$t: $(grep -E '^#[0-9]+[[:space:]]+DONE' <<<"$log" | sed -E 's/[[:space:]]+/ /g; s/^#([0-9]+) DONE/\1 runs,/; s/ lim:.*//')" \
      >"$results/$t.ok"
  else
    { echo "$log" | tail -40; echo "fuzz target $t crashed: the input is in fuzz/artifacts/$t/"; } >"$results/$t.failed"
  fi
  rm -rf "$scratch"
}
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$t" &
done
wait
status=0
for t in "${targets[@]}"; do
  if [ -f "$results/$t.ok" ]; then
    cat "$results/$t.ok"
  else
    cat "$results/$t.failed" >&2 2>/dev/null || echo "fuzz target $t: no result" >&2
    status=1
  fi
done
rm -rf "$results"
exit "$status"
