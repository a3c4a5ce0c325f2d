#!/usr/bin/env bash
# Capacity only: Kamailio 5.6 and sipfront stepped through RATES side by
# side (bench/run.sh runs the whole suite; bench/lib.sh has the setup).
#
# For each proxy the caller runs steps at increasing rates (RATES, calls/s);
# each step places RATE*STEP_SECS calls, bounded by a sipp -timeout and a
# `timeout` wrapper. A step "holds" when fewer than 0.1% of its calls failed
# and the calls completed at >= 95% of the offered rate. A step that does
# not hold is run once more; the stepping stops for a proxy after a step
# that fails twice. Both proxies run side by side and their steps
# alternate, the order swapped from one rate to the next.
#
# Usage: bench/compare/run.sh            (from the module root or anywhere)
# Env:   RATES="200 400 ..."  STEP_SECS=8  WORK=/tmp/dir  SKIP=kamailio|sipfront
#        SIPFRONT_BIN=path (default: go build ./cmd/sipfront)
#        GOMAXPROCS / KAM_CHILDREN (default 2 each)
#        PROFILE_RATE=1200: during that sipfront step, take a CPU profile and
#        an allocation profile through SIPFRONT_PPROF (needs curl); they land
#        in WORK as sipfront-RATE.cpu.pprof / .allocs.pprof.
set -u -o pipefail
. "$(dirname "$0")/../lib.sh"

start_all
capacity capacity
stop_all

echo
echo "$KAM_VERSION (children=$KAM_CHILDREN) vs sipfront (GOMAXPROCS=$SF_PROCS), $(nproc) CPUs, ${STEP_SECS}s steps"
echo
capacity_report capacity
echo
echo "raw results: $WORK/results.tsv (elapsed $(($(date +%s) - START_TS))s)"
