#!/usr/bin/env bash
# Side-by-side A/B of two proxies, for changes smaller than the noise of these shared machines:
# both run at once on the proxy core, and curl runs alternate A, B, A, B… (the first round left
# out as warm-up). Keep-alive (default): 8 rounds (ROUNDS=N for more) of 3000 requests, each proxy's mean CPU time per
# 3000 requests (from /proc, the steadier figure) and req/s. WORKLOAD=download: 5 rounds of one
# 200 MiB download each, plus a direct one per round; mean MiB/s, each proxy's CPU time per
# transfer, its idle RSS (once started, before any traffic), peak RSS and the growth between them,
# and B's CPU time and MiB/s over A's of the same round (median and range over the rounds).
# WORKLOAD=upload: the same with one 100 MiB PUT per round (the origin answers the byte count).
# ROUNDS=N: N such rounds instead of 5 (the first still left out). LIMIT_RATE=150M: downloads read
# at most that fast (curl --limit-rate), so that memory figures compare at one transfer rate.
# WORKLOAD=ws: 8 rounds (ROUNDS=N) of A, B and direct (A B D, then B A D), each 20 000 × 64 B WebSocket messages echoed
# (bench/clients/ws-echo.ts, 64 in flight), the first round left out; mean msg/s, each proxy's CPU
# time per run (all its threads, from /proc's schedstat), each proxy's ratio to the direct run of
# the same round (min–max over rounds), and per round B's CPU and msg/s over A's and each against
# direct (median and range). MESSAGES=N: N echoes per run (one connection each) instead of 20 000.
# WORKLOAD=h2: 8 rounds of 1000 × 1 KiB GETs over one HTTP/2 connection, 100 streams at once (the
# bench's workload 6) through A, B and direct to the origin's HTTP/2 port; mean req/s and each
# proxy's CPU time per 1000 requests.
#
#   bench/ab.sh                                   mitm against mitm-unrecorded (recording's cost)
#   PEER_B=http-mitm-proxy bench/ab.sh            mitm against http-mitm-proxy
#   BUILD_A=$PWD/bench/results/before bench/ab.sh  an older build against this one: a copy of
#                                                 bench/results/build kept inside the project, where
#                                                 its packages resolve
#   FLAGS_B=--max-semi-space-size=1 bench/ab.sh   the same proxy with other node flags
#   ENV_B=MALLOC_ARENA_MAX=2 bench/ab.sh          … or other environment variables
#   WORKLOAD=download PEER_B=mitm BUILD_A=$PWD/bench/results/before bench/ab.sh
#   WORKLOAD=h2 PEER_B=h2-relay bench/ab.sh       mitm against the bare HTTP/2 relay (the floor)
#   SHOW_RUNS=1 WORKLOAD=download bench/ab.sh     also print every round (on stderr)
#
# Uses the build in bench/results/build (made by `npm run bench`); traffic stays on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/bench/results/build"
[ -f "$build/bench/origin.js" ] || { echo "no build: run npm run bench -- --quick --only=keepAlive first" >&2; exit 2; }
build_a="${BUILD_A:-$build}" build_b="${BUILD_B:-$build}"
peer_a="${PEER_A:-mitm}" peer_b="${PEER_B:-mitm-unrecorded}"
tmp="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

cd "$tmp"
# The origin's PKI as `npm run bench` makes it (bench/lib/certs.ts): ca.pem, origin.pem, origin-key.pem.
node -e "import('$build/bench/lib/certs.js').then((m) => m.makeOriginPki(process.cwd(), 0))"

json() { node -e "console.log(JSON.parse(require('fs').readFileSync('$1','utf8').split('\n')[0])['$2'])"; }
wait_line() { for _ in $(seq 300); do [ -s "$1" ] && grep -q '}' "$1" && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; exit 1; }

taskset -c 0 node "$build/bench/origin.js" --cert origin.pem --key origin-key.pem > origin.out &
pids+=($!)
wait_line origin.out
port="$(json origin.out h1Port)"
for _ in $(seq 3000); do printf 'url = "https://localhost:%s/1k"\noutput = "/dev/null"\n' "$port"; done > ka.cfg

start() { # name build peer flags env
  mkdir "state-$1"
  # shellcheck disable=SC2086
  env $5 taskset -c 1 node $4 "$2/bench/peers/$3.js" --origin-ca ca.pem --state "state-$1" > "proxy-$1.out" &
  pids+=($!)
  echo $! > "pid-$1"
  wait_line "proxy-$1.out"
}
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$(cat "pid-$1")/status"; }
WORKLOAD="${WORKLOAD:-keepAlive}"
if [ "$WORKLOAD" = slow ]; then
  # The bench's slow reader (workload 3b), A and B at once: per round both freshly started, their
  # idle RSS read, then one 200 MiB download each at 1 MiB/s, cut off after SLOW_SECONDS (25).
  seconds="${SLOW_SECONDS:-25}"
  for _ in $(seq "${ROUNDS:-3}"); do
    rm -rf state-A state-B
    start A "$build_a" "$peer_a" "${FLAGS_A:-}" "${ENV_A:-}"
    start B "$build_b" "$peer_b" "${FLAGS_B:-}" "${ENV_B:-}"
    readers=()
    for name in A B; do
      printf -v "idle_$name" %s "$(kib "$name" VmRSS)"
      echo 5 > "/proc/$(cat "pid-$name")/clear_refs" # VmHWM from here on
      taskset -c 0 curl -q -sS --http1.1 -o /dev/null --limit-rate 1M --max-time "$seconds" \
        --cacert "$(json "proxy-$name.out" ca)" -x "http://127.0.0.1:$(json "proxy-$name.out" port)" \
        -w '%{size_download}' "https://localhost:$port/bytes/209715200" > "slow-$name" 2>/dev/null &
      readers+=($!)
    done
    wait "${readers[@]}" || true # curl exits 28 at --max-time
    for name in A B; do
      idle="idle_$name"
      echo "$name ${!idle} $(kib "$name" VmHWM) $(cat "slow-$name")"
      kill "$(cat "pid-$name")"
    done
    wait "$(cat pid-A)" "$(cat pid-B)" 2>/dev/null || true
  done > runs
  echo "A = $peer_a ${FLAGS_A:-} ${ENV_A:-} ($build_a); B = $peer_b ${FLAGS_B:-} ${ENV_B:-} ($build_b); slow reader, 1 MiB/s for $seconds s"
  [ -n "${SHOW_RUNS:-}" ] && cat runs >&2
  awk -v min="$(( seconds * 1048576 / 2 ))" '{ if ($4 < min) bad = 1; g = ($3 - $2) / 1024; growth[$1] = growth[$1] sprintf(" %.1f", g); idle[$1] = idle[$1] sprintf(" %.1f", $2 / 1024) }
    END { if (bad) print "FAILED: a slow reader read less than half its bytes"
      for (k in growth) printf "%s: peak RSS growth over idle (MiB):%s; idle (MiB):%s\n", k, growth[k], idle[k] }' runs | sort
  exit 0
fi
start A "$build_a" "$peer_a" "${FLAGS_A:-}" "${ENV_A:-}"
start B "$build_b" "$peer_b" "${FLAGS_B:-}" "${ENV_B:-}"
idle_a="$(kib A VmRSS)" idle_b="$(kib B VmRSS)"

cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$(cat "pid-$1")/stat"; }
one() {
  local proxy ca before start bad
  proxy="$(json "proxy-$1.out" port)" ca="$(json "proxy-$1.out" ca)"
  before="$(cpu_ms "$1")" start="$(date +%s%N)"
  bad="$(taskset -c 0 curl -q -sS --no-progress-meter --cacert "$ca" -x "http://127.0.0.1:$proxy" --http1.1 \
    -Z --parallel-max 16 -K ka.cfg -w '%{http_code}\n' | grep -vc '^200$' || true)"
  [ "$bad" = 0 ] || { echo "$1: $bad of 3000 requests failed" >&2; exit 1; }
  echo "$1 $(( $(cpu_ms "$1") - before )) $(( 3000 * 1000000000 / ($(date +%s%N) - start) ))"
}
transfer() { # name, or D for direct; prints: name bytes/s bytes-sent bytes-received proxy-CPU-ms
  local args=(--cacert ca.pem) before=0
  if [ "$1" != D ]; then
    args=(--cacert "$(json "proxy-$1.out" ca)" -x "http://127.0.0.1:$(json "proxy-$1.out" port)")
    before="$(cpu_ms "$1")"
  fi
  if [ "$WORKLOAD" = upload ]; then
    # The origin answers with the byte count it received; curl's speed is the upload's.
    taskset -c 0 curl -q -sS --http1.1 -o answer "${args[@]}" -T upload.bin -w "$1 %{speed_upload} %{size_upload} " "https://localhost:$port/upload"
    echo -n "$(cat answer)"
  else
    taskset -c 0 curl -q -sS --http1.1 -o /dev/null ${LIMIT_RATE:+--limit-rate "$LIMIT_RATE"} "${args[@]}" -w "$1 %{speed_download} %{size_download} %{size_download}" "https://localhost:$port/bytes/209715200"
  fi
  if [ "$1" != D ]; then echo " $(( $(cpu_ms "$1") - before ))"; else echo " 0"; fi
}
h2() { # name, or D for direct; prints: name req/s proxy-CPU-ms
  local args=(--cacert ca.pem) before=0 start bad
  if [ "$1" != D ]; then
    args=(--cacert "$(json "proxy-$1.out" ca)" -x "http://127.0.0.1:$(json "proxy-$1.out" port)")
    before="$(cpu_ms "$1")"
  fi
  start="$(date +%s%N)"
  bad="$(taskset -c 0 curl -q -sS --no-progress-meter "${args[@]}" --http2 -Z --parallel-max 100 -K h2.cfg \
    -w '%{http_code} %{http_version} %{size_download}\n' | grep -vc '^200 2 1024$' || true)"
  [ "$bad" = 0 ] || { echo "$1: $bad of 1000 HTTP/2 requests failed" >&2; exit 1; }
  echo "$1 $(( 1000 * 1000000000 / ($(date +%s%N) - start) )) $(if [ "$1" != D ]; then echo $(( $(cpu_ms "$1") - before )); else echo 0; fi)"
}
# CPU time of every thread of proxy $1 (V8's GC helpers included), in µs: /proc's schedstat counts
# nanoseconds, where /proc/PID/stat counts 10 ms ticks, too coarse for a run of ~200 ms.
cpu_us() { cat /proc/"$(cat "pid-$1")"/task/*/schedstat | awk '{ ns += $1 } END { printf "%d", ns / 1000 }'; }
messages="${MESSAGES:-20000}"
echo_ws() { # name, or D for direct; prints: name msg/s proxy-CPU-ms
  local args=(--ca ca.pem) before=0 out
  if [ "$1" != D ]; then
    args=(--ca "$(json "proxy-$1.out" ca)" --proxy-port "$(json "proxy-$1.out" port)")
    before="$(cpu_us "$1")"
  fi
  out="$(taskset -c 0 node "$build/bench/clients/ws-echo.js" --url "wss://localhost:$port/ws" --messages "$messages" "${args[@]}")"
  echo "$out" | grep -q '"ms"' || { echo "$1: $out" >&2; exit 1; }
  echo "$1 $(echo "$out" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(Math.round(r.messages / (r.ms / 1000)))') $(
    if [ "$1" != D ]; then awk -v a="$before" -v b="$(cpu_us "$1")" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; else echo 0; fi)"
}
if [ "$WORKLOAD" = ws ]; then
  # Rounds alternate A B D, then B A D, so neither proxy always runs right after direct.
  for i in $(seq "${ROUNDS:-8}"); do if [ $((i % 2)) = 1 ]; then echo_ws A; echo_ws B; else echo_ws B; echo_ws A; fi; echo_ws D; done > runs
  echo "A = $peer_a ${FLAGS_A:-} ${ENV_A:-} ($build_a); B = $peer_b ${FLAGS_B:-} ${ENV_B:-} ($build_b); D = direct; $messages WebSocket echoes"
  [ -n "${SHOW_RUNS:-}" ] && cat runs >&2
  awk 'NR > 3 { rate[$1] += $2; cpu[$1] += $3; n[$1]++; if ($1 == "D") { for (k in last) { r = last[k] / $2; if (!(k in lo) || r < lo[k]) lo[k] = r; if (!(k in hi) || r > hi[k]) hi[k] = r }; delete last } else last[$1] = $2 }
    END { for (k in rate) printf "%s: %d msg/s%s (mean of %d runs)\n", k, rate[k] / n[k], k == "D" ? "" : sprintf(", %.1f ms proxy CPU per run, %.2f–%.2f× direct", cpu[k] / n[k], lo[k], hi[k]), n[k] }' runs | sort
  # Round by round (A, B and direct ran seconds apart): medians and ranges of the ratios, which
  # hold still better than the means when the machine's load drifts.
  awk 'NR > 3 { v[$1] = $2 " " $3 } NR > 3 && $1 == "D" { split(v["A"], a); split(v["B"], b); print b[2] / a[2], b[1] / a[1], a[1] / $2, b[1] / $2 }' runs > ratios
  spread() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f–%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
  echo "per round, median (range) of $(wc -l < ratios): B/A CPU $(cut -d' ' -f1 ratios | spread), B/A msg/s $(cut -d' ' -f2 ratios | spread); A/D msg/s $(cut -d' ' -f3 ratios | spread), B/D msg/s $(cut -d' ' -f4 ratios | spread)"
  exit 0
fi
if [ "$WORKLOAD" = h2 ]; then
  h2port="$(json origin.out h2Port)"
  for _ in $(seq 1000); do printf 'url = "https://localhost:%s/1k"\noutput = "/dev/null"\n' "$h2port"; done > h2.cfg
  for _ in $(seq 8); do h2 A; h2 B; h2 D; done > runs
  echo "A = $peer_a ${FLAGS_A:-} ($build_a); B = $peer_b ${FLAGS_B:-} ($build_b); D = direct; h2"
  [ -n "${SHOW_RUNS:-}" ] && cat runs >&2
  awk 'NR > 3 { rate[$1] += $2; cpu[$1] += $3; n[$1]++ }
    END { for (k in rate) printf "%s: %d req/s (%.2fx direct)%s (mean of %d runs)\n", k, rate[k] / n[k], rate[k] / rate["D"],
      k == "D" ? "" : sprintf(", %d ms proxy CPU per 1000 requests", cpu[k] / n[k]), n[k] }' runs | sort
  exit 0
fi
if [ "$WORKLOAD" = download ] || [ "$WORKLOAD" = upload ]; then
  size=209715200
  if [ "$WORKLOAD" = upload ]; then size=104857600; head -c "$size" /dev/urandom > upload.bin; fi
  for _ in $(seq "${ROUNDS:-5}"); do transfer A; transfer B; transfer D; done > runs
  echo "A = $peer_a ${FLAGS_A:-} ${ENV_A:-} ($build_a); B = $peer_b ${FLAGS_B:-} ${ENV_B:-} ($build_b); D = direct; $WORKLOAD"
  [ -n "${SHOW_RUNS:-}" ] && cat runs >&2
  awk -v size="$size" 'NR > 3 { if ($3 != size || $4 != size) bad = 1; s[$1] += $2 / 1048576; cpu[$1] += $5; n[$1]++ }
    END { if (bad) print "FAILED: a transfer was short"
      for (k in s) printf "%s: %.0f MiB/s%s (mean of %d runs)\n", k, s[k] / n[k], k == "D" ? "" : sprintf(", %d ms proxy CPU per transfer", cpu[k] / n[k]), n[k] }' runs | sort
  # Each round's B against the A just before it, which drifts less than the means do on a busy machine.
  awk 'NR > 3 && $1 == "A" { a = $2; c = $5 } NR > 3 && $1 == "B" && c > 0 { print $5 / c, $2 / a }' runs > ratios
  if [ -s ratios ]; then
    spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f–%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
    echo "B/A per round: CPU $(cut -d' ' -f1 ratios | spread), MiB/s $(cut -d' ' -f2 ratios | spread): median (range) of $(wc -l < ratios)"
  fi
  for name in A B; do
    idle="idle_${name,,}"
    awk -v idle="${!idle}" -v peak="$(kib "$name" VmHWM)" -v name="$name" \
      'BEGIN { printf "%s peak RSS: %.1f MiB, idle %.1f MiB, growth %.1f MiB\n", name, peak / 1024, idle / 1024, (peak - idle) / 1024 }'
  done
  exit 0
fi
# Rounds alternate A B, then B A, so neither proxy always runs right after the other.
for i in $(seq "${ROUNDS:-8}"); do if [ $((i % 2)) = 1 ]; then one A; one B; else one B; one A; fi; done > runs
echo "A = $peer_a ${FLAGS_A:-} ${ENV_A:-} ($build_a); B = $peer_b ${FLAGS_B:-} ${ENV_B:-} ($build_b)"
[ -n "${SHOW_RUNS:-}" ] && cat runs >&2
awk 'NR > 2 { cpu[$1] += $2; rate[$1] += $3; n[$1]++ }
  END { for (k in cpu) printf "%s: %d ms CPU per 3000 requests, %d req/s (mean of %d runs)\n", k, cpu[k] / n[k], rate[k] / n[k], n[k] }' runs | sort
# Each round's A against its B (the two ran seconds apart): the median and range of the ratios,
# steadier than the ratio of the means when the machine's load drifts between rounds.
awk 'NR > 2 { v[$1] = $2 " " $3; if (("A" in v) && ("B" in v)) { split(v["A"], a); split(v["B"], b); c[++n] = a[1] / b[1]; r[n] = a[2] / b[2]; delete v } }
  function med(x, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
    return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { mc = med(c, n); mr = med(r, n); printf "A/B by round: CPU %.3f (median of %d; %.3f–%.3f), req/s %.3f (%.3f–%.3f)\n", mc, n, c[1], c[n], mr, r[1], r[n] }' runs
