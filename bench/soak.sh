#!/usr/bin/env bash
# Soak: sipfront under a moderate call load for a bounded time, with a
# policy reload every few seconds, a pool member that stops answering and
# comes back, and a flood from another source. Reports failed calls, the
# flood counters and the heap over time; the heap must plateau.
#
#   sipp UAC (127.0.0.2) --> sipfront 127.0.0.1:26060 --> 3 x sipp UAS :26081-26083
#   sipp flooder (127.0.0.3, OPTIONS, no waiting) --^
#
#   bench/soak.sh                      # 120 s, 20 calls/s, flood 2000/s
#   SECONDS_TOTAL=600 RATE=50 bench/soak.sh
#
# Needs sipp (Debian sip-tester) and curl. Everything runs on loopback and
# is killed on exit; the work directory (WORK) keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

SECONDS_TOTAL=${SECONDS_TOTAL:-120}
RATE=${RATE:-20}            # calls per second
HOLD_MS=${HOLD_MS:-200}     # call length
FLOOD_RATE=${FLOOD_RATE:-2000}
RELOAD_EVERY=${RELOAD_EVERY:-5}
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
WORK=${WORK:-$(mktemp -d /tmp/sipfront-soak.XXXXXX)}
PROXY=127.0.0.1:26060
ADMIN=127.0.0.1:26061

for tool in sipp curl; do
	command -v "$tool" >/dev/null || { echo "soak: $tool is missing" >&2; exit 2; }
done

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

go build -o "$WORK/sipfront" ./cmd/sipfront

mkdir -p "$WORK/policy"
cat >"$WORK/policy/soak.hcl" <<EOF
proxy {
  listen       = ["udp:$PROXY"]
  advertise    = "$PROXY"
  admin        = "$ADMIN"
  ring_timeout = "30s"
}

flood {
  window       = "2s"
  max_requests = 200
  block        = "10s"
}

pool "boxes" {
  balance = "round-robin"
  failover {
    on        = [408, 500, 502, 503, 504]
    max_tries = 3
    timeout   = "1s"
  }
  member "box1" { uri = "sip:127.0.0.1:26081" }
  member "box2" { uri = "sip:127.0.0.1:26082" }
  member "box3" { uri = "sip:127.0.0.1:26083" }
}

route "all" {
  to = pool.boxes
}
EOF

cat >"$WORK/flood.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="options flood">
  <send>
    <![CDATA[
      OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:flood@soak.test>;tag=[call_number]
      To: <sip:[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
EOF

for i in 1 2 3; do
	mkdir -p "$WORK/box$i"
	(cd "$WORK/box$i" && exec sipp -nostdin -sf "$REPO/test/sipp/uas.xml" -i 127.0.0.1 -p 2608$i >/dev/null 2>&1) &
	pids+=("$!")
	[ "$i" = 2 ] && box2=$!
done
sleep 1

GOMAXPROCS=2 "$WORK/sipfront" serve "$WORK/policy" --log-level warn >"$WORK/sipfront.log" 2>&1 &
proxy_pid=$!
pids+=("$proxy_pid")
for _ in $(seq 50); do curl -sf "http://$ADMIN/v1/status" >/dev/null && break; sleep 0.2; done

calls=$((RATE * SECONDS_TOTAL))
(cd "$WORK" && exec sipp -nostdin "$PROXY" -sf "$REPO/test/sipp/uac.xml" -i 127.0.0.2 -p 26090 -s alice \
	-r "$RATE" -m "$calls" -l $((RATE * 10)) -d "$HOLD_MS" -recv_timeout 20000 \
	-timeout "$((SECONDS_TOTAL + 60))s" -timeout_error -trace_stat -stf "$WORK/caller.csv" -fd 1 \
	>"$WORK/caller.log" 2>&1) &
caller=$!
pids+=("$caller")
(cd "$WORK" && exec sipp -nostdin "$PROXY" -sf "$WORK/flood.xml" -i 127.0.0.3 -p 26091 \
	-r "$FLOOD_RATE" -m $((FLOOD_RATE * SECONDS_TOTAL)) -timeout "$((SECONDS_TOTAL + 10))s" \
	>"$WORK/flood.log" 2>&1) &
pids+=("$!")

metric() { curl -sf "http://$ADMIN/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' || echo 0; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$proxy_pid/status"; }

echo "soak: ${SECONDS_TOTAL}s, $RATE calls/s, flood $FLOOD_RATE/s, reload every ${RELOAD_EVERY}s, work $WORK"
printf '%6s %14s %10s %9s %8s\n' "t(s)" "heap_inuse_MiB" "rss_MiB" "reloads" "blocks"
reloads=0
heap=()
start=$(date +%s)
while :; do
	t=$(($(date +%s) - start))
	[ "$t" -ge "$SECONDS_TOTAL" ] && break
	if [ $((t % RELOAD_EVERY)) -eq 0 ]; then
		echo "# reload $t" >>"$WORK/policy/soak.hcl"
		kill -HUP "$proxy_pid" && reloads=$((reloads + 1))
	fi
	# Member failure: box2 stops answering for the middle third.
	if [ "$t" -eq $((SECONDS_TOTAL / 3)) ]; then kill -STOP "$box2"; fi
	if [ "$t" -eq $((2 * SECONDS_TOTAL / 3)) ]; then kill -CONT "$box2"; fi
	if [ $((t % SAMPLE_EVERY)) -eq 0 ]; then
		h=$(metric go_memstats_heap_inuse_bytes)
		h=$(printf '%.0f' "$h")
		heap+=("$h")
		printf '%6d %14.1f %10.1f %9d %8s\n' "$t" "$(echo "$h / 1048576" | bc -l)" \
			"$(echo "$(rss) / 1024" | bc -l)" "$reloads" "$(metric sipfront_flood_blocks_total)"
	fi
	sleep 1
done
kill -CONT "$box2" 2>/dev/null || true

wait "$caller" || true
read -r ok failed < <(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{ o = $col["SuccessfulCall(C)"]; f = $col["FailedCall(C)"] } END { print o + 0, f + 0 }' "$WORK/caller.csv")
refused=$(curl -sf "http://$ADMIN/metrics" | awk '$1 ~ /^sipfront_flood_requests_refused_total/ { s += $2 } END { print s + 0 }')

# Plateau: the peak of the last third is within 25% of the middle third's.
n=${#heap[@]}
third=$((n / 3))
mid=0 last=0
for ((i = third; i < 2 * third; i++)); do [ "${heap[i]}" -gt "$mid" ] && mid=${heap[i]}; done
for ((i = 2 * third; i < n; i++)); do [ "${heap[i]}" -gt "$last" ] && last=${heap[i]}; done
verdict=plateau
[ "$mid" -gt 0 ] && [ "$last" -gt $((mid * 5 / 4)) ] && verdict=growing

echo "calls: $ok ok, $failed failed of $calls (box2 stopped for the middle third: calls on it at that moment fail)"
echo "flood: $refused requests refused, $(metric sipfront_flood_blocks_total) blocks; reloads: $reloads"
echo "heap: peak $((mid / 1048576)) MiB in the middle third, $((last / 1048576)) MiB in the last: $verdict"
[ "$verdict" = plateau ]
