#!/usr/bin/env bash
# Times `spec build` (into an empty folder, and again over its own output), `spec check` and the
# Nix yardstick (../shared/bench) on the same N, alternating runs, and prints the medians and the
# ratios spec/Nix (the goal at 10,000 services: at most 0.25 for the build).
#
# usage: compiler/bench/side-by-side.sh [N=10000] [RUNS=7]
# SHARED_BENCH overrides the yardstick's folder (default: ../shared/bench beside the repository).
set -euo pipefail

n=${1:-10000}
runs=${2:-7}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED_BENCH:-$root/../shared/bench}
work=$root/target/bench/side-by-side/$n

for tool in python3 nix-instantiate; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed (the yardstick needs it)" >&2; exit 2; }
done
[ -f "$shared/gen.py" ] || { echo "SKIPPED: no yardstick at $shared" >&2; exit 2; }

(cd "$root" && cargo build --release -q -p spec-cli -p spec-bench)
spec=$root/target/release/spec
# An earlier run's folder is moved aside (a rename frees no inode) and removed at the end with
# this run's outputs, never before a measurement (see the fresh builds below).
spent=$work.spent-$$
[ -e "$work" ] && mv "$work" "$spent"
mkdir -p "$work"
python3 "$shared/gen.py" "$n" "$work/yard" >/dev/null
"$root/target/release/spec-bench" estate "$n" "$work/spec"

spec_build=("$spec" build "$work/spec" --out "$work/out")
spec_check=("$spec" check "$work/spec")
nix_eval=(sh -c "cd '$work/yard/nix' && exec nix-instantiate --eval --strict --json main.nix")

# One run: appends its wall milliseconds to $1.times and its peak KiB to $1.peaks (peak from
# /usr/bin/time where it exists).
measure() {
  local name=$1 start end
  shift
  start=$(date +%s%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$work/$name.peak" "$@" >/dev/null 2>&1
    cat "$work/$name.peak" >>"$work/$name.peaks"
  else
    "$@" >/dev/null 2>&1
  fi
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 )) >>"$work/$name.times"
}

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
most() { sort -n "$1" | tail -n1; }

"${nix_eval[@]}" >/dev/null 2>&1 || { echo "the Nix yardstick fails on N=$n" >&2; exit 1; }
"${spec_build[@]}" >/dev/null 2>&1 || { echo "spec build fails on N=$n" >&2; exit 1; }
touch "$work/spec.times" "$work/nix.times" "$work/spec.peaks" "$work/nix.peaks"
# Alternate, so a noisy moment on the shared machine hits all four; spec builds into an empty
# folder (files and folders created: its slowest case), then again over that output (the
# edit-build loop). Each fresh build writes into a folder of its own and the outputs are removed
# only at the end: on ext4 without a journal, a file created just after thousands of others were
# removed scans the removed inodes (the kernel's `recently_deleted`), and a fresh build right
# after `rm -rf` of the previous output measured that removal (see README.md).
touch "$work/again.times" "$work/again.peaks" "$work/check.times" "$work/check.peaks"
for run in $(seq "$runs"); do
  measure spec "$spec" build "$work/spec" --out "$work/fresh/$run"
  measure again "$spec" build "$work/spec" --out "$work/fresh/$run"
  measure check "${spec_check[@]}"
  measure nix "${nix_eval[@]}"
done
rm -rf "$work/fresh" "$spent"

spec_us=$(median "$work/spec.times")
again_us=$(median "$work/again.times")
check_us=$(median "$work/check.times")
nix_us=$(median "$work/nix.times")
line() { # label, name, microseconds
  printf '  %-44s %8.1f ms' "$1" "$(awk "BEGIN { print $3 / 1000 }")"
  [ -s "$work/$2.peaks" ] && printf ' (%d MiB)' $(( $(most "$work/$2.peaks") / 1024 ))
  echo
}
echo "N = $n, $runs runs each, alternating, median wall time (peak resident memory):"
line "spec build (every target, files written):" spec "$spec_us"
line "spec build again (over its own output):" again "$again_us"
line "spec check:" check "$check_us"
line "nix-instantiate --eval --strict --json:" nix "$nix_us"
printf '  ratio spec / Nix: %.3f fresh, %.3f again, %.3f check\n' \
  "$(awk "BEGIN { print $spec_us / $nix_us }")" "$(awk "BEGIN { print $again_us / $nix_us }")" \
  "$(awk "BEGIN { print $check_us / $nix_us }")"
