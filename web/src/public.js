// public.js: the public page: lists the daily reports of closed periods (public edition, no
// annex of observations) and the findings a publisher has published. It asks only the
// /api/v1/public/ routes: it never reads observations.
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

async function main() {
  const [rep, fin] = await Promise.all([
    fetch('/api/v1/public/reports').then((r) => r.json()),
    fetch('/api/v1/public/findings').then((r) => r.json()),
  ]);
  $('agreement').textContent = rep.title + (rep.illustrative ? ' (ILLUSTRATIVE)' : '');
  const sel = $('report-date');
  for (const r of rep.reports) {
    const o = document.createElement('option');
    o.value = r.html; o.textContent = r.date;
    sel.appendChild(o);
  }
  $('reports-note').textContent = rep.reports.length
    ? `${rep.reports.length} daily report${rep.reports.length === 1 ? '' : 's'} published.`
    : 'No report published yet.';
  const show = () => { if (sel.value) $('report-frame').src = sel.value; };
  sel.addEventListener('change', show);
  show();
  $('findings').innerHTML = fin.findings.length
    ? `<table><tr><th>Date</th><th>Clause</th><th>Result</th><th>Party</th><th>Severity</th><th>Region</th><th>Reasons</th></tr>${
      fin.findings.map((f) => `<tr class="finding"><td>${esc(f.time.slice(0, 10))}</td><td>${esc(f.clause)}</td><td>${esc(f.result)}</td><td>${esc(f.party)}</td><td>${esc(f.severity)}</td><td>${esc(f.region)}</td><td>${esc(f.reasons)}</td></tr>`).join('')}</table>`
    : '<p>No finding has been published yet: findings are provisional until an analyst confirms them and a publisher publishes them.</p>';
  document.body.dataset.ready = '1';
}
main().catch((e) => { $('reports-note').textContent = `error: ${e.message}`; });
