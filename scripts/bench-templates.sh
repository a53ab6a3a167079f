#!/usr/bin/env bash
# Template rendering benchmark (issue "Templates with version history, rendering ..."), on the
# release build: one template rendered for 10,000 devices with a 200-line stored configuration
# each, beside a one-line template (the cost of reading the devices' contexts), in one run. The
# target: at most 2 s. Prints the `BENCH` lines the test writes.
# Usage: bash scripts/bench-templates.sh   (SQLite; NETRAVEN_TEST_DATABASE_URL=postgres://... for PG)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q --test api template_render_benchmark -- --ignored --nocapture 2>&1 | grep -E '^BENCH|panicked|test result'
