#!/usr/bin/env bash
# CI's short fuzz runs: each target for FUZZ_SECONDS (default 60) from the seeded corpus, so a
# regression that crashes, hangs or exhausts memory (over 4 GiB) on any known input or a near
# mutation fails the build. A hang is one input taking over 120 s: the sanitizer runs the compiler
# about a hundred times slower than a release build, where an input spending the whole evaluation
# budget (E0407) takes about a second. Needs cargo-fuzz and a nightly toolchain; without
# them it prints a loud SKIPPED line and succeeds, so CI on a stable-only machine still runs the rest.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "SKIPPED  fuzzing: cargo-fuzz is not installed (cargo install cargo-fuzz)"
  exit 0
fi
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "SKIPPED  fuzzing: no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
./seed.sh
cargo +nightly fuzz build
for target in parse pipeline fmt estate; do
  echo "== fuzz $target (${seconds} s)"
  # libFuzzer prints its statistics on stderr; on success only the final line (runs, coverage) is shown.
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -timeout=120 -rss_limit_mb=4096 -len_control=0 \
      2>"$target.log"; then
    tail -n 60 "$target.log"
    echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE' "$target.log" | tail -n 1 || true
  rm -f "$target.log"
done
