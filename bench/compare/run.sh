#!/usr/bin/env bash
# Side-by-side benchmark: Kamailio 5.6 and sipfront, same machine, same load.
#
#   sipp UAC --> proxy (kamailio | sipfront) --> 3 x sipp UAS ("Asterisk boxes")
#
# Both proxies: UDP on 127.0.0.1, round robin over the three boxes,
# Record-Route, stateful relay, serial failover on 5xx and on timeout (2 s),
# request sanity checks, 2 workers (Kamailio children=2, sipfront
# GOMAXPROCS=2). Each call is INVITE / 100 / 200 / ACK / BYE / 200.
#
# For each proxy the caller runs steps at increasing rates (RATES, calls/s);
# each step places RATE*STEP_SECS calls, bounded by a sipp -timeout and a
# `timeout` wrapper. A step "holds" when fewer than 0.1% of its calls failed
# and the calls completed at >= 95% of the offered rate. A step that does
# not hold is run once more; the stepping stops for a proxy after a step
# that fails twice. Both proxies run side by side and their steps
# alternate (see below).
#
# Usage: bench/compare/run.sh            (from the module root or anywhere)
# Env:   RATES="200 400 ..."  STEP_SECS=8  WORK=/tmp/dir  SKIP=kamailio|sipfront
#        SIPFRONT_BIN=path (default: go build ./cmd/sipfront)
#        GOMAXPROCS / KAM_CHILDREN (default 2 each)
#        PROFILE_RATE=1200: during that sipfront step, take a CPU profile and
#        an allocation profile through SIPFRONT_PPROF (needs curl); they land
#        in WORK as sipfront-RATE.cpu.pprof / .allocs.pprof.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RATES=${RATES:-"200 400 800 1000 1200 1400 1600 1800 2000 2200 2500 3000 3500"}
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

modparam("tm", "fr_timer", $FAILOVER_TIMEOUT_MS)
modparam("tm", "fr_inv_timer", 120000)
modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 0)
modparam("dispatcher", "list_file", "$WORK/dispatcher.list")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", 0)

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
		sipp -sf "$WORK/uas.xml" -i $IP -p "$p" -nostdin -timeout 600s \
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
		env "${env[@]}" GOMAXPROCS=$SF_PROCS "$SF_BIN" serve --log-level warn "$WORK/policy" >"$WORK/sipfront.log" 2>&1 &
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

# step PROXY PORT RATE: one load step; appends a line to results.tsv.
step() {
	local name=$1 port=$2 rate=$3
	local calls=$((rate * STEP_SECS))
	local stf="$WORK/$name-$rate.csv"
	local c0 c1 t0 t1 rc
	rm -f "$stf"
	c0=$(cpu_ticks $(proxy_pids "$name"))
	local prof=
	if [ "$name" = sipfront ] && [ "$rate" = "$PROFILE_RATE" ]; then
		curl -s -o "$WORK/sipfront-$rate.allocs0.pprof" "http://$PPROF_ADDR/debug/pprof/allocs"
		(sleep 1; curl -s -o "$WORK/sipfront-$rate.cpu.pprof" \
			"http://$PPROF_ADDR/debug/pprof/profile?seconds=$((STEP_SECS - 2))") &
		prof=$!
	fi
	t0=$(date +%s.%N)
	timeout $((STEP_SECS * 3 + 30)) sipp -sf "$WORK/uac.xml" -s bob "$IP:$port" -i $IP -p $UAC_PORT \
		-r "$rate" -rp 1000 -m "$calls" -l $((rate * 5)) -recv_timeout 5000 \
		-timeout $((STEP_SECS * 3 + 20))s -nostdin -trace_err -error_file "$WORK/$name-$rate.err" \
		-trace_stat -stf "$stf" -fd 3600 >"$WORK/$name-$rate.out" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks $(proxy_pids "$name"))
	if [ -n "$prof" ]; then
		wait "$prof"
		curl -s -o "$WORK/sipfront-$rate.allocs.pprof" "http://$PPROF_ADDR/debug/pprof/allocs"
		curl -s -o "$WORK/sipfront-$rate.goroutines.txt" "http://$PPROF_ADDR/debug/pprof/goroutine?debug=1"
	fi
	# last line of the stat file: cumulative (C) columns
	local line ok failed retrans rtt
	line=$(tail -1 "$stf" 2>/dev/null)
	ok=$(echo "$line" | cut -d';' -f16)
	failed=$(echo "$line" | cut -d';' -f18)
	retrans=$(echo "$line" | cut -d';' -f58)
	rtt=$(echo "$line" | cut -d';' -f70)
	: "${ok:=0}" "${failed:=$calls}" "${retrans:=0}"
	# HH:MM:SS:uuuuuu -> ms (INVITE to 200, mean)
	rtt=$(echo "$rtt" | awk -F: 'NF == 4 { printf "%.1f", ($1 * 3600 + $2 * 60 + $3) * 1000 + $4 / 1000; next } { print "-" }')
	# calls that never ended (sipp killed) count as failed
	local missing=$((calls - ok - failed))
	[ "$missing" -gt 0 ] && failed=$((failed + missing))
	awk -v n="$name" -v r="$rate" -v c="$calls" -v ok="$ok" -v f="$failed" -v rt="$retrans" \
		-v t0="$t0" -v t1="$t1" -v ticks=$((c1 - c0)) -v hz="$HZ" -v rtt="$rtt" -v rc="$rc" 'BEGIN {
		el = t1 - t0; cps = ok / el; cpu = ticks / hz
		fr = (c > 0) ? 100 * f / c : 100
		holds = (fr < 0.1 && cps >= 0.95 * r) ? "yes" : "no"
		printf "%s\t%d\t%d\t%d\t%d\t%.3f\t%d\t%.0f\t%.2f\t%.0f\t%s\t%s\n", n, r, c, ok, f, fr, rt, cps, cpu, (ok > 0 ? 1e6 * cpu / ok : 0), rtt, holds
	}' >>"$WORK/results.tsv"
	tail -1 "$WORK/results.tsv" | awk -F'\t' '{printf "  %-8s %5d cps: ok %d failed %d (%.3f%%) retrans %d -> %s calls/s, cpu %ss (%s us/call), rtt %sms: holds=%s\n", $1,$2,$4,$5,$6,$7,$8,$9,$10,$11,$12}' >&2
	[ "$(tail -1 "$WORK/results.tsv" | cut -f12)" = yes ]
}

# ---------------------------------------------------------------- run
# Both proxies run at once in front of the same boxes (an idle proxy costs
# nothing), and their steps alternate at each rate, the order swapped from
# one rate to the next: a change in the background load of the machine
# hits both alike. A step that does not hold is run once more before the
# proxy is out; the report keeps the last attempt.
printf 'proxy\trate\tcalls\tok\tfailed\tfailed%%\tretrans\tcalls/s\tcpu_s\tcpu_us/call\trtt_ms\tholds\n' >"$WORK/results.tsv"
log "work dir $WORK; kamailio $KAM_VERSION children=$KAM_CHILDREN; sipfront GOMAXPROCS=$SF_PROCS; $(nproc) CPUs"
start_boxes
active=()
for name in kamailio sipfront; do
	case " $SKIP " in *" $name "*) continue ;; esac
	start_proxy "$name" && active+=("$name") && log "$name on $IP:$(proxy_port "$name")"
done
i=0
for rate in $RATES; do
	[ ${#active[@]} -gt 0 ] || break
	if [ $(($(date +%s) - START_TS + (STEP_SECS + 4) * 2 * ${#active[@]})) -gt "$TOTAL_BUDGET" ]; then
		log "time budget reached, stopping"
		break
	fi
	order=("${active[@]}")
	if [ $((i % 2)) = 1 ] && [ ${#order[@]} = 2 ]; then order=("${order[1]}" "${order[0]}"); fi
	i=$((i + 1))
	for name in "${order[@]}"; do
		if ! step "$name" "$(proxy_port "$name")" "$rate"; then
			sleep 3
			log "$name: $rate cps once more"
			if ! step "$name" "$(proxy_port "$name")" "$rate"; then
				active=($(printf '%s\n' "${active[@]}" | grep -vx "$name"))
				stop_proxy "$name"
			fi
		fi
		sleep 2
	done
done
for name in kamailio sipfront; do stop_proxy "$name"; done
stop_boxes

# ---------------------------------------------------------------- report
echo
echo "$KAM_VERSION (children=$KAM_CHILDREN) vs sipfront (GOMAXPROCS=$SF_PROCS), $(nproc) CPUs, ${STEP_SECS}s steps"
echo
awk -F'\t' 'NR == 1 { next }
{ k = $1 SUBSEP $2; seen[$2] = 1; v[k] = sprintf("%6s/s %5s fail %6s%%", $8, $5, $6) (($12 == "yes") ? "  " : " x")
  cpu[k] = $10; if ($12 == "yes" && $2 > best[$1]) best[$1] = $2 }
END {
	printf "%-7s | %-33s | %-33s\n", "offered", "kamailio: done/s  failed", "sipfront: done/s  failed"
	n = 0; for (r in seen) rates[++n] = r + 0
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rates[j] < rates[i]) { t = rates[i]; rates[i] = rates[j]; rates[j] = t }
	for (i = 1; i <= n; i++) {
		r = rates[i]
		a = ((("kamailio" SUBSEP r) in v) ? v["kamailio" SUBSEP r] : "-")
		b = ((("sipfront" SUBSEP r) in v) ? v["sipfront" SUBSEP r] : "-")
		printf "%-7d | %-33s | %-33s\n", r, a, b
	}
	printf "\n(x: step not held: >= 0.1%% failed or < 95%% of the offered rate)\n"
	printf "highest rate held (< 0.1%% failed): kamailio %d cps, sipfront %d cps", best["kamailio"], best["sipfront"]
	if (best["kamailio"] > 0) printf ", ratio sipfront/kamailio %.2f", best["sipfront"] / best["kamailio"]
	printf "\n"
}' "$WORK/results.tsv"
echo
echo "proxy CPU per completed call (us, user+sys of all the proxy's processes) and mean INVITE-200 time (ms):"
awk -F'\t' 'NR > 1 { seen[$2] = 1; c[$1 SUBSEP $2] = sprintf("%5s us %6s ms", $10, $11) }
END {
	n = 0; for (r in seen) rates[++n] = r + 0
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rates[j] < rates[i]) { t = rates[i]; rates[i] = rates[j]; rates[j] = t }
	printf "%-7s | %-18s | %-18s\n", "offered", "kamailio", "sipfront"
	for (i = 1; i <= n; i++) {
		r = rates[i]
		a = ((("kamailio" SUBSEP r) in c) ? c["kamailio" SUBSEP r] : "-")
		b = ((("sipfront" SUBSEP r) in c) ? c["sipfront" SUBSEP r] : "-")
		printf "%-7d | %-18s | %-18s\n", r, a, b
	}
}' "$WORK/results.tsv"
echo
echo "raw results: $WORK/results.tsv (elapsed $(($(date +%s) - START_TS))s)"
