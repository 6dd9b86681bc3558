#!/usr/bin/env bash
# bench_dashboard.sh: is the dashboard usable with 100,000 incidents? Generates 100,000 located
# detections (each becomes an incident unless fusion finds two that describe one event)
# (bench/dashboard_data.mjs), ingests them into a fresh data directory, serves it with truce and
# measures in Debian's headless Chromium (software WebGL, bench/bench_dashboard.mjs) the first
# render and the frame times while panning; the baseline, in the same run, is the same dashboard
# on the 25 demo observations of examples/minsk-2015. Targets: first render under 2 s; panning
# p95 frame time at most twice the baseline's and no frame over 500 ms. Exits 1 when missed.
# Also prints the dashboard's timing marks of each load (where the first render's time goes).
#   bash bench/bench_dashboard.sh [N]          (from the repository root; N default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
T=${TRUCE:-build/truce}
TARGET_FIRST_MS=2000
MAX_FRAME_MS=500
[ -f web/dist/index.html ] && [ -d web/node_modules/playwright-core ] || { echo "run make web first"; exit 2; }
D=$(mktemp -d)
SP=""
cleanup() { if [ -n "$SP" ]; then kill -KILL "$SP" 2>/dev/null || true; fi; rm -rf "$D"; }
trap cleanup EXIT

node bench/dashboard_data.mjs "$N" >"$D/obs.ndjson"
for set in base big; do
  "$T" init "$D/$set" --agreement examples/minsk-2015/agreement.json >/dev/null
  "$T" --data "$D/$set" user add bench-analyst --role analyst > "$D/$set.token" 2>/dev/null
done
"$T" --data "$D/base" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
"$T" --data "$D/big" ingest --quiet "$D/obs.ndjson" >/dev/null

# measure SET: serve data set SET on a free port and measure it in the browser
measure() {
  local port=$((20000 + RANDOM % 40000))
  "$T" serve --data "$D/$1" --listen "127.0.0.1:$port" --web web/dist >"$D/$1.log" 2>&1 &
  SP=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  mkdir -p build/artefacts
  TOKEN=$(cat "$D/$1.token") node bench/bench_dashboard.mjs "http://127.0.0.1:$port" "build/artefacts/bench-dashboard-$1.png"
  kill -TERM "$SP"; wait "$SP" || true; SP=""
}
base=$(measure base)
big=$(measure big)
load=$(cut -d' ' -f1-3 /proc/loadavg)
node - "$base" "$big" "$N" "$TARGET_FIRST_MS" "$MAX_FRAME_MS" "$load" <<'JS'
const [b, g, n, target, maxFrame, load] = process.argv.slice(2);
const base = JSON.parse(b), big = JSON.parse(g);
const f = (x) => x.toFixed(0);
console.log(`dashboard: ${big.points} incidents (from ${n} located detections): first render ${f(big.firstRenderMs)} ms (target < ${target}), ` +
  `${f(big.warmRenderMs)} ms with the server's map cache warm; ` +
  `baseline ${base.points} incidents of the demo ${f(base.firstRenderMs)} ms (warm ${f(base.warmRenderMs)}); ratio ${(big.firstRenderMs / base.firstRenderMs).toFixed(2)}`);
console.log(`panning (${big.frames} frames): p50 ${f(big.p50)} ms, p95 ${f(big.p95)} ms, max ${f(big.max)} ms; ` +
  `baseline p50 ${f(base.p50)} ms, p95 ${f(base.p95)} ms, max ${f(base.max)} ms; p95 ratio ${(big.p95 / base.p95).toFixed(2)} (target <= 2, max < ${maxFrame} ms)`);
const marks = (t) => Object.entries(t).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${v}`).join(', ');
console.log(`where the cold first render goes (ms from navigation): ${marks(big.coldTimings)}`);
console.log(`warm: ${marks(big.warmTimings)}`);
console.log(`baseline cold: ${marks(base.coldTimings)}`);
console.log(`load average during the run: ${load} (2 CPU cores, software WebGL)`);
// the located detections become incidents (fusion joins the few that describe one event)
const ok = big.points >= 0.9 * Number(n) && big.firstRenderMs < Number(target) && big.p95 <= 2 * base.p95 && big.max < Number(maxFrame);
console.log(ok ? 'targets met' : 'target missed');
process.exit(ok ? 0 : 1);
JS
