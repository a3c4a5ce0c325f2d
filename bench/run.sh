#!/usr/bin/env bash
# The side-by-side suite of issue 11: Kamailio 5.6 and sipfront on this
# machine, same sipp caller and boxes, runs alternating between the two
# (bench/lib.sh: the setup, shared with bench/compare/run.sh).
#
# Phases (PHASES, in this order by default):
#   capacity  step through RATES until a step fails twice: highest rate held
#   fixed     PAIRS alternating pairs at each of FIXED_RATES for FIXED_SECS:
#             proxy CPU (per call, % of a core), call-setup p50/p95/p99
#   memory    MEM_RATE for MEM_SECS, PSS sampled every second from
#             IDLE_SECS before the load to IDLE_SECS after it
#   reload    RELOAD_RATE for RELOAD_SECS without, then with a reload every
#             second (sipfront: SIGHUP; Kamailio: dispatcher.reload)
# Every step records the machine's CPU steal (/proc/stat) over the step.
#
# Usage: bench/run.sh                     (about 15 minutes)
#        SMOKE=1 bench/run.sh             (low rates, short steps: < 2 min)
#        PHASES="fixed memory" bench/run.sh
#        SKIP=kamailio PROFILE_RATE=1500 PROFILE_PHASE=fixed bench/run.sh
# Env:   RATES, STEP_SECS, FIXED_RATES, PAIRS, FIXED_SECS, MEM_RATE,
#        MEM_SECS, IDLE_SECS, RELOAD_RATE, RELOAD_SECS, WORK, SKIP,
#        SIPFRONT_BIN, GOMAXPROCS, KAM_CHILDREN, TOTAL_BUDGET (capacity, s),
#        SF_EXTRA (more serve flags, e.g. "--transaction-linger 2s").
# Output: WORK/summary.md (also printed), WORK/results.tsv (every step),
#         WORK/memory-PROXY.tsv (PSS over time).
set -u -o pipefail

if [ "${SMOKE:-}" = 1 ]; then
	: "${RATES:=100 200}" "${STEP_SECS:=3}" "${FIXED_RATES:=100 200}" "${PAIRS:=1}" "${FIXED_SECS:=4}"
	: "${MEM_RATE:=200}" "${MEM_SECS:=5}" "${IDLE_SECS:=3}" "${RELOAD_RATE:=200}" "${RELOAD_SECS:=5}"
fi
PHASES=${PHASES:-"capacity fixed memory reload"}
FIXED_RATES=${FIXED_RATES:-"1500 2500"}
PAIRS=${PAIRS:-3}
FIXED_SECS=${FIXED_SECS:-10}
MEM_RATE=${MEM_RATE:-3000}
MEM_SECS=${MEM_SECS:-20}
IDLE_SECS=${IDLE_SECS:-10}
RELOAD_RATE=${RELOAD_RATE:-2000}
RELOAD_SECS=${RELOAD_SECS:-15}
TOTAL_BUDGET=${TOTAL_BUDGET:-420}
. "$(dirname "$0")/lib.sh"

# fixed: PAIRS rounds; in each, both proxies at each rate, alternating.
fixed() {
	local pair rate name i=0
	for pair in $(seq "$PAIRS"); do
		for rate in $FIXED_RATES; do
			for name in $(alternate $i "${ACTIVE[@]}"); do
				step "fixed$pair" "$name" "$rate" "$FIXED_SECS"
				sleep 2
			done
			i=$((i + 1))
		done
	done
}

# memory: PSS every second around one load step per proxy.
memory() {
	local name sampler t
	for name in $(alternate 0 "${ACTIVE[@]}"); do
		printf 'second\tstate\tpss_mb\n' >"$WORK/memory-$name.tsv"
		touch "$WORK/mem.before"
		(
			t=0
			while :; do
				state=load
				[ -e "$WORK/mem.before" ] && state=idle-before
				[ -e "$WORK/mem.after" ] && state=idle-after
				printf '%d\t%s\t%.1f\n' $t $state "$(($(pss_kb $(proxy_pids "$name")) / 1024))"
				sleep 1
				t=$((t + 1))
			done
		) >>"$WORK/memory-$name.tsv" &
		sampler=$!
		sleep "$IDLE_SECS"
		rm -f "$WORK/mem.before"
		step memory "$name" "$MEM_RATE" "$MEM_SECS"
		touch "$WORK/mem.after"
		sleep "$IDLE_SECS"
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
		rm -f "$WORK/mem.after"
	done
}

# reload_phase: each proxy at RELOAD_RATE without reloads, then with one
# every second.
reload_phase() {
	local name loop
	for name in $(alternate 0 "${ACTIVE[@]}"); do
		step reload-off "$name" "$RELOAD_RATE" "$RELOAD_SECS"
		sleep 2
		(while :; do sleep 1; reload "$name"; echo . >>"$WORK/reloads-$name"; done) &
		loop=$!
		step reload-on "$name" "$RELOAD_RATE" "$RELOAD_SECS"
		kill "$loop" 2>/dev/null
		wait "$loop" 2>/dev/null
		sleep 2
	done
}

# summary: the tables of BENCHMARKS.md from results.tsv.
summary() {
	echo "# sipfront vs $KAM_VERSION, $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo
	echo "$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); kamailio children=$KAM_CHILDREN, sipfront GOMAXPROCS=$SF_PROCS${SF_EXTRA:+ serve $SF_EXTRA}; load average at the end:$(uptime | sed 's/.*load average://')"
	echo
	if grep -q '^capacity' "$WORK/results.tsv"; then
		echo '## Capacity'
		echo '```'
		capacity_report capacity
		echo '```'
	fi
	awk -F'\t' '
	NR == 1 { next }
	$1 ~ /^fixed|^memory|^reload/ {
		k = $1 SUBSEP $3
		if (!(k in seen)) { seen[k] = 1; keys[++n] = k }
		cpu[k, $2] = $11; core[k, $2] = $12; p50[k, $2] = $14; p95[k, $2] = $15; p99[k, $2] = $16
		fail[k, $2] = $7; st[k, $2] = $17; pss[k, $2] = $18
	}
	function ratio(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", b / a) : "-" }
	END {
		if (n == 0) exit
		print "## Fixed load, memory and reload steps (ratio = sipfront / kamailio)"
		print ""
		print "| step | rate | proxy CPU us/call k / s (ratio) | % of a core k / s | p50 k / s ms | p95 k / s ms | p99 k / s ms (ratio) | failed % k / s | steal % k / s | PSS MB k / s |"
		print "|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			k = keys[i]; split(k, a, SUBSEP)
			printf "| %s | %s | %s / %s (%s) | %s / %s | %s / %s | %s / %s | %s / %s (%s) | %s / %s | %s / %s | %s / %s |\n", a[1], a[2],
				cpu[k, "kamailio"], cpu[k, "sipfront"], ratio(cpu[k, "kamailio"], cpu[k, "sipfront"]),
				core[k, "kamailio"], core[k, "sipfront"], p50[k, "kamailio"], p50[k, "sipfront"],
				p95[k, "kamailio"], p95[k, "sipfront"], p99[k, "kamailio"], p99[k, "sipfront"], ratio(p99[k, "kamailio"], p99[k, "sipfront"]),
				fail[k, "kamailio"], fail[k, "sipfront"], st[k, "kamailio"], st[k, "sipfront"], pss[k, "kamailio"], pss[k, "sipfront"]
		}
	}' "$WORK/results.tsv"
	local name f
	for name in kamailio sipfront; do
		f="$WORK/memory-$name.tsv"
		[ -s "$f" ] || continue
		awk -F'\t' -v n="$name" 'NR > 1 {
			if ($2 == "idle-before") before = $3
			if ($2 == "load" && $3 > peak) peak = $3
			if ($2 == "idle-after") after = $3
		} END { printf "\nmemory %s: PSS %s MB idle, %s MB peak under load, %s MB %s s after it\n", n, before, peak, after, ENVIRON["IDLE_SECS"] }' "$f"
	done
	for name in kamailio sipfront; do
		[ -e "$WORK/reloads-$name" ] && echo "reloads $name: $(wc -l <"$WORK/reloads-$name") during the reload-on step"
	done
	echo
	echo "raw: $WORK/results.tsv"
}

export IDLE_SECS
start_all
for phase in $PHASES; do
	log "phase $phase"
	case $phase in
	capacity) capacity capacity ;;
	fixed) fixed ;;
	memory) memory ;;
	reload) reload_phase ;;
	*) echo "unknown phase $phase" >&2 ;;
	esac
done
stop_all
summary | tee "$WORK/summary.md"
