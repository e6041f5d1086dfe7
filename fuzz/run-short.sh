#!/usr/bin/env bash
# CI's short fuzz runs: each target for FUZZ_SECONDS (default 60) from the seeded corpus, so a
# regression that crashes, hangs or exhausts memory (over 4 GiB) on any known input or a near
# mutation fails the build. A hang is one input taking over 120 s: the sanitizer runs the compiler
# about a hundred times slower than a release build, where an input spending the whole evaluation
# budget (E0407) takes about a second. Needs cargo-fuzz and a nightly toolchain (.ci/run installs
# cargo-fuzz). Without them: under CI=true this fails, so a CI run never passes without fuzzing;
# elsewhere it prints a loud SKIPPED line and succeeds. FUZZ_SECONDS=0 skips on purpose, saying so.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
missing() {
  if [ "${CI:-}" = true ]; then
    echo "FAILED   fuzzing: $1; CI runs every fuzz target (FUZZ_SECONDS=0 to skip on purpose)"
    exit 1
  fi
  echo "SKIPPED  fuzzing: $1"
  exit 0
}
if [ "$seconds" = 0 ]; then
  echo "SKIPPED  fuzzing: FUZZ_SECONDS=0"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  missing "cargo-fuzz is not installed (cargo install cargo-fuzz --locked)"
fi
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  missing "no nightly toolchain (rustup toolchain install nightly)"
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
