// bench_dashboard.mjs: measures the dashboard in Debian's headless Chromium (software WebGL:
// --disable-gpu) for bench_dashboard.sh: the first render (navigation start to the map drawn
// with every point loaded and filtered), and frame times while panning (requestAnimationFrame
// intervals during three 1-second pans), with the dashboard's timing marks of both loads
// (window.truce.timings, ms from the navigation's start: start = app.js running, style = the
// map's style loaded, parsed = the items' answer parsed, data = the items taken,
// layers = the items handed to the map, filters = the filters filled, itemsLoaded = the items'
// tiles in, idle = drawn). Prints one JSON line.
//   node bench/bench_dashboard.mjs BASE_URL [SCREENSHOT.png]
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../web/package.json'));
const { chromium } = require('playwright-core');
const [base, shot] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // the first load finds the server's map cache cold (as after any ingest); the second warm
  const open = async () => {
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // the analyst's token (bench_dashboard.sh) in the fragment, as a user opens the dashboard
    await p.goto(base + '/' + (process.env.VIEW ? `?view=${process.env.VIEW}` : '') + '#token=' + (process.env.TOKEN || ''));
    await p.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    return p;
  };
  const cold = await open();
  const coldMs = await cold.evaluate(() => window.truce.firstRenderMs);
  const coldTimings = await cold.evaluate(() => window.truce.timings);
  await cold.close();
  const page = await open();
  const first = await page.evaluate((c) => ({
    firstRenderMs: c, warmRenderMs: window.truce.firstRenderMs,
    points: window.truce.state.cols.n, warmTimings: window.truce.timings,
  }), coldMs);
  first.coldTimings = coldTimings;
  const frames = await page.evaluate(async () => {
    const map = window.truce.map;
    const dts = [];
    let last = performance.now(), running = true;
    const tick = (t) => { dts.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
    for (const dx of [300, -600, 300]) {
      map.panBy([dx, 120], { duration: 1000 });
      await new Promise((res) => map.once('moveend', res));
    }
    running = false;
    dts.sort((a, b) => a - b);
    const q = (p) => dts[Math.min(dts.length - 1, Math.floor(p * dts.length))];
    return { frames: dts.length, p50: q(0.5), p95: q(0.95), max: dts[dts.length - 1] };
  });
  if (shot) await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ...first, ...frames }));
} finally {
  await browser.close();
}
