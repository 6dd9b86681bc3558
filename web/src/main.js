// main.js: the truce dashboard: a MapLibre GL map drawn only from truce's own GeoJSON (the
// Ukraine outline shipped with the build, the agreement's regions, control areas, zones and
// lines from /api/v1/geography) with the incidents (/api/v1/map/incidents, when the server has
// them) or else the observations; colour by event type or attribution; time slider; filters
// with a visible count; an incident panel with its observations, findings and a "verify"
// action (verify.js); the report viewer; the sign-in form (a pasted token checked with
// GET /api/v1/me) and who is signed in, with a sign-out button. What a party user may not read
// (raw observations and their proofs) is said, not fetched.
import maplibregl from 'maplibre-gl';
import { OTHER_COLOUR, PARTY_PALETTE, TYPE_COLOURS, UNDETERMINED_COLOUR } from './colours.js';
import { verifyBundle } from './verify.js';

const DAY = 86400000;
const CLUSTER_ABOVE = 5000;  // more points than this are clustered at small scales
const CLUSTER_MAX_ZOOM = 10; // the largest zoom with clusters
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// cols: the items (incidents or observations) as columns, each string column as indices into
// cols.dict; features: the same items as the map's GeoJSON features (index i in both)
const state = {
  mode: 'observations', items: new Map(), cols: null, features: [], parties: [],
  agreement: null, tmin: 0, tmax: 0, colourBy: 'type',
  me: null, // who is signed in (GET /api/v1/me): { name, role, party }
};
window.truce = { ready: false, state, timings: {} };
const mark = (name) => { window.truce.timings[name] = Math.round(performance.now()); };

// The user's bearer token (docs/api.md, docs/dashboard.md): boot.js took it from the page's
// fragment (#token=...; a fragment is never sent to a server) or the sign-in form took it, and
// it is kept for the browser tab.
const TOKEN_KEY = 'truce-token';
const TOKEN = sessionStorage.getItem(TOKEN_KEY) || '';
const authHeaders = (h = {}) => (TOKEN ? { ...h, Authorization: `Bearer ${TOKEN}` } : h);
// ?view=observations shows the observations even when the server has incidents.
const VIEW = new URLSearchParams(location.search).get('view');

async function getJSON(url) {
  // the requests boot.js started are used once
  const boot = window.truceBoot && window.truceBoot[url];
  if (boot) delete window.truceBoot[url];
  const r = await (boot || fetch(url, { headers: authHeaders() }));
  if (r.status === 401) throw Object.assign(new Error(`${url}: 401: the token was refused; sign in again`), { status: 401 });
  if (!r.ok) throw Object.assign(new Error(`${url}: ${r.status}`), { status: r.status });
  return r.json();
}

// The roles that read the mission's raw observations and their proofs (docs/api.md: READERS).
const READER_ROLES = ['monitor', 'analyst', 'publisher', 'guarantor', 'admin'];
const MISSION_ONLY = 'observations are visible to the mission only';
const PARTY_FINDINGS_SHOWN = 500; // a party user's findings listed in the side bar, at most
// Whether the user signed in may read raw observations (when not known yet: the server decides).
const readsObservations = () => !state.me || READER_ROLES.includes(state.me.role);
// The review steps the user signed in may take on finding f (docs/dashboard.md, the review of
// findings): the server decides again; this only leaves out buttons that could never work.
function reviewActions(f) {
  const me = state.me;
  if (f.id == null) return []; // a finding with no id of its own (an incident's) is not reviewed here
  if (!me) return ['confirm', 'dismiss', 'publish', 'dispute'];
  if (me.role === 'analyst') return ['confirm', 'dismiss'];
  if (me.role === 'publisher') return ['publish'];
  if (me.role === 'party') return f.party === me.party ? ['dispute'] : [];
  return [];
}

// The items as columns from the compact answer of GET /api/v1/map/incidents (the dominant event
// type from the reconciled counts, party, grade, the clauses of its findings as "|a|b|", the
// semi-major axis of its error ellipse) or GET /api/v1/map/observations (the dominant event
// type, the party a finding attributes, the clauses of its findings, the radius of uncertainty;
// its grade is whether it has a finding). Nothing is copied per item but the observations'
// grade: the arrays are the server's; the full record is fetched when its panel opens.
function itemColumns(m, mode) {
  const d = m.dict;
  const c = {
    n: m.n, log: m.log, id: m.id, t: m.t, lon: m.lon, lat: m.lat, count: m.count,
    type: m.type, party: m.party, region: m.region, clauses: m.clauses,
    dict: { type: d.type, party: d.party.map((p) => p || 'undetermined'), region: d.region, clauses: d.clauses },
  };
  if (mode === 'incidents') {
    c.r = m.semi_major_m;
    c.grade = m.grade;
    c.dict.grade = d.grade.map((g) => g || 'undetermined');
  } else {
    c.r = m.radius_m || new Array(m.n).fill(0);
    const of = d.clauses.map((s) => (s === '|' ? 0 : 1));
    c.grade = new Array(m.n);
    for (let i = 0; i < m.n; i++) c.grade[i] = of[m.clauses[i]];
    c.dict.grade = ['no finding', 'finding'];
  }
  return c;
}

// The map's features of columns c: only what drawing and clicking need, the event type and the
// party as their dictionary indices (MapLibre hands the features to its worker as JSON text:
// numbers are far cheaper to write and parse there than strings), made once.
function mapFeatures(c) {
  const out = new Array(c.n);
  for (let i = 0; i < c.n; i++) {
    out[i] = {
      type: 'Feature', geometry: { type: 'Point', coordinates: [c.lon[i], c.lat[i]] },
      properties: { id: c.id[i], type: c.type[i], party: c.party[i], count: c.count[i] || 1, r: c.r[i] || 0 },
    };
  }
  return out;
}

// The index of item id in state.cols (-1 when absent).
function indexOfItem(id) {
  if (!state.index) {
    state.index = new Map();
    for (let i = 0; i < state.cols.n; i++) state.index.set(state.cols.id[i], i);
  }
  const i = state.index.get(id);
  return i === undefined ? -1 : i;
}

const isoSecond = (t) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The stored record of observation id (ending at time t) and its findings.
async function observationDetail(id, t) {
  const q = `from=${isoSecond(t)}&to=${isoSecond(t + 1000)}&limit=100000`;
  const [obs, findings] = await Promise.all([
    getJSON(`/api/v1/observations?${q}`), getJSON(`/api/v1/findings?${q}`),
  ]);
  return { record: obs.find((o) => o.id === id), findings: findings.filter((f) => f.observation === id) };
}

function fillSelect(id, values, label = (v) => v) {
  const sel = $(id);
  for (const v of [...values].filter(Boolean).sort()) {
    const o = document.createElement('option');
    o.value = v; o.textContent = label(v);
    sel.appendChild(o);
  }
}

function partyColour(id) {
  const i = state.parties.findIndex((p) => p.id === id);
  return i < 0 ? UNDETERMINED_COLOUR : PARTY_PALETTE[i % PARTY_PALETTE.length];
}

// The points' colour: by the event type or the party of each point (its index in the
// dictionary of that column).
function colourExpression() {
  const byParty = state.colourBy === 'party';
  const names = byParty ? state.cols.dict.party : state.cols.dict.type;
  const other = byParty ? UNDETERMINED_COLOUR : OTHER_COLOUR;
  const m = ['match', ['get', byParty ? 'party' : 'type']];
  names.forEach((name, i) => m.push(i, byParty ? partyColour(name) : TYPE_COLOURS[name] || OTHER_COLOUR));
  m.push(other);
  return m.length > 3 ? m : other;
}

function legend() {
  const rows = state.colourBy === 'party'
    ? state.parties.map((p) => [partyColour(p.id), p.name]).concat([[UNDETERMINED_COLOUR, 'undetermined']])
    : Object.entries(TYPE_COLOURS).map(([k, v]) => [v, k.replace(/_/g, ' ')]).concat([[OTHER_COLOUR, 'other']]);
  $('legend').innerHTML = rows.map(([c, n]) => `<div><i class="sw" style="background:${c}"></i>${esc(n)}</div>`).join('');
}

// The current filters as a predicate on an item's index: each filter is decided once per
// dictionary entry, then looked up per item.
function currentFilter() {
  const c = state.cols, d = c.dict;
  const pick = (col, ok) => (ok ? { col: c[col], ok: d[col].map(ok) } : null);
  const v = (id) => $(id).value;
  const tests = [
    pick('type', v('f-type') && ((x) => x === v('f-type'))),
    pick('party', v('f-party') && ((x) => x === v('f-party'))),
    pick('region', v('f-region') && ((x) => x === v('f-region'))),
    pick('grade', v('f-grade') && ((x) => x === v('f-grade'))),
    pick('clauses', v('f-clause') && ((x) => x.includes(`|${v('f-clause')}|`))),
  ].filter(Boolean);
  const day = Number($('time').value);
  const win = $('window').value;
  const tEnd = state.tmin + (day + 1) * DAY;
  const tStart = win === 'all' ? -Infinity : tEnd - Number(win) * DAY;
  const t = c.t;
  const test = (i) => {
    if (!(t[i] < tEnd && t[i] >= tStart)) return false;
    for (const k of tests) if (!k.ok[k.col[i]]) return false;
    return true;
  };
  return { test, tEnd, tStart };
}

// Shows the features that pass the filters: the same predicate makes the count and the map's
// data (so they always agree); the GeoJSON source is replaced, not filtered on the GPU, so that
// large sets can be clustered.
// The first time, when every incident passes, the map's worker fetches the features itself as
// the server's GeoJSON made with the same dictionaries (the columns' log size says which): no
// feature is built, written to JSON and copied on this thread for the first render.
function applyFilters(map) {
  const { test, tEnd, tStart } = currentFilter();
  const c = state.cols;
  let n = 0;
  for (let i = 0; i < c.n; i++) if (test(i)) n++;
  document.body.dataset.rendering = '1';
  let data;
  if (!map.getSource('items') && n === c.n && state.mode === 'incidents' && Number.isInteger(c.log)) {
    data = `${location.origin}/api/v1/map/incidents?format=geojson&log=${c.log}`;
  } else {
    if (!state.features.length) state.features = mapFeatures(c);
    const shown = [];
    for (let i = 0; i < c.n; i++) if (test(i)) shown.push(state.features[i]);
    data = { type: 'FeatureCollection', features: shown };
  }
  if (map.getSource('items')) map.getSource('items').setData(data);
  else addItems(map, data);
  map.once('idle', () => { document.body.dataset.rendering = '0'; });
  const el = $('count');
  el.dataset.count = String(n);
  el.dataset.total = String(c.n);
  el.textContent = `${n.toLocaleString('en')} of ${c.n.toLocaleString('en')} ${state.mode} shown`;
  const d = (t) => new Date(t).toISOString().slice(0, 10);
  $('time-label').textContent = tStart > -Infinity ? `${d(tStart)} to ${d(tEnd - 1)}` : `up to ${d(tEnd - 1)}`;
}


async function panelFor(id) {
  const isObs = state.mode === 'observations';
  let it, findings, evidence;
  if (isObs) {
    const i = indexOfItem(id);
    if (i < 0) return;
    const d = await observationDetail(id, state.cols.t[i]);
    it = d.record || { id };
    findings = d.findings;
    evidence = [it];
    state.items.set(id, it);
  } else {
    it = state.items.get(id);
    if (!it) {
      if (indexOfItem(id) < 0) return;
      it = await getJSON(`/api/v1/incidents/${encodeURIComponent(id)}`);
      state.items.set(id, it);
    }
    findings = it.findings || [];
    evidence = Array.isArray(it.evidence) ? it.evidence : [];
  }
  const body = $('panel-body');
  const readsObs = readsObservations();
  const rows = (o) => Object.entries(o).filter(([, v]) => v !== null && typeof v !== 'object')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  body.innerHTML = `
    <h3>${isObs ? 'Observation' : 'Incident'} ${esc(id)}</h3>
    ${readsObs ? '<button id="verify" type="button">Verify in the log</button>'
      : `<p class="meta" id="mission-only">The log proofs of ${MISSION_ONLY}.</p>`}
    <div id="verify-result"></div>
    <table>${rows(it)}</table>
    ${isObs ? '' : `<p>${esc(it.reasons || '')}</p>`}
    <h4>Observations (${evidence.length})</h4>
    <ul>${evidence.map((o) => typeof o === 'object'
      ? `<li>${esc(o.client_id || o.id)}: ${esc(o.kind || '')} ${esc(o.where || '')} ${esc((o.events || []).map((e) => `${e.count ?? 'uncountable'} ${e.type}`).join(', '))}</li>`
      : `<li>observation ${esc(o)}</li>`).join('')}</ul>
    ${readsObs ? '' : `<p class="meta">The records of these ${MISSION_ONLY}.</p>`}
    <h4>Findings (${findings.length})</h4>
    <ul>${findings.map(findingItem).join('') || '<li>none</li>'}</ul>
    <div id="review-result"></div>`;
  wireFindings(body);
  $('panel').hidden = false;
  // the observations to check, with the client id each leaf must hold when it is known
  const toCheck = isObs ? [{ id, clientId: it.client_id }]
    : evidence.map((o) => (typeof o === 'object' ? { id: o.id ?? o.observation, clientId: o.client_id }
      : typeof o === 'string' ? { id: o, clientId: o } : { id: o }))
      .filter((x) => x.id != null);
  if (readsObs) $('verify').onclick = () => verifyObservations(toCheck);
}

// A finding as an item of the panel: clause, result, party, status, reasons, its review history
// (loaded by wireFindings) and the review steps the user may take.
function findingItem(f) {
  return `<li class="finding" data-finding="${esc(f.id)}"><b>${esc(f.clause)}</b> ${esc(f.result)} (${esc(f.party)}),
      status <b class="status">${esc(f.status || '')}</b>: ${esc(f.reasons)}
      <div class="reviews"></div>
      <div class="review-actions">${reviewActions(f).map((a) =>
        `<button type="button" data-action="${a}">${a}</button>`).join(' ')}</div></li>`;
}

function wireFindings(el) {
  for (const li of el.querySelectorAll('li.finding')) {
    const fid = li.dataset.finding;
    if (fid) loadReviews(li, fid);
    for (const b of li.querySelectorAll('button[data-action]')) b.onclick = () => review(li, fid, b.dataset.action);
  }
}

// The panel of one finding (a party user's, from the side bar): its fields, its review history
// and the dispute step; the observation it was made from is the mission's.
function findingPanel(f) {
  const rows = Object.entries(f).filter(([k, v]) => v !== null && typeof v !== 'object' && k !== 'reasons')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  const body = $('panel-body');
  body.innerHTML = `
    <h3>Finding ${esc(f.id)}</h3>
    <table>${rows}</table>
    <ul>${findingItem(f)}</ul>
    <p class="meta">The record of observation ${esc(f.observation)}: ${MISSION_ONLY}.</p>
    <div id="review-result"></div>`;
  wireFindings(body);
  $('panel').hidden = false;
}

// A party user's findings (GET /api/v1/findings, scoped by the server to the user's party) in
// the side bar, each opening its panel; nothing for other roles.
async function partyFindings() {
  if (!state.me || state.me.role !== 'party') return;
  $('party-findings').hidden = false;
  const ul = $('party-findings-list');
  try {
    const list = await getJSON(`/api/v1/findings?limit=${PARTY_FINDINGS_SHOWN}`);
    ul.innerHTML = list.map((f) => `<li><a href="#" data-finding="${esc(f.id)}">${esc(f.clause)}</a>
      ${esc(f.result)}, <span class="status">${esc(f.status)}</span></li>`).join('') || '<li>none</li>';
    for (const a of ul.querySelectorAll('a[data-finding]')) {
      a.onclick = (ev) => { ev.preventDefault(); findingPanel(list.find((f) => String(f.id) === a.dataset.finding)); };
    }
    ul.dataset.count = String(list.length);
  } catch (e) {
    ul.innerHTML = `<li>not available: ${esc(e.message)}</li>`;
  }
}

// The review history of a finding (who, role, when, why, its log leaf).
async function loadReviews(li, fid) {
  try {
    const r = await getJSON(`/api/v1/findings/${encodeURIComponent(fid)}/reviews`);
    li.querySelector('.status').textContent = r.status;
    li.querySelector('.reviews').innerHTML = r.reviews.map((v) =>
      `<div class="review">${esc(v.time.slice(0, 16).replace('T', ' '))} ${esc(v.actor)} (${esc(v.role)}${v.party ? ' ' + esc(v.party) : ''}):
       ${esc(v.action)} ${esc(v.from)} &rarr; ${esc(v.to)}: ${esc(v.text)} <span class="meta">log leaf ${esc(v.log_index)}</span></div>`).join('');
  } catch (e) { /* a server without reviews: nothing to show */ }
}

// One review step: the server decides from the caller's role whether it is allowed.
async function review(li, fid, action) {
  const text = window.prompt(action === 'dispute' ? 'Statement of the party' : `Reason to ${action}`);
  if (text === null) return;
  const out = $('review-result');
  const r = await fetch(`/api/v1/findings/${encodeURIComponent(fid)}/review`, {
    method: 'POST', headers: authHeaders({ 'Content-Type': 'application/json' }),
    body: JSON.stringify({ action, reason: text }),
  });
  const j = await r.json().catch(() => ({}));
  out.dataset.status = String(r.status);
  out.textContent = r.ok ? `finding ${fid}: ${action}: now ${j.status}` : `finding ${fid}: ${action} refused: ${j.detail || r.status}`;
  out.className = r.ok ? 'verify-ok' : 'verify-bad';
  if (r.ok) loadReviews(li, fid);
}

async function verifyObservations(ids) {
  const out = $('verify-result');
  out.className = '';
  out.textContent = 'checking…';
  if (!ids.length) { out.textContent = 'no observation to check'; return; }
  const lines = [];
  let allOk = true, sig = 'ok';
  for (const { id, clientId } of ids) {
    try {
      const bundle = await getJSON(`/api/v1/log/proof/observation/${encodeURIComponent(id)}`);
      const res = await verifyBundle(bundle, clientId);
      allOk = allOk && res.ok;
      if (res.signature && res.signature !== 'ok') sig = res.signature;
      lines.push(`observation ${id}: ${res.ok ? 'in the log' : 'NOT verified'}`, ...res.steps.map((s) => '  ' + s));
    } catch (e) {
      allOk = false;
      lines.push(`observation ${id}: ${e.status === 403 ? MISSION_ONLY : e.message}`);
    }
  }
  out.className = allOk ? 'verify-ok' : 'verify-bad';
  out.dataset.result = allOk ? (sig === 'ok' ? 'verified' : 'proof-only') : 'failed';
  const head = allOk
    ? (sig === 'ok' ? 'Verified: the record is in the log under a valid signed checkpoint.'
      : 'Proof checked; the signature could not be checked in this browser.')
    : 'NOT verified.';
  out.innerHTML = `<p>${esc(head)}</p><pre style="white-space:pre-wrap;font-size:11px">${esc(lines.join('\n'))}</pre>`;
}

function reportViewer() {
  const show = () => {
    const d = $('report-date').value;
    if (!d) return;
    $('report-frame').src = `/api/v1/reports/daily/${d}?format=html`;
    $('report-pdf').href = `/api/v1/reports/daily/${d}?format=pdf`;
  };
  $('open-report').onclick = () => { $('report').hidden = false; show(); };
  $('report-show').onclick = show;
  $('report-close').onclick = () => { $('report').hidden = true; };
}

// The incidents when the server has them, else the observations.
async function loadItems() {
  try {
    if (VIEW === 'observations') throw new Error('observations asked for');
    const inc = await getJSON('/api/v1/map/incidents');
    mark('parsed');
    if (!inc.n) throw new Error('no incident');
    return { mode: 'incidents', cols: itemColumns(inc, 'incidents') };
  } catch (e) {
    if (!readsObservations()) return { mode: 'incidents', cols: itemColumns(EMPTY_MAP, 'incidents') };
    return { mode: 'observations', cols: itemColumns(await getJSON('/api/v1/map/observations'), 'observations') };
  }
}
// No item: what a party user sees when no incident is attributed to its party.
const EMPTY_MAP = {
  n: 0, log: null, id: [], t: [], lon: [], lat: [], count: [], type: [], party: [], region: [], clauses: [],
  semi_major_m: [], grade: [], dict: { type: [], party: [], region: [], clauses: [], grade: [] },
};

// The items' source and layers (above the base layers), first drawn with data.
function addItems(map, data) {
  // Large sets are clustered below zoom CLUSTER_MAX_ZOOM: software WebGL cannot draw 100,000
  // circles per frame, and nobody reads them at that scale. Small sets are drawn point by point.
  const cluster = state.cols.n > CLUSTER_ABOVE;
  map.addSource('items', { type: 'geojson', data, cluster, clusterMaxZoom: CLUSTER_MAX_ZOOM, clusterRadius: 28 });
  map.addLayer({
    id: 'clusters', type: 'circle', source: 'items', filter: ['has', 'point_count'],
    paint: {
      'circle-color': '#34495e', 'circle-opacity': 0.75, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1,
      'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 6, 100, 12, 2000, 20, 20000, 30],
    },
  });
  // the region of uncertainty (observations) or the error ellipse's semi-major axis
  // (incidents) as a disc in metres: pixels = metres / (156543 m * cos(lat) / 2^zoom)
  const K = 156543.03 * Math.cos((48.3 * Math.PI) / 180);
  map.addLayer({
    id: 'uncertainty', type: 'circle', source: 'items', minzoom: 8,
    filter: ['all', ['!', ['has', 'point_count']], ['>', ['get', 'r'], 0]],
    paint: {
      'circle-radius': ['interpolate', ['exponential', 2], ['zoom'], 0, ['/', ['get', 'r'], K], 22, ['/', ['*', ['get', 'r'], 4194304], K]],
      'circle-color': '#555', 'circle-opacity': 0.08, 'circle-stroke-color': '#555', 'circle-stroke-width': 0.5, 'circle-stroke-opacity': 0.4,
    },
  });
  map.addLayer({
    id: 'items', type: 'circle', source: 'items', filter: ['!', ['has', 'point_count']],
    paint: {
      'circle-color': colourExpression(),
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, ['min', 8, ['+', 2.5, ['sqrt', ['get', 'count']]]], 10, ['min', 16, ['+', 4, ['sqrt', ['get', 'count']]]]],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 0.7, 'circle-opacity': 0.9,
    },
  });
}

// The base map: the Ukraine outline, the agreement's regions, control areas, zones and lines,
// in one source (one index and one set of tiles for the map's worker to make, not five: each
// tile that arrives is one more frame drawn) with a layer per kind.
function addBase(map, geo, outline) {
  const kinds = ['region', 'control', 'zone', 'line'];
  const features = [{ ...outline, properties: { ...outline.properties, layer: 'outline' } }]
    .concat(geo.features.filter((f) => kinds.includes(f.properties.layer)));
  map.addSource('base', { type: 'geojson', data: { type: 'FeatureCollection', features } });
  const of = (kind) => ({ source: 'base', filter: ['==', ['get', 'layer'], kind] });
  map.addLayer({ id: 'outline', type: 'fill', ...of('outline'), paint: { 'fill-color': '#f7f5ef', 'fill-outline-color': '#999' } });
  map.addLayer({ id: 'regions', type: 'fill', ...of('region'), paint: { 'fill-color': '#efe9d8', 'fill-outline-color': '#777' } });
  map.addLayer({ id: 'regions-edge', type: 'line', ...of('region'), paint: { 'line-color': '#777', 'line-width': 1 } });
  map.addLayer({ id: 'control', type: 'fill', ...of('control'), paint: { 'fill-color': '#c98f8f', 'fill-opacity': 0.25 } });
  map.addLayer({ id: 'zones', type: 'fill', ...of('zone'), paint: { 'fill-color': '#f0a030', 'fill-opacity': 0.5, 'fill-outline-color': '#b26b00' } });
  map.addLayer({ id: 'lines', type: 'line', ...of('line'), paint: { 'line-color': '#c00000', 'line-width': 2.5 } });
}

// The filters' choices: the values that occur (a dictionary holds only those).
function fillFilters(c) {
  const d = c.dict;
  fillSelect('f-type', new Set(d.type), (v) => v.replace(/_/g, ' '));
  fillSelect('f-party', new Set(d.party));
  fillSelect('f-clause', new Set(d.clauses.flatMap((s) => s.split('|'))));
  fillSelect('f-region', new Set(d.region));
  const grades = new Set();
  for (let i = 0; i < c.n && grades.size < d.grade.length; i++) grades.add(d.grade[c.grade[i]]);
  fillSelect('f-grade', grades);
}

async function main() {
  const t0 = performance.now();
  mark('start');
  // everything is fetched while the map starts (boot.js started the requests)
  const baseP = Promise.all([
    getJSON('/api/v1/geography'), getJSON('geo/ukraine.geojson'), getJSON('/api/v1/agreements'),
  ]);
  const itemsP = loadItems();
  const map = new maplibregl.Map({
    container: 'map',
    // No tiles, no glyphs, no sprite: nothing is fetched but truce's own GeoJSON.
    style: { version: 8, sources: {}, layers: [{ id: 'sea', type: 'background', paint: { 'background-color': '#dfe8ef' } }] },
    center: [38.2, 48.3], zoom: 6.6, attributionControl: false, fadeDuration: 0,
    // the worker's own requests (the incidents' GeoJSON) carry the user's token
    transformRequest: (url) => (url.startsWith(`${location.origin}/api/`) ? { url, headers: authHeaders() } : { url }),
  });
  // when that GeoJSON is refused (the log grew since the columns were read) or fails, the
  // features are made here from the columns
  map.on('error', (e) => {
    if (e.sourceId !== 'items' || state.features.length || !state.cols) return;
    state.features = mapFeatures(state.cols);
    applyFilters(map);
  });
  window.truce.map = map;
  const mapLoaded = new Promise((res) => map.on('load', res));
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution:
    'Ukraine: © OpenStreetMap contributors (ODbL); oblasts: Natural Earth; line and areas approximate' }));
  const [geo, outline, agreements] = await baseP;
  const ag = agreements[agreements.length - 1];
  state.agreement = ag;
  $('agreement').textContent = `${ag.title}${ag.illustrative ? ' (ILLUSTRATIVE)' : ''}`;
  // the agreement's parties first (their names, stable colours), then any other party seen
  state.parties = (geo.parties || []).map((p) => ({ id: p.id, name: p.name }));
  // the base map is drawn while the items are still on their way
  await mapLoaded;
  mark('style');
  addBase(map, geo, outline);
  const { mode, cols } = await itemsP;
  mark('data');
  state.mode = mode;
  state.cols = cols;
  for (const p of cols.dict.party)
    if (p !== 'undetermined' && !state.parties.some((q) => q.id === p)) state.parties.push({ id: p, name: p });
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < cols.n; i++) {
    const t = cols.t[i];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  state.tmin = Number.isFinite(lo) ? Math.floor(lo / DAY) * DAY : Date.now();
  state.tmax = Number.isFinite(hi) ? hi : Date.now();
  const days = Math.max(0, Math.floor((state.tmax - state.tmin) / DAY));
  $('time').max = String(days);
  $('time').value = String(days);
  // the items go to the map's worker first (it clusters them while the page is filled in)
  applyFilters(map);
  mark('layers');
  $('mode').textContent = state.mode === 'observations' ? 'observations (no incidents on this server)'
    : readsObservations() ? 'incidents (fused, attributed)'
      : `incidents attributed to ${state.me.party}; ${MISSION_ONLY}`;
  fillFilters(cols);
  legend();
  $('report-date').value = new Date(state.tmax).toISOString().slice(0, 10);
  mark('filters');
  map.on('sourcedata', (e) => { if (e.sourceId === 'items' && e.isSourceLoaded && !window.truce.timings.itemsLoaded) mark('itemsLoaded'); });

  let pending = 0; // the slider fires many events: refilter once they pause
  const refilter = () => {
    clearTimeout(pending);
    if (state.cols.n > CLUSTER_ABOVE) pending = setTimeout(() => applyFilters(map), 120);
    else applyFilters(map);
  };
  for (const id of ['time', 'window', 'f-type', 'f-party', 'f-clause', 'f-region', 'f-grade'])
    $(id).addEventListener('input', refilter);
  map.on('click', 'clusters', async (e) => {
    const f = e.features[0];
    const zoom = await map.getSource('items').getClusterExpansionZoom(f.properties.cluster_id);
    map.easeTo({ center: f.geometry.coordinates, zoom });
  });
  for (const r of document.querySelectorAll('input[name=colour]'))
    r.addEventListener('change', () => { state.colourBy = r.value; map.setPaintProperty('items', 'circle-color', colourExpression()); legend(); });
  for (const cb of document.querySelectorAll('input[data-layer]'))
    cb.addEventListener('change', () => {
      const ids = cb.dataset.layer === 'regions' ? ['regions', 'regions-edge'] : [cb.dataset.layer];
      for (const l of ids) map.setLayoutProperty(l, 'visibility', cb.checked ? 'visible' : 'none');
    });
  // what a zone, line or region is, on click (HTML popups: no glyphs needed)
  for (const l of ['zones', 'lines', 'regions']) {
    map.on('click', l, (e) => {
      if (map.queryRenderedFeatures(e.point, { layers: ['items', 'clusters'] }).length) return;
      if (l === 'regions' && map.queryRenderedFeatures(e.point, { layers: ['zones', 'lines'] }).length) return;
      const p = e.features[0].properties;
      new maplibregl.Popup({ closeButton: true }).setLngLat(e.lngLat)
        .setHTML(`<b>${esc(p.name || p.id || '')}</b>${p.kind ? `<br>${esc(p.kind.replace(/_/g, ' '))}` : ''}`).addTo(map);
    });
  }
  map.on('click', 'items', (e) => { panelFor(e.features[0].properties.id).catch((err) => { $('panel-body').textContent = err.message; }); });
  map.on('mouseenter', 'items', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'items', () => { map.getCanvas().style.cursor = ''; });
  $('panel-close').onclick = () => { $('panel').hidden = true; };
  reportViewer();
  partyFindings();
  await new Promise((res) => map.once('idle', res));
  mark('idle');
  window.truce.loadMs = performance.now() - t0; // from this script's start
  window.truce.firstRenderMs = performance.now(); // from the navigation's start
  window.truce.openPanel = panelFor;
  window.truce.openFinding = findingPanel;
  window.truce.ready = true;
  document.body.dataset.ready = '1';
}

// ---- sign-in (docs/dashboard.md) ----

// Shows the sign-in form over the page, with message (why) when there is one.
function showSignin(message) {
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
  if (message) $('signin-error').dataset.status = '401';
  document.body.dataset.signin = '1';
  $('signin-token').focus();
}

// Shows who is signed in in the top bar.
function showUser(me) {
  state.me = me;
  $('who-text').textContent = `${me.name} (${me.role}${me.party ? `, party ${me.party}` : ''})`;
  Object.assign($('who').dataset, { name: me.name, role: me.role, party: me.party || '' });
  $('who').hidden = false;
}

// Checks token with GET /api/v1/me: the user, or throws an error that says why.
async function whoIs(token) {
  let r;
  try {
    r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  } catch (e) {
    throw new Error(`The server cannot be reached (${e.message}).`);
  }
  if (r.status === 401) {
    throw Object.assign(new Error('This token was not accepted (401): it is unknown, revoked or not copied whole.'), { status: 401 });
  }
  if (!r.ok) throw Object.assign(new Error(`The server answered ${r.status} to GET /api/v1/me.`), { status: r.status });
  return r.json();
}

function wireSignin() {
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('signin-token').value.trim();
    if (!token) return;
    $('signin-submit').disabled = true;
    $('signin-error').textContent = 'checking…';
    try {
      await whoIs(token);
      sessionStorage.setItem(TOKEN_KEY, token);
      location.reload(); // boot.js starts the page's requests with the token
    } catch (e) {
      $('signin-error').textContent = e.message;
      $('signin-error').dataset.status = String(e.status || 0);
      $('signin-submit').disabled = false;
    }
  });
  $('signout').onclick = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  };
}

// The user signed in (the answer boot.js started, else asked again); a refused token is forgotten
// and the form shown. A server without /api/v1/me leaves the user unknown (the server decides).
async function signedIn() {
  try {
    showUser(await getJSON('/api/v1/me'));
  } catch (e) {
    if (e.status !== 401) return;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin('The stored token was not accepted (401): it is unknown or revoked. Sign in again.');
    throw e;
  }
}

wireSignin();
if (!TOKEN) {
  showSignin('');
} else {
  // who is signed in first (boot.js asked already): the panel and the mode line depend on the role
  signedIn().then(main).catch((e) => {
    $('count').textContent = `error: ${e.message}`;
    window.truce.error = String(e);
  });
}
