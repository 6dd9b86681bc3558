// dashboard_data.mjs: writes N located fire detections (NDJSON, docs/observation-format.md) for
// bench_dashboard.sh: points scattered within about 15 km of the approximate 2015 line of
// contact (data/geo), event types and counts drawn from a fixed-seed generator, times spread
// over 1,000 days from autumn 2016, by ground sensors (not UAV or satellite crater surveys, which
// fusion attaches to other reports): so that nearly every detection is an incident of its own
// and the map holds about N incidents. Usage: node bench/dashboard_data.mjs N > obs.ndjson
import { readFileSync } from 'node:fs';

const n = Number(process.argv[2] || 100000);
const line = JSON.parse(readFileSync(new URL('../data/geo/contact-line-2015.geojson', import.meta.url)));
const geom = line.features ? line.features[0].geometry : line.geometry;
const pts = geom.type === 'MultiLineString' ? geom.coordinates.flat() : geom.coordinates;
// mulberry32 (32-bit integer arithmetic: a product of doubles past 2^53 would lose bits and
// fall into a short cycle, repeating points)
let seed = 20161010;
const rnd = () => {
  seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const TYPES = ['undetermined_explosion', 'impact', 'airburst', 'outgoing', 'burst', 'shot', 'illumination_flare'];
const MEANS = ['acoustic', 'radar', 'camera'];
const t0 = Date.parse('2016-09-01T00:00:00Z');
const out = [];
for (let i = 0; i < n; i++) {
  const a = pts[Math.floor(rnd() * (pts.length - 1))];
  const lon = a[0] + (rnd() - 0.5) * 0.4, lat = a[1] + (rnd() - 0.5) * 0.27;
  const t = new Date(t0 + Math.floor(rnd() * 1000 * 86400000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ev = [{ type: TYPES[Math.floor(rnd() * TYPES.length)], count: 1 + Math.floor(rnd() * 20) }];
  out.push(JSON.stringify({
    type: 'Feature', geometry: { type: 'Point', coordinates: [+lon.toFixed(5), +lat.toFixed(5)] },
    properties: { kind: 'detection', client_id: `bench-${i}`, time: t, means: MEANS[i % MEANS.length], accuracy_m: 200 + Math.floor(rnd() * 800), events: ev },
  }));
  if (out.length === 10000) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
