// dashboard.mjs: end-to-end test of the dashboard and the public page in Debian's headless
// Chromium driven by playwright-core (web/node_modules). Run by tests/integration/dashboard.sh
// against a real `truce serve` on the minsk-2015 demo data:
//   node tests/e2e/dashboard.mjs BASE_URL ARTEFACTS_DIR
// Checks: the page loads with no request outside truce; the map shows the contact line and the
// observations; a filter changes the visible count (in the DOM and on the map); the verify action
// checks an inclusion proof and a signature, and fails on a tampered proof; the report viewer
// shows the report; sign-in (good and bad token, sign-out); a party user sees its own incidents
// and a panel that says what only the mission reads; the public page shows no raw observation.
// Screenshots go to ARTEFACTS_DIR.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const [base, artefacts] = process.argv.slice(2);
// tokens of the users dashboard.sh made (docs/api.md): an analyst, and a party's liaison
const ANALYST = process.env.E2E_ANALYST_TOKEN || '';
const PARTY = process.env.E2E_PARTY_TOKEN || '';
if (!base || !artefacts) { console.error('usage: dashboard.mjs BASE_URL ARTEFACTS_DIR'); process.exit(2); }
mkdirSync(artefacts, { recursive: true });
const origin = new URL(base).origin;

// Counts the pixels of a PNG screenshot near the base map's land colour (#f7f5ef, #efe9d8) and
// the line of contact's red (#c00000), decoded in a blank page (no CSP; no image library).
async function paintedColours(png) {
  const p = await browser.newPage();
  try {
    return await p.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const near = (i, r, gg, b) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - gg) + Math.abs(d[i + 2] - b) < 24;
      let land = 0, line = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (near(i, 0xf7, 0xf5, 0xef) || near(i, 0xef, 0xe9, 0xd8)) land++;
        else if (near(i, 0xc0, 0, 0)) line++;
      }
      return { land, line };
    }, png.toString('base64'));
  } finally {
    await p.close();
  }
}

// Waits until fn (run in the page, with arg) returns a true value: page.evaluate every 100 ms,
// not waitForFunction, whose polling needs the eval the page's CSP forbids.
async function waitUntil(page, fn, arg, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${fn}`);
    await page.waitForTimeout(100);
  }
}

let failed = 0, passed = 0;
function check(ok, what) {
  if (ok) { passed++; console.log(`ok   ${what}`); } else { failed++; console.log(`FAIL ${what}`); }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // playwright gives the browser a fresh profile of its own for each launch
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const outside = [], requests = [], errors = [];
  page.on('request', (r) => {
    requests.push(r.url());
    if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) outside.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(String(e)));

  // 1. the demo loads
  await page.goto(base + '/?view=observations#token=' + ANALYST);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  check(errors.length === 0, `no script error (${errors.join('; ')})`);
  check(!page.url().includes('token='), `the token is removed from the address bar (${page.url().replace(/#.*/, '#…')})`);
  check(outside.length === 0, `no request outside truce (${outside.join(', ')})`);
  const title = await page.textContent('#agreement');
  check(/Minsk/.test(title), `the agreement's title is shown: ${title.slice(0, 60)}`);

  // 2. the map shows the contact line and the observations
  const onMap = await page.evaluate(() => {
    const m = window.truce.map;
    return {
      line: m.queryRenderedFeatures({ layers: ['lines'] }).length,
      regions: m.queryRenderedFeatures({ layers: ['regions'] }).length,
      items: m.queryRenderedFeatures({ layers: ['items'] }).length,
      mode: window.truce.state.mode,
    };
  });
  check(onMap.line > 0, `the contact line is drawn (${onMap.line} rendered features)`);
  check(onMap.regions > 0, `the oblasts are drawn (${onMap.regions})`);
  check(onMap.items > 0, `${onMap.mode} are drawn (${onMap.items} rendered features)`);
  // rendered features are MapLibre's index, not pixels: the screenshot of the map must show the
  // base map's land, the red line of contact and the points (a map held blank once passed the
  // checks above)
  await page.waitForTimeout(300);
  const painted = await paintedColours(await page.locator('#map').screenshot());
  check(painted.land > 5000, `the land of the base map is painted (${painted.land} pixels)`);
  check(painted.line > 200, `the line of contact is painted in red (${painted.line} pixels)`);
  const total = Number(await page.getAttribute('#count', 'data-total'));
  const before = Number(await page.getAttribute('#count', 'data-count'));
  const apiObs = await page.evaluate(async (t) => (await (await fetch('/api/v1/observations?limit=100000', { headers: { Authorization: `Bearer ${t}` } })).json()), ANALYST);
  check(total === apiObs.length && before === total, `the count shows every stored observation (${before} of ${total}, API ${apiObs.length})`);
  await page.screenshot({ path: join(artefacts, 'dashboard.png') });

  // 3. a filter changes the visible count
  await page.selectOption('#f-type', 'undetermined_explosion');
  const after = Number(await page.getAttribute('#count', 'data-count'));
  const expected = apiObs.filter((o) => {
    let best = null, n = -2;
    for (const e of o.events || []) { const c = typeof e.count === 'number' ? e.count : -1; if (c > n) { n = c; best = e.type; } }
    return (best || o.kind) === 'undetermined_explosion';
  }).length;
  check(after === expected && after < before && after > 0, `type filter: ${after} shown (expected ${expected}, was ${before})`);
  await page.waitForSelector('body[data-rendering="0"]', { timeout: 20000 });
  const itemsAfter = await page.evaluate(() => window.truce.map.queryRenderedFeatures({ layers: ['items'] }).length);
  check(itemsAfter < onMap.items, `the map shows fewer points after filtering (${itemsAfter} < ${onMap.items})`);
  await page.screenshot({ path: join(artefacts, 'dashboard-filtered.png') });
  await page.selectOption('#f-type', '');
  await page.selectOption('#f-region', 'luhansk');
  const luhansk = Number(await page.getAttribute('#count', 'data-count'));
  check(luhansk === apiObs.filter((o) => o.region === 'luhansk').length, `region filter: ${luhansk} in Luhansk`);
  await page.selectOption('#f-region', '');
  await page.fill('#time', '0');
  await page.dispatchEvent('#time', 'input');
  const firstDay = Number(await page.getAttribute('#count', 'data-count'));
  check(firstDay < total, `the time slider at the first day shows fewer (${firstDay} < ${total})`);
  await page.fill('#time', await page.getAttribute('#time', 'max'));
  await page.dispatchEvent('#time', 'input');

  // colour by attribution: the legend names the agreement's parties, the paint follows
  await page.check('input[name=colour][value=party]');
  const legendText = await page.textContent('#legend');
  const paint = await page.evaluate(() => JSON.stringify(window.truce.map.getPaintProperty('items', 'circle-color')));
  check(legendText.includes('Armed Forces of Ukraine') && paint.includes('"party"'),
    'colour by attribution: legend with the parties, points coloured by party');
  await page.check('input[name=colour][value=type]');

  // zoomed in, each observation's region of uncertainty is drawn as a disc in metres
  await page.evaluate(() => window.truce.map.jumpTo({ center: [37.72, 48.08], zoom: 10 }));
  await waitUntil(page, () => window.truce.map.loaded() && window.truce.map.areTilesLoaded());
  const discs = await page.evaluate(() => window.truce.map.queryRenderedFeatures({ layers: ['uncertainty'] }).length);
  check(discs > 0, `regions of uncertainty drawn when zoomed in (${discs})`);
  await page.screenshot({ path: join(artefacts, 'dashboard-zoomed.png') });
  await page.evaluate(() => window.truce.map.jumpTo({ center: [38.2, 48.3], zoom: 6.6 }));

  // 4. the incident panel and the verify action
  // the observation of finding 1, which dashboard.sh confirmed and published
  const f1 = await page.evaluate(async (t) => (await (await fetch('/api/v1/findings/1', { headers: { Authorization: `Bearer ${t}` } })).json()), ANALYST);
  const withFinding = apiObs.find((o) => o.id === f1.observation && o.client_id) || apiObs.find((o) => o.client_id);
  await page.evaluate((id) => window.truce.openPanel(id), withFinding.id);
  const panel = await page.textContent('#panel-body');
  check(panel.includes(withFinding.client_id) && panel.includes('minsk2-1'),
    `the panel shows the observation ${withFinding.client_id} and its finding`);
  // its finding's review: the history (who, role, why, log leaf), and a step refused over HTTP
  await page.waitForSelector('#panel-body .review', { timeout: 20000 });
  const reviews = await page.textContent('#panel-body li.finding');
  check(/published/.test(reviews) && /anna \(analyst\)/.test(reviews) && /log leaf \d+/.test(reviews),
    'the panel shows the finding published, with its review steps and their log leaves');
  page.once('dialog', (d) => d.accept('looks wrong'));
  await page.click('#panel-body li.finding button[data-action=dismiss]');
  await page.waitForSelector('#review-result[data-status]', { timeout: 20000 });
  check(await page.getAttribute('#review-result', 'data-status') === '409',
    'the analyst cannot dismiss a published finding (409)');
  // a party's liaison may not confirm a finding (403), and nobody without a token may review (401)
  const partyStatus = await page.evaluate(async ([t, id]) => (await fetch(`/api/v1/findings/${id}/review`, {
    method: 'POST', headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'confirm', reason: 'ours is right' }) })).status, [PARTY, 2]);
  check(partyStatus === 403, `a party user cannot confirm a finding (${partyStatus})`);
  const anonStatus = await page.evaluate(async (id) => (await fetch(`/api/v1/findings/${id}/review`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'confirm', reason: 'x' }) })).status, 2);
  check(anonStatus === 401, `a review step without a token is refused (${anonStatus})`);
  // the analyst confirms a provisional finding: the step is a new leaf of the log
  const sizeBefore = await page.evaluate(async () => (await (await fetch('/healthz')).json()).log_size);
  const conf = await page.evaluate(async ([t, id]) => { const r = await fetch(`/api/v1/findings/${id}/review`, {
    method: 'POST', headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'confirm', reason: 'two patrols heard it' }) }); return [r.status, await r.json()]; }, [ANALYST, 2]);
  const sizeAfter = await page.evaluate(async () => (await (await fetch('/healthz')).json()).log_size);
  check(conf[0] === 200 && conf[1].status === 'confirmed' && sizeAfter === sizeBefore + 1,
    `the analyst confirms finding 2 and the step is in the log (${conf[0]} ${conf[1].status}; log ${sizeBefore} -> ${sizeAfter})`);
  await page.click('#verify');
  await page.waitForSelector('#verify-result[data-result]', { timeout: 20000 });
  const result = await page.getAttribute('#verify-result', 'data-result');
  const text = await page.textContent('#verify-result');
  check(result === 'verified', `verify: ${result}: ${text.split('\n')[0]}`);
  await page.screenshot({ path: join(artefacts, 'dashboard-verify.png') });
  // the same with one proof hash altered in transit must fail
  await page.route('**/api/v1/log/proof/observation/**', async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    body.proof[0] = (body.proof[0][0] === '0' ? '1' : '0') + body.proof[0].slice(1);
    await route.fulfill({ response: resp, json: body });
  });
  await page.evaluate((id) => window.truce.openPanel(id), withFinding.id);
  await page.click('#verify');
  await page.waitForSelector('#verify-result[data-result]', { timeout: 20000 });
  check(await page.getAttribute('#verify-result', 'data-result') === 'failed', 'verify fails on a tampered proof');
  await page.unroute('**/api/v1/log/proof/observation/**');
  await page.click('#panel-close');

  // 5. the report viewer
  await page.click('#open-report');
  const frame = page.frameLocator('#report-frame');
  await frame.locator('#summary').waitFor({ timeout: 20000 });
  const summary = await frame.locator('#summary').textContent();
  check(/ceasefire violations?/.test(summary), 'the report viewer shows the daily report');
  check(await frame.locator('#map svg path.line').count() > 0, 'the report has its SVG map with the line');
  await page.screenshot({ path: join(artefacts, 'dashboard-report.png') });

  // 6. the server's own incidents (fused from the demo's fire reports): the map shows them by
  // default, from GET /api/v1/map/incidents alone (no full incident list); the filters give the
  // counts the full objects of GET /api/v1/incidents give
  const real = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const realRequests = [];
  real.on('request', (r) => realRequests.push(r.url()));
  await real.goto(base + '/#token=' + ANALYST);
  await real.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const loadRequests = [...realRequests]; // the page's own, before the test asks for the full list
  const all = await real.evaluate(async (tok) => (await fetch('/api/v1/incidents?limit=100000',
    { headers: { Authorization: `Bearer ${tok}` } })).json(), ANALYST);
  const located = all.filter((i) => i.location && typeof i.location.lon === 'number');
  check(await real.evaluate(() => window.truce.state.mode) === 'incidents' &&
    await real.getAttribute('#count', 'data-count') === String(located.length) && located.length > 0,
    `the server's ${located.length} incidents are shown`);
  check(!loadRequests.some((u) => /\/api\/v1\/incidents(\?|$)/.test(u)) && loadRequests.some((u) => u.includes('/api/v1/map/incidents')),
    'the incidents come from the compact map route, not the full list');
  // the map's worker took the incidents as the server's GeoJSON, and draws them
  check(loadRequests.some((u) => u.includes('/api/v1/map/incidents?format=geojson&log=')) &&
    await real.evaluate(() => window.truce.map.queryRenderedFeatures({ layers: ['items'] }).length) > 0,
  'the map draws the GeoJSON its worker fetched (same log size as the columns)');
  // when the log grew between the columns and the GeoJSON, the server refuses it (409) and the
  // page makes the features from the columns: the same count, points drawn
  const stale = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const staleStatus = [];
  stale.on('response', (r) => { if (r.url().includes('format=geojson')) staleStatus.push(r.status()); });
  await stale.route(/\/api\/v1\/map\/incidents$/, async (route) => {
    const r = await route.fetch();
    const j = await r.json();
    await route.fulfill({ response: r, json: { ...j, log: j.log - 1 } });
  });
  await stale.goto(base + '/#token=' + ANALYST);
  await stale.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  await waitUntil(stale, () => window.truce.map.queryRenderedFeatures({ layers: ['items'] }).length > 0);
  check(staleStatus.includes(409) && await stale.getAttribute('#count', 'data-count') === String(located.length),
    `a GeoJSON of another log size is refused (${staleStatus.join(', ')}) and the columns drawn instead`);
  await stale.close();
  const byGrade = (g) => located.filter((i) => i.grade === g).length;
  const grades = [...new Set(located.map((i) => i.grade))];
  for (const g of grades) {
    await real.selectOption('#f-grade', g);
    check(await real.getAttribute('#count', 'data-count') === String(byGrade(g)), `grade ${g}: ${byGrade(g)} incidents`);
  }
  await real.selectOption('#f-grade', '');
  const byParty = located.filter((i) => i.party === 'ua').length;
  await real.selectOption('#f-party', 'ua');
  check(await real.getAttribute('#count', 'data-count') === String(byParty), `party ua: ${byParty} incidents`);
  await real.selectOption('#f-party', '');
  const withClause = located.filter((i) => (i.findings || []).some((f) => f.clause === 'minsk2-1')).length;
  await real.selectOption('#f-clause', 'minsk2-1');
  check(await real.getAttribute('#count', 'data-count') === String(withClause), `clause minsk2-1: ${withClause} incidents`);
  await real.selectOption('#f-clause', '');
  const dom = (i) => Object.entries(i.events || {}).sort((a, b) => b[1] - a[1])[0]?.[0];
  const byType = located.filter((i) => dom(i) === 'impact').length;
  await real.selectOption('#f-type', 'impact');
  check(await real.getAttribute('#count', 'data-count') === String(byType), `dominant type impact: ${byType} incidents`);
  await real.selectOption('#f-type', '');
  const one = located[0];
  await real.evaluate((id) => window.truce.openPanel(id), one.id);
  await waitUntil(real, (id) => document.querySelector('#panel-body h3')?.textContent === `Incident ${id}`, one.id);
  const realPanel = await real.textContent('#panel-body');
  check(realPanel.includes(one.reasons[0].slice(0, 40)) && realPanel.includes(one.evidence[0]),
    'the panel fetches the full incident (reasons, evidence)');
  await real.close();

  // 7. incidents in the fusion module's shape from a fixture (the compact map route and the
  // full objects): grade and party filters, the panel and verify of each observation
  const inc = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const incidents = [
    { id: 1, start: '2016-10-10T05:00:00Z', end: '2016-10-10T05:20:00Z', events: [{ type: 'impact', count: 4 }], count: 4,
      location: { lon: 37.78, lat: 48.13, method: 'triangulation', semi_major_m: 900 }, origin: null,
      party: 'af', grade: 'probable', reasons: 'two bearings cross east of the line', evidence: [{ id: 3, client_id: 'smm-2016-10-10-c01' }, 4] },
    { id: 2, start: '2016-10-10T07:00:00Z', end: '2016-10-10T07:05:00Z', events: [{ type: 'outgoing', count: 3 }], count: 3,
      location: { lon: 37.70, lat: 48.05, method: 'single', semi_major_m: 3000 }, party: 'undetermined', grade: 'undetermined',
      reasons: 'one observer', evidence: [5] },
    { id: 3, start: '2016-10-11T07:00:00Z', end: '2016-10-11T07:05:00Z', events: [{ type: 'impact', count: 1 }], count: 1,
      location: { lon: 38.9, lat: 48.6, method: 'single', semi_major_m: 2000 }, party: 'ua', grade: 'possible',
      reasons: 'flight direction from the west', evidence: [6] },
  ];
  const compact = { n: incidents.length, dict: { type: [], region: [], party: [], grade: [], clauses: [] } };
  const at = (k, v) => { let i = compact.dict[k].indexOf(v); if (i < 0) i = compact.dict[k].push(v) - 1; return i; };
  for (const k of ['id', 't', 'lon', 'lat', 'semi_major_m', 'count', 'type', 'region', 'party', 'grade', 'clauses']) compact[k] = [];
  for (const i of incidents) {
    compact.id.push(i.id); compact.t.push(Date.parse(i.end)); compact.lon.push(i.location.lon);
    compact.lat.push(i.location.lat); compact.semi_major_m.push(i.location.semi_major_m); compact.count.push(i.count);
    compact.type.push(at('type', i.events[0].type)); compact.region.push(at('region', 'donetsk'));
    compact.party.push(at('party', i.party)); compact.grade.push(at('grade', i.grade)); compact.clauses.push(at('clauses', '|'));
  }
  await inc.route('**/api/v1/map/incidents', (route) => route.fulfill({ json: compact }));
  await inc.route('**/api/v1/incidents/*', (route) =>
    route.fulfill({ json: incidents.find((i) => route.request().url().endsWith(`/incidents/${i.id}`)) }));
  await inc.goto(base + '/#token=' + ANALYST);
  await inc.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const incCount = await inc.getAttribute('#count', 'data-count');
  const incMode = await inc.evaluate(() => window.truce.state.mode);
  check(incMode === 'incidents' && incCount === '3', `incidents shown when the server has them (${incMode}, ${incCount})`);
  await inc.selectOption('#f-grade', 'probable');
  check(await inc.getAttribute('#count', 'data-count') === '1', 'the grade filter selects the probable incident');
  await inc.selectOption('#f-grade', '');
  await inc.selectOption('#f-party', 'ua');
  check(await inc.getAttribute('#count', 'data-count') === '1', 'the party filter selects the incident attributed to ua');
  await inc.evaluate(() => window.truce.openPanel(1));
  const incPanel = await inc.textContent('#panel-body');
  check(incPanel.includes('Incident 1') && incPanel.includes('two bearings cross') && incPanel.includes('smm-2016-10-10-c01'),
    'the incident panel shows its reasons and evidence');
  await inc.click('#verify');
  await inc.waitForSelector('#verify-result[data-result]', { timeout: 20000 });
  check(await inc.getAttribute('#verify-result', 'data-result') === 'verified', 'verify checks every observation of the incident');
  await inc.screenshot({ path: join(artefacts, 'dashboard-incidents.png') });
  await inc.close();

  // 8a. sign-in: without a token the form, not the map; a bad token is refused with a clear
  // message; a good one shows who is signed in and the map; sign-out returns to the form
  const si = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const siErrors = [];
  si.on('pageerror', (e) => siErrors.push(String(e)));
  await si.goto(base + '/');
  await si.waitForSelector('body[data-signin="1"]', { timeout: 30000 });
  check(await si.isVisible('#signin-form') && !(await si.evaluate(() => window.truce.ready)) &&
    !(await si.evaluate(() => !!window.truce.map)), 'without a token the sign-in form is shown, no map');
  await si.fill('#signin-token', 'truce_' + 'x'.repeat(43));
  await si.click('#signin-submit');
  // (waitForSelector, not waitForFunction: the page's CSP forbids the eval its polling uses)
  await si.waitForSelector('#signin-error[data-status="401"]', { timeout: 20000 });
  const badText = await si.textContent('#signin-error');
  check(/not accepted \(401\)/.test(badText) && await si.evaluate(() => !sessionStorage.getItem('truce-token')),
    `a bad token is refused with a message, nothing stored (${badText})`);
  await si.screenshot({ path: join(artefacts, 'dashboard-signin-refused.png') });
  await si.fill('#signin-token', ANALYST);
  await si.click('#signin-submit');
  await si.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const who = await si.evaluate(() => ({ ...document.getElementById('who').dataset, text: document.getElementById('who-text').textContent }));
  check(who.name === 'anna-web' && who.role === 'analyst' && /anna-web \(analyst\)/.test(who.text) && await si.isVisible('#who'),
    `signed in: the user is shown (${who.text})`);
  check(await si.isHidden('#signin') && await si.evaluate(() => window.truce.map.queryRenderedFeatures({ layers: ['items'] }).length) > 0,
    'signed in: the form is gone and the map shows the items');
  await si.screenshot({ path: join(artefacts, 'dashboard-signed-in.png') });
  await si.click('#signout');
  await si.waitForSelector('body[data-signin="1"]', { timeout: 30000 });
  check(await si.evaluate(() => !sessionStorage.getItem('truce-token')) && await si.isHidden('#who'),
    'sign-out forgets the token and returns to the form');
  // a revoked or mistyped token in the fragment: the form with the reason, not a broken map
  // (given to the open page: it loads again with it)
  await si.goto(base + '/#token=truce_nonsense');
  await si.waitForSelector('#signin-error[data-status="401"]', { timeout: 30000 });
  check(await si.isVisible('#signin-form') && !si.url().includes('token=') &&
    await si.evaluate(() => !sessionStorage.getItem('truce-token')),
  'a refused token from the fragment shows the form with the reason, and is forgotten');
  check(siErrors.length === 0, `sign-in: no script error (${siErrors.join('; ')})`);
  await si.close();

  // 8b. a party user (ua's liaison): the incidents attributed to ua only; the panel of one says
  // the observations are the mission's, asks no route the party may not read, shows no error
  const pty = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const ptyErrors = [], ptyRefused = [], ptyDialogs = [];
  pty.on('pageerror', (e) => ptyErrors.push(String(e)));
  let statement = null; // the answer to the dispute's prompt, when the test expects it
  pty.on('dialog', (d) => { if (statement) d.accept(statement); else { ptyDialogs.push(d.message()); d.dismiss(); } });
  pty.on('response', (r) => { if (r.status() >= 400) ptyRefused.push(`${r.status()} ${r.url()}`); });
  await pty.goto(base + '/#token=' + PARTY);
  await pty.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const ptyWho = await pty.evaluate(() => ({ ...document.getElementById('who').dataset }));
  check(ptyWho.role === 'party' && ptyWho.party === 'ua', `the party user is shown (${JSON.stringify(ptyWho)})`);
  const ua = await pty.evaluate(async (t) => (await fetch('/api/v1/incidents?limit=100000',
    { headers: { Authorization: `Bearer ${t}` } })).json(), PARTY);
  const uaLocated = ua.filter((i) => i.location && typeof i.location.lon === 'number');
  check(uaLocated.length > 0 && uaLocated.every((i) => i.party === 'ua') &&
    await pty.getAttribute('#count', 'data-count') === String(uaLocated.length),
  `the party sees its ${uaLocated.length} incidents only`);
  check(/visible to the mission only/.test(await pty.textContent('#mode')), 'the mode line says observations are the mission\'s');
  await pty.evaluate((id) => window.truce.openPanel(id), uaLocated[0].id);
  await pty.locator('#panel-body h3', { hasText: `Incident ${uaLocated[0].id}` }).waitFor({ timeout: 20000 });
  const ptyPanel = await pty.textContent('#panel-body');
  check(ptyPanel.includes(uaLocated[0].reasons[0].slice(0, 40)) && /observations are visible to the mission only/.test(ptyPanel) &&
    await pty.locator('#verify').count() === 0, 'the party opens its incident: reasons, and observations said to be the mission\'s');
  check(await pty.locator('#panel-body button[data-action=confirm], #panel-body button[data-action=publish]').count() === 0,
    'no confirm or publish button for a party');
  await pty.screenshot({ path: join(artefacts, 'dashboard-party.png') });
  // another party's incident is not there for it (404), said without breaking the page
  const other = located.find((i) => i.party !== 'ua');
  if (other) {
    const st = await pty.evaluate(async ([t, id]) => (await fetch(`/api/v1/incidents/${id}`, { headers: { Authorization: `Bearer ${t}` } })).status, [PARTY, other.id]);
    check(st === 404, `another party's incident is 404 for ua (${st})`);
  }
  check(ptyErrors.length === 0 && ptyDialogs.length === 0 && !ptyRefused.some((u) => !/\/api\/v1\/incidents\/\d+$/.test(u)),
    `party view: no script error, no dialog, no refused request (${[...ptyErrors, ...ptyDialogs, ...ptyRefused].join('; ')})`);
  // its side's findings are listed (the server's scope), and one can be disputed from its panel
  const uaFindings = await pty.evaluate(async (t) => (await fetch('/api/v1/findings?limit=500',
    { headers: { Authorization: `Bearer ${t}` } })).json(), PARTY);
  await pty.waitForSelector('#party-findings-list[data-count]', { timeout: 20000 });
  check(uaFindings.length > 0 && uaFindings.every((f) => f.party === 'ua') &&
    await pty.getAttribute('#party-findings-list', 'data-count') === String(uaFindings.length),
  `the side bar lists ua's ${uaFindings.length} finding(s)`);
  const fd = uaFindings[0];
  await pty.click(`#party-findings-list a[data-finding="${fd.id}"]`);
  await pty.locator('#panel-body h3', { hasText: `Finding ${fd.id}` }).waitFor({ timeout: 20000 });
  check(await pty.locator('#panel-body button[data-action]').count() === 1 &&
    await pty.locator('#panel-body button[data-action=dispute]').count() === 1 &&
    /visible to the mission only/.test(await pty.textContent('#panel-body')),
  'the finding\'s panel offers the party only the dispute');
  statement = 'our unit was in the storage site';
  await pty.click('#panel-body button[data-action=dispute]');
  await pty.waitForSelector('#review-result[data-status]', { timeout: 20000 });
  await pty.locator('#panel-body .review', { hasText: 'dispute' }).waitFor({ timeout: 20000 });
  const disputed = await pty.textContent('#panel-body li.finding');
  check(await pty.getAttribute('#review-result', 'data-status') === '200' && /ua-lo-web \(party ua\)/.test(disputed) &&
    disputed.includes(statement), `ua disputes finding ${fd.id} from the dashboard; its review history shows the statement`);
  statement = null;
  await pty.screenshot({ path: join(artefacts, 'dashboard-party-dispute.png') });
  await pty.close();

  // 8. the public page: no raw observation
  const pub = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const pubRequests = [];
  pub.on('request', (r) => pubRequests.push(r.url()));
  await pub.goto(base + '/public');
  await pub.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  const pframe = pub.frameLocator('#report-frame');
  await pframe.locator('#summary').waitFor({ timeout: 20000 });
  const pubText = (await pub.content()) + (await pframe.locator('body').innerHTML());
  const leaked = apiObs.filter((o) => o.client_id && pubText.includes(o.client_id)).map((o) => o.client_id);
  check(leaked.length === 0, `the public page names no observation record (${leaked.slice(0, 3).join(', ')})`);
  check(await pframe.locator('#annex').count() === 0, 'the public report has no annex of observations');
  check(!pubRequests.some((u) => u.includes('/api/v1/observations') || u.includes('/api/v1/findings')),
    'the public page asks no observation or internal finding route');
  check(!apiObs.some((o) => o.remarks && pubText.includes(o.remarks)), 'no observation remark appears on the public page');
  const pubFindings = await pub.locator('tr.finding').count();
  check(pubFindings === 1 && (await pub.textContent('#findings')).includes('minsk2-1'),
    `the public page lists the one published finding (${pubFindings})`);
  await pub.screenshot({ path: join(artefacts, 'public.png'), fullPage: false });
} finally {
  await browser.close();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
