#!/usr/bin/env bash
# Calls through least-cost routing beside the pool path (issue 9): the same
# sipfront binary, the same sipp caller and the same three sipp UAS, once as
# a pool of three boxes (round robin) and once as three carriers of equal
# priority and weight behind `to = carriers` (weighted rendezvous per
# Call-ID). The two policies alternate at every rate, so that drift in the
# machine's load hits both; each step records proxy CPU per call, p50/p95/
# p99 call setup and CPU steal (bench/lib.sh).
#
# Usage: bench/lcr.sh                  (RATES="500 1000 1500", 10 s steps)
# Env:   RATES, STEP_SECS, PAIRS (alternating pairs per rate), WORK,
#        SIPFRONT_BIN, GOMAXPROCS.
# Output: WORK/results.tsv and a summary table of the ratios LCR / pool.
set -u -o pipefail

RATES=${RATES:-"500 1000 1500"}
STEP_SECS=${STEP_SECS:-10}
PAIRS=${PAIRS:-2}
# shellcheck source=bench/lib.sh
SIPP_SERVICE=${SIPP_SERVICE:-15551230000}
. "$(dirname "$0")/lib.sh"

# The LCR policy: the boxes of the pool policy as three carriers serving
# prefix 1; the caller dials a number under it in both variants.
write_lcr_policy() {
	{
		cat <<EOF
proxy {
  listen    = ["udp:$IP:$SF_PORT"]
  advertise = "$IP:$SF_PORT"
  domains   = ["$IP"]
  admin     = ""
}
EOF
		local i=1 p
		for p in $BOX_PORTS; do
			cat <<EOF
carrier "c$i" {
  uri      = "sip:$IP:$p"
  prefixes = ["1"]
  failover {
    on        = [500, 502, 503, 504]
    max_tries = 3
    timeout   = "${FAILOVER_TIMEOUT_MS}ms"
  }
}
EOF
			i=$((i + 1))
		done
		echo 'route "pstn" { to = carriers }'
	} >"$WORK/policy-lcr.hcl"
	cp "$WORK/policy/bench.hcl" "$WORK/policy-pool.hcl"
}

# run_variant VARIANT RATE: one step with the policy of VARIANT (pool|lcr).
run_variant() {
	cp "$WORK/policy-$1.hcl" "$WORK/policy/bench.hcl"
	start_proxy sipfront || return 1
	step "$1" sipfront "$2"
	stop_proxy sipfront
}

write_lcr_policy
"$SF_BIN" validate "$WORK/policy-lcr.hcl" >&2 || exit 1
printf "$RESULTS_HEADER" >"$WORK/results.tsv"
start_boxes
i=0
for rate in $RATES; do
	for _ in $(seq "$PAIRS"); do
		for v in $(alternate $i pool lcr); do
			run_variant "$v" "$rate"
		done
		i=$((i + 1))
	done
done
stop_boxes

# Summary: medians per variant and rate, and the LCR / pool ratios.
awk -F'\t' 'NR > 1 && ($1 == "pool" || $1 == "lcr") {
	k = $3; cpu[$1, k] = cpu[$1, k] " " $11; p99[$1, k] = p99[$1, k] " " $16
	fail[$1, k] += $6; rates[k] = 1
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n ? a[int((n + 1) / 2)] : "-"
}
END {
	print "| calls/s | pool cpu us/call | lcr cpu us/call | lcr/pool | pool p99 ms | lcr p99 ms | failed pool/lcr |"
	print "|---|---|---|---|---|---|---|"
	for (k in rates) {
		a = median(cpu["pool", k]); b = median(cpu["lcr", k])
		printf "| %s | %s | %s | %.2f | %s | %s | %d/%d |\n", k, a, b, (a > 0 ? b / a : 0), median(p99["pool", k]), median(p99["lcr", k]), fail["pool", k], fail["lcr", k]
	}
}' "$WORK/results.tsv" | tee "$WORK/summary.md"
log "results in $WORK"
