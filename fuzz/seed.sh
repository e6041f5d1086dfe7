#!/usr/bin/env bash
# Seeds the fuzz corpora from the project's own text: every `specs/` case and every example
# (`examples/*/*.spec`) goes to the text targets (parse, pipeline, fmt). The estate target reads
# structured bytes, not text, so it starts empty and grows its own corpus. The corpora are not
# committed: this script makes them again from whatever the repository holds.
set -euo pipefail
cd "$(dirname "$0")"
for target in parse pipeline fmt; do
  mkdir -p "corpus/$target"
  find ../specs ../examples -name '*.spec' -print0 | while IFS= read -r -d '' file; do
    # One file per case, named after its path so reruns overwrite rather than duplicate.
    name=$(echo "${file#../}" | tr '/' '_')
    cp "$file" "corpus/$target/seed_$name"
  done
done
mkdir -p corpus/estate
echo "seeded: $(ls corpus/parse | grep -c "^seed_") files each for parse, pipeline, fmt"
