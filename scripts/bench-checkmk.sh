#!/usr/bin/env bash
# CheckMK comparison benchmark (issue "CheckMK: compare the inventory with CheckMK's hosts"), on
# the release build: 5,000 inventory devices, each a host in checkmk-sim, compared with the
# simulator answering every request after 0 ms and after 20 ms (side by side, in one run). The
# target: at most 15 s at 20 ms. Prints the `BENCH` lines the test writes.
# Usage: bash scripts/bench-checkmk.sh   (SQLite; NETRAVEN_TEST_DATABASE_URL=postgres://... for PG)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q --test api checkmk_benchmark -- --ignored --nocapture 2>&1 | grep -E '^BENCH|panicked|test result'
