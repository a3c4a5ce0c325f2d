# bench/lib.sh: what the side-by-side benchmarks share (sourced, not run):
# tool checks, the sipp scenarios, the Kamailio and sipfront configs, the
# proxies' lifecycle and one load step. bench/run.sh (the whole suite) and
# bench/compare/run.sh (capacity only) source it.
#
#   sipp UAC --> proxy (kamailio | sipfront) --> 3 x sipp UAS ("Asterisk boxes")
#
# Both proxies: UDP on 127.0.0.1, round robin over the three boxes,
# Record-Route, stateful relay, serial failover on 5xx and on timeout (2 s),
# request sanity checks, 2 workers (Kamailio children=2, sipfront
# GOMAXPROCS=2). Each call is INVITE / 100 / 200 / ACK / BYE / 200.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RATES=${RATES:-"200 400 800 1000 1200 1400 1600 1800 2000 2200 2500 3000 3500 4000 4500"}
STEP_SECS=${STEP_SECS:-8}
WORKERS=${WORKERS:-2}
KAM_CHILDREN=${KAM_CHILDREN:-$WORKERS}
SF_PROCS=${GOMAXPROCS:-$WORKERS}
WORK=${WORK:-$(mktemp -d /tmp/sipfront-compare.XXXXXX)}
SKIP=${SKIP:-}
PROFILE_RATE=${PROFILE_RATE:-}
PPROF_ADDR=127.0.0.1:25071
TOTAL_BUDGET=${TOTAL_BUDGET:-570} # seconds; the whole run stays under 10 min

IP=127.0.0.1
KAM_PORT=25060
SF_PORT=25070
BOX_PORTS="25081 25082 25083"
UAC_PORT=25090
FAILOVER_TIMEOUT_MS=2000

mkdir -p "$WORK"
START_TS=$(date +%s)
PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
command -v sipp >/dev/null || { echo "sipp (sip-tester) is required" >&2; exit 1; }
if ! command -v kamailio >/dev/null; then
	log "installing kamailio"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y kamailio >"$WORK/apt.log" 2>&1 ||
		{ $SUDO apt-get update >>"$WORK/apt.log" 2>&1 && $SUDO apt-get install -y kamailio >>"$WORK/apt.log" 2>&1; } ||
		{ echo "could not install kamailio, see $WORK/apt.log" >&2; exit 1; }
fi
KAM_VERSION=$(kamailio -v 2>/dev/null | sed -n 's/^version: //p' | head -1)
KAM_MPATH=$(dirname "$(find /usr/lib /usr/local/lib -name tm.so -path '*kamailio/modules*' 2>/dev/null | head -1)")
[ -n "$KAM_MPATH" ] || { echo "kamailio modules not found" >&2; exit 1; }

SF_BIN=${SIPFRONT_BIN:-}
if [ -z "$SF_BIN" ]; then
	SF_BIN="$WORK/sipfront"
	log "building sipfront"
	(cd "$ROOT" && go build -o "$SF_BIN" ./cmd/sipfront) || exit 1
fi

for p in $KAM_PORT $SF_PORT $BOX_PORTS $UAC_PORT; do
	if ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then
		echo "udp port $p is busy" >&2
		exit 1
	fi
done

# ---------------------------------------------------------------- configs
# The boxes: 200 at once (retransmitted until ACKed), ACK, BYE -> 200. No
# 180: with several workers a proxy may relay the 180 after the 200 (both
# Kamailio's processes and sipfront's goroutines can reorder), and sipp
# counts a late 180 as an unexpected message, a failed call.
cat >"$WORK/uas.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="box">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=box 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <timewait milliseconds="1000"/>
</scenario>
EOF

# The caller: INVITE with SDP, 200 (route set from Record-Route), ACK and
# BYE along the route set, 200. No pause: the shortest possible call.
cat >"$WORK/uac.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "sipp" <sip:caller[call_number]@bench.test>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@bench.test>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller[call_number]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      User-Agent: sipp-bench
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "sipp" <sip:caller[call_number]@bench.test>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@bench.test>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "sipp" <sip:caller[call_number]@bench.test>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@bench.test>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
EOF

# Kamailio 5.6: dispatcher (list file, no database) round robin, record_route,
# t_relay, failure_route to the next destination on 5xx or on a branch
# timeout, the sanity checks of the stock kamailio.cfg, Max-Forwards.
: >"$WORK/dispatcher.list"
for p in $BOX_PORTS; do echo "1 sip:$IP:$p" >>"$WORK/dispatcher.list"; done
cat >"$WORK/kamailio.cfg" <<EOF
#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children=$KAM_CHILDREN
disable_tcp=yes
auto_aliases=no
listen=udp:$IP:$KAM_PORT
alias="$IP:$KAM_PORT"
dns=no
rev_dns=no
use_dns_cache=off

mpath="$KAM_MPATH/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "dispatcher.so"
loadmodule "ctl.so"

modparam("tm", "fr_timer", $FAILOVER_TIMEOUT_MS)
modparam("tm", "fr_inv_timer", 120000)
modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 0)
modparam("dispatcher", "list_file", "$WORK/dispatcher.list")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", 0)
modparam("ctl", "binrpc", "unix:$WORK/kamailio_ctl")

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check("17895", "7")) {
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			route(RELAY);
		}
		if (is_method("ACK")) {
			if (t_check_trans()) {
				route(RELAY);
			}
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			route(RELAY);
		}
		exit;
	}
	t_check_trans();
	if (is_method("INVITE|SUBSCRIBE|REFER")) {
		record_route();
	}
	if (!ds_select_dst("1", "4")) {
		sl_send_reply("503", "No destination");
		exit;
	}
	t_on_failure("DISPATCH_FAILOVER");
	route(RELAY);
}

route[RELAY] {
	if (!t_relay()) {
		sl_reply_error();
	}
	exit;
}

failure_route[DISPATCH_FAILOVER] {
	if (t_is_canceled()) {
		exit;
	}
	if (t_check_status("5[0-9][0-9]") || (t_branch_timeout() && !t_branch_replied())) {
		if (ds_next_dst()) {
			t_on_failure("DISPATCH_FAILOVER");
			route(RELAY);
		}
	}
}
EOF

mkdir -p "$WORK/policy"
{
	cat <<EOF
proxy {
  listen    = ["udp:$IP:$SF_PORT"]
  advertise = "$IP:$SF_PORT"
  domains   = ["$IP"]
  admin     = ""
}
pool "pbx" {
  balance  = "round-robin"
  failover {
    on        = [500, 502, 503, 504]
    max_tries = 3
    timeout   = "${FAILOVER_TIMEOUT_MS}ms"
  }
EOF
	i=1
	for p in $BOX_PORTS; do echo "  member \"b$i\" { uri = \"sip:$IP:$p\" }"; i=$((i + 1)); done
	cat <<'EOF'
}
route "all" { to = pool.pbx }
EOF
} >"$WORK/policy/bench.hcl"

# ---------------------------------------------------------------- helpers
# cpu_ticks PID...: user+system clock ticks of the processes and their
# reaped children.
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		f=$(sed 's/^.*) //' "/proc/$p/stat")
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
# kam_pids: the main Kamailio process and its children.
kam_pids() { local m; m=$(cat "$WORK/kamailio.pid" 2>/dev/null) || return; echo "$m $(pgrep -P "$m" | tr '\n' ' ')"; }
HZ=$(getconf CLK_TCK)

BOX_PIDS=()
start_boxes() {
	BOX_PIDS=()
	local p
	for p in $BOX_PORTS; do
		# -timeout is only a safety net should this script die without
		# stop_boxes; it must outlive the longest run (the full suite
		# takes about 15 minutes: 600 s once killed the boxes mid-run).
		sipp -sf "$WORK/uas.xml" -i $IP -p "$p" -nostdin -timeout "${BOX_LIFETIME:-7200}s" \
			>"$WORK/box-$p.out" 2>&1 &
		BOX_PIDS+=($!)
		PIDS+=($!)
	done
	sleep 0.5
}
stop_boxes() {
	local p
	for p in "${BOX_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BOX_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	BOX_PIDS=()
}

declare -A PROXY_PID
start_proxy() {
	case $1 in
	kamailio)
		rm -f "$WORK/kamailio.pid"
		mkdir -p "$WORK/kamrun"
		kamailio -f "$WORK/kamailio.cfg" -c >"$WORK/kamailio-check.log" 2>&1 ||
			{ cat "$WORK/kamailio-check.log" >&2; return 1; }
		kamailio -f "$WORK/kamailio.cfg" -DD -E -m 512 -M 16 -P "$WORK/kamailio.pid" \
			-Y "$WORK/kamrun" >"$WORK/kamailio.log" 2>&1 &
		PROXY_PID[$1]=$!
		;;
	sipfront)
		local env=()
		[ -n "$PROFILE_RATE" ] && env=(SIPFRONT_PPROF=$PPROF_ADDR)
		env "${env[@]}" GOMAXPROCS=$SF_PROCS "$SF_BIN" serve ${SF_EXTRA:-} --log-level warn --state-dir "$WORK/state" "$WORK/policy" >"$WORK/sipfront.log" 2>&1 &
		PROXY_PID[$1]=$!
		;;
	esac
	PIDS+=(${PROXY_PID[$1]})
	sleep 1.5
	kill -0 "${PROXY_PID[$1]}" 2>/dev/null || { echo "$1 did not start:" >&2; tail "$WORK/$1.log" >&2; return 1; }
}
stop_proxy() {
	local p=${PROXY_PID[$1]:-}
	[ -n "$p" ] || return
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	PROXY_PID[$1]=
}
proxy_pids() { if [ "$1" = kamailio ]; then kam_pids; else echo "${PROXY_PID[$1]}"; fi; }
proxy_port() { if [ "$1" = kamailio ]; then echo $KAM_PORT; else echo $SF_PORT; fi; }

# cpu_steal: "steal total" clock ticks of the whole machine (/proc/stat).
cpu_steal() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t; exit }' /proc/stat; }

# pss_kb PID...: proportional set size of the processes (shared memory
# divided among its users, so Kamailio's processes add up correctly).
pss_kb() {
	local t=0 p v
	for p in "$@"; do
		v=$(awk '$1 == "Pss:" { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# percentiles FILE: p50 p95 p99 (ms) of sipp's per-call response times
# (-trace_rtt: "date_ms;response_time_ms;rtd_no" lines).
percentiles() {
	awk -F';' 'NR > 1 && $2 != "" { print $2 + 0 }' "$1" 2>/dev/null | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- - -"; exit }
			printf "%.1f %.1f %.1f\n", v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.95) + 1], v[int((NR - 1) * 0.99) + 1]
		}'
}

RESULTS_HEADER='phase\tproxy\trate\tcalls\tok\tfailed\tfailed%%\tretrans\tcalls/s\tcpu_s\tcpu_us/call\tcpu_%%core\trtt_ms\tp50_ms\tp95_ms\tp99_ms\tsteal_%%\tpss_mb\tholds\n'

# step PHASE PROXY RATE [SECS]: one load step; appends a line to
# results.tsv and says whether the step held.
step() {
	local phase=$1 name=$2 rate=$3 secs=${4:-$STEP_SECS}
	local port calls tag stf c0 c1 t0 t1 rc s0 s1 prof= b
	# A dead box fails every call of whichever proxy runs next: say so
	# rather than record it as the proxy's failure.
	for b in "${BOX_PIDS[@]}"; do
		kill -0 "$b" 2>/dev/null || { echo "a box (pid $b) has died before step $phase $name $rate: results from here are void" >&2; exit 1; }
	done
	port=$(proxy_port "$name")
	calls=$((rate * secs))
	tag="$phase-$name-$rate"
	stf="$WORK/$tag.csv"
	rm -f "$stf" "$WORK"/uac_*_rtt.csv
	c0=$(cpu_ticks $(proxy_pids "$name"))
	s0=$(cpu_steal)
	if [ "$name" = sipfront ] && [ "$rate" = "$PROFILE_RATE" ] && [ "$phase" = "${PROFILE_PHASE:-$phase}" ]; then
		curl -s -o "$WORK/sipfront-$rate.allocs0.pprof" "http://$PPROF_ADDR/debug/pprof/allocs"
		(sleep 1; curl -s -o "$WORK/sipfront-$rate.cpu.pprof" \
			"http://$PPROF_ADDR/debug/pprof/profile?seconds=$((secs - 2))") &
		prof=$!
	fi
	t0=$(date +%s.%N)
	# sipp writes its -trace_rtt file into the current directory.
	(cd "$WORK" && timeout $((secs * 3 + 30)) sipp -sf "$WORK/uac.xml" -s "${SIPP_SERVICE:-bob}" "$IP:$port" -i $IP -p $UAC_PORT \
		-r "$rate" -rp 1000 -m "$calls" -l $((rate * 5)) -recv_timeout 5000 \
		-timeout $((secs * 3 + 20))s -nostdin -trace_err -error_file "$WORK/$tag.err" \
		-trace_stat -stf "$stf" -fd 3600 -trace_rtt -rtt_freq 1 >"$WORK/$tag.out" 2>&1)
	rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks $(proxy_pids "$name"))
	s1=$(cpu_steal)
	mv "$WORK"/uac_*_rtt.csv "$WORK/$tag.rtt.csv" 2>/dev/null
	if [ -n "$prof" ]; then
		wait "$prof"
		curl -s -o "$WORK/sipfront-$rate.allocs.pprof" "http://$PPROF_ADDR/debug/pprof/allocs"
		curl -s -o "$WORK/sipfront-$rate.goroutines.txt" "http://$PPROF_ADDR/debug/pprof/goroutine?debug=1"
	fi
	# last line of the stat file: cumulative (C) columns
	local line ok failed retrans rtt pct pss
	line=$(tail -1 "$stf" 2>/dev/null)
	ok=$(echo "$line" | cut -d';' -f16)
	failed=$(echo "$line" | cut -d';' -f18)
	retrans=$(echo "$line" | cut -d';' -f58)
	rtt=$(echo "$line" | cut -d';' -f70)
	: "${ok:=0}" "${failed:=$calls}" "${retrans:=0}"
	# HH:MM:SS:uuuuuu -> ms (INVITE to 200, mean)
	rtt=$(echo "$rtt" | awk -F: 'NF == 4 { printf "%.1f", ($1 * 3600 + $2 * 60 + $3) * 1000 + $4 / 1000; next } { print "-" }')
	pct=$(percentiles "$WORK/$tag.rtt.csv")
	pss=$(pss_kb $(proxy_pids "$name"))
	# calls that never ended (sipp killed) count as failed
	local missing=$((calls - ok - failed))
	[ "$missing" -gt 0 ] && failed=$((failed + missing))
	awk -v ph="$phase" -v n="$name" -v r="$rate" -v c="$calls" -v ok="$ok" -v f="$failed" -v rt="$retrans" \
		-v t0="$t0" -v t1="$t1" -v ticks=$((c1 - c0)) -v hz="$HZ" -v rtt="$rtt" -v pct="$pct" \
		-v s0="$s0" -v s1="$s1" -v pss="$pss" 'BEGIN {
		el = t1 - t0; cps = ok / el; cpu = ticks / hz
		fr = (c > 0) ? 100 * f / c : 100
		holds = (fr < 0.1 && cps >= 0.95 * r) ? "yes" : "no"
		split(s0, a, " "); split(s1, b, " "); st = (b[2] > a[2]) ? 100 * (b[1] - a[1]) / (b[2] - a[2]) : 0
		split(pct, p, " ")
		printf "%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%d\t%.0f\t%.2f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%.1f\t%.0f\t%s\n", ph, n, r, c, ok, f, fr, rt, cps, cpu, (ok > 0 ? 1e6 * cpu / ok : 0), 100 * cpu / el, rtt, p[1], p[2], p[3], st, pss / 1024, holds
	}' >>"$WORK/results.tsv"
	tail -1 "$WORK/results.tsv" | awk -F'\t' '{printf "  %-9s %-8s %5d cps: ok %d failed %d (%.3f%%) -> %s calls/s, cpu %s us/call (%s%% of a core), p50/p95/p99 %s/%s/%s ms, steal %s%%, pss %s MB: holds=%s\n", $1,$2,$3,$5,$6,$7,$9,$11,$12,$14,$15,$16,$17,$18,$19}' >&2
	[ "$(tail -1 "$WORK/results.tsv" | cut -f19)" = yes ]
}

# reload PROXY: one policy reload (sipfront: SIGHUP; Kamailio: the
# dispatcher list, through kamcmd).
reload() {
	case $1 in
	sipfront) kill -HUP "${PROXY_PID[sipfront]}" ;;
	kamailio) kamcmd -s "unix:$WORK/kamailio_ctl" dispatcher.reload >/dev/null 2>&1 ;;
	esac
}

# alternate RATE NAME...: the proxies in the order for the i-th rate (the
# order swaps from one rate to the next, so that a drift in the machine's
# background load hits both).
alternate() {
	local i=$1; shift
	if [ $((i % 2)) = 1 ] && [ $# = 2 ]; then echo "$2 $1"; else echo "$*"; fi
}

# capacity [PHASE]: step both proxies through RATES, alternating; a step
# that does not hold is run once more before the proxy leaves the phase
# (the table keeps both attempts). Stops before TOTAL_BUDGET.
capacity() {
	local phase=${1:-capacity} active=("${ACTIVE[@]}") i=0 rate name
	for rate in $RATES; do
		[ ${#active[@]} -gt 0 ] || break
		if [ $(($(date +%s) - START_TS + (STEP_SECS + 4) * 2 * ${#active[@]})) -gt "$TOTAL_BUDGET" ]; then
			log "time budget reached, stopping the $phase phase"
			break
		fi
		for name in $(alternate $i "${active[@]}"); do
			if ! step "$phase" "$name" "$rate"; then
				sleep 3
				log "$name: $rate cps once more"
				step "$phase" "$name" "$rate" ||
					active=($(printf '%s\n' "${active[@]}" | grep -vx "$name"))
			fi
			sleep 2
		done
		i=$((i + 1))
	done
}

# capacity_report [PHASE]: per rate, both proxies' completed rate and
# failures (last attempt), the highest rate held and the ratio.
capacity_report() {
	awk -F'\t' -v ph="${1:-capacity}" '$1 != ph { next }
{ k = $2 SUBSEP $3; seen[$3] = 1; v[k] = sprintf("%6s/s %5s fail %6s%% %5s us", $9, $6, $7, $11) (($19 == "yes") ? "  " : " x")
  if ($19 == "yes" && $3 > best[$2] && !(($2 SUBSEP "failed") in best)) best[$2] = $3
  if ($19 != "yes" && (k in tried)) best[$2 SUBSEP "failed"] = 1
  tried[k] = 1 }
END {
	printf "%-7s | %-42s | %-42s\n", "offered", "kamailio: done/s failed  cpu/call", "sipfront: done/s failed  cpu/call"
	n = 0; for (r in seen) rates[++n] = r + 0
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rates[j] < rates[i]) { t = rates[i]; rates[i] = rates[j]; rates[j] = t }
	for (i = 1; i <= n; i++) {
		r = rates[i]
		a = ((("kamailio" SUBSEP r) in v) ? v["kamailio" SUBSEP r] : "-")
		b = ((("sipfront" SUBSEP r) in v) ? v["sipfront" SUBSEP r] : "-")
		printf "%-7d | %-42s | %-42s\n", r, a, b
	}
	printf "\n(x: step not held: >= 0.1%% failed or < 95%% of the offered rate)\n"
	printf "highest rate held before the first failed step: kamailio %d cps, sipfront %d cps", best["kamailio"], best["sipfront"]
	if (best["kamailio"] > 0) printf ", ratio sipfront/kamailio %.2f", best["sipfront"] / best["kamailio"]
	printf "\n"
}' "$WORK/results.tsv"
}

# start_all: the boxes and every proxy not in SKIP; ACTIVE lists those up.
start_all() {
	printf "$RESULTS_HEADER" >"$WORK/results.tsv"
	log "work dir $WORK; kamailio $KAM_VERSION children=$KAM_CHILDREN; sipfront GOMAXPROCS=$SF_PROCS; $(nproc) CPUs; $(uptime)"
	start_boxes
	ACTIVE=()
	local name
	for name in kamailio sipfront; do
		case " $SKIP " in *" $name "*) continue ;; esac
		start_proxy "$name" && ACTIVE+=("$name") && log "$name on $IP:$(proxy_port "$name")"
	done
}

# stop_all stops the proxies and the boxes.
stop_all() {
	local name
	for name in kamailio sipfront; do stop_proxy "$name"; done
	stop_boxes
}
