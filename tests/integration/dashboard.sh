#!/usr/bin/env bash
# The dashboard, the HTML/PDF daily report and the public page end to end: the minsk-2015 demo
# data behind a real `truce serve` on a free loopback port; static files (content types, no
# path out of the web directory, no symbolic link followed out of it), the geography, proofs
# and public routes with curl; the report as HTML (self-contained) and PDF (pages rendered to
# PNG with pdftoppm); then tests/e2e/dashboard.mjs in Debian's headless Chromium. Screenshots
# and report pages go to $ARTEFACTS (default build/artefacts).
set -euo pipefail
T=${TRUCE:-./truce}
ART=${ARTEFACTS:-build/artefacts}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in curl node pdftoppm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed (make deps)"; exit 1; }
done
[ -x "$CHROMIUM" ] || { echo "FAIL: no Chromium at $CHROMIUM (make deps installs Debian's chromium)"; exit 1; }
[ -f web/dist/index.html ] && [ -d web/node_modules/playwright-core ] ||
  { echo "FAIL: the dashboard is not built: run make web"; exit 1; }
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
REQ_MAX_TIME=60   # the PDF report takes a while
has() { grep -qF -- "$1" <<<"$out" || fail "body lacks: $1 -- got: $(head -c 1000 <<<"$out")"; }
lacks() { ! grep -qF -- "$1" <<<"$out" || fail "body has: $1"; }
mkdir -p "$ART"

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# users (docs/api.md): curl (req) acts as an admin (AUTH) unless AS says otherwise; the browser as an analyst
AUTH="Authorization: Bearer $("$T" --data "$D/data" user add ops --role admin 2>/dev/null)"
export E2E_ANALYST_TOKEN=$("$T" --data "$D/data" user add anna-web --role analyst 2>/dev/null)
export E2E_PARTY_TOKEN=$("$T" --data "$D/data" user add ua-lo-web --role party --party ua 2>/dev/null)
"$T" --data "$D/data" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
# a record whose client id and remarks carry markup: the HTML must show it as text
printf '%s\n' '{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"<b>x</b>&amp;\"q\"","time":"2016-10-10T10:00:00+03:00","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1,"remarks":"<script>alert(1)</script>"}}' \
  | "$T" --data "$D/data" ingest --quiet - >/dev/null

# the review of findings (M6) from the command line: each step only for its role, logged
if "$T" --data "$D/data" review 1 --action confirm --role party --party ua --as ua-lo --reason x 2>"$D/err"; then
  fail "a party confirmed a finding"; fi
grep -q "only the analyst role may confirm" "$D/err" || fail "no clear refusal: $(cat "$D/err")"
if "$T" --data "$D/data" review 1 --action publish --role publisher --as chief --reason x 2>"$D/err"; then
  fail "a provisional finding was published"; fi
grep -q "not possible from status provisional" "$D/err" || fail "no clear refusal: $(cat "$D/err")"
out=$("$T" --data "$D/data" review 1 --action confirm --role analyst --as anna --reason "two patrols heard it")
has "finding 1: confirm by anna (analyst): now confirmed"
"$T" --data "$D/data" review 1 --action publish --role publisher --as chief --reason "daily publication" >/dev/null
if "$T" --data "$D/data" review 12 --action dispute --role party --party ua --reason "not ours" 2>/dev/null; then
  fail "ua disputed a finding about af"; fi
"$T" --data "$D/data" review 12 --action dispute --role party --party af --as af-lo \
  --reason "the tanks were in the storage site" >/dev/null
out=$("$T" --data "$D/data" log verify); has "log verified"
out=$("$T" --data "$D/data" findings --clause minsk2-1); has '"id":1,"observation":1,"clause":"minsk2-1"'
has '"status":"published"'

# the report from the command line: HTML is one file with no outside reference
"$T" --data "$D/data" report --date 2016-10-10 --format html --output "$D/report.html"
out=$(cat "$D/report.html")
has '<svg'; has 'class="line"'; has 'ceasefire violations</b>'; has 'id="annex"'; has 'smm-2016-10-10-B1'
has 'id="escalations"'; has 'id="trend-weekly"'; has 'id="trend-monthly"'
! grep -Eq '(src|href)="[a-z]+:' "$D/report.html" || fail "the HTML report refers to something outside itself"
! grep -Eq '<(script|link|img|iframe)' "$D/report.html" || fail "the HTML report loads other files"
# every observation of the period is in the annex, one row each
rows=$(grep -c '<tr class="obs">' "$D/report.html")
want=$("$T" --data "$D/data" observations --from 2016-10-09T16:30:00Z --to 2016-10-10T16:30:00Z | grep -c '"id"')
[ "$rows" = "$want" ] || fail "annex rows $rows, observations in the period $want"
# the event-type table's total row equals the sum of the per-region totals of the JSON report
"$T" --data "$D/data" report --date 2016-10-10 --format json >"$D/report.json"
total=$(node -e 'const r=require(process.argv[1]);console.log(r.regions.reduce((s,x)=>s+x.current.ceasefire_violations,0))' "$D/report.json")
grep -q "<tr class=\"total\"><td>All regions</td><td class=\"n\">$total</td>" "$D/report.html" ||
  fail "the HTML total is not the JSON total $total"
# what comes from data is text, never markup
has '&lt;b&gt;x&lt;/b&gt;&amp;amp;&quot;q&quot;'; lacks '<b>x</b>'; lacks '<script>'
"$T" --data "$D/data" report --date 2016-10-10 --format pdf --output "$D/report.pdf"
[ "$(head -c 5 "$D/report.pdf")" = "%PDF-" ] || fail "truce report --format pdf wrote no PDF"
rm -f "$ART"/report-page-*.png
pdftoppm -r 60 -png "$D/report.pdf" "$ART/report-page"
n_pages=$(ls "$ART"/report-page-*.png | wc -l)
[ "$n_pages" -ge 2 ] || fail "the PDF has $n_pages page(s)"
# without Chromium: a clear error, nothing written
if env PATH=/nonexistent TRUCE_CHROMIUM= "$T" --data "$D/data" report --date 2016-10-10 --format pdf \
     --output "$D/none.pdf" 2>"$D/err"; then fail "pdf without chromium succeeded"; fi
grep -q "install Debian's chromium" "$D/err" || fail "no clear error without chromium: $(cat "$D/err")"
[ ! -e "$D/none.pdf" ] || fail "a PDF file was written without chromium"

# a web directory with traps: a symbolic link out of it, a hidden file, a type not served
cp -r web/dist "$D/web"
ln -s /etc/hostname "$D/web/leak.txt"
echo secret >"$D/web/.hidden.txt"
echo 'echo hi' >"$D/web/run.sh"
mkdir -p "$D/web/sub" && echo inner >"$D/web/sub/inner.txt"

serve_start "$D/data" --web "$D/web"

# static files and their types
req 200 "$U/"; has 'truce dashboard'; [ "$ctype" = "text/html; charset=utf-8" ] || fail "/ is $ctype"
req 200 "$U/app.js"; [ "$ctype" = "text/javascript; charset=utf-8" ] || fail "app.js is $ctype"
req 200 "$U/style.css"; [ "$ctype" = "text/css; charset=utf-8" ] || fail "style.css is $ctype"
req 200 "$U/geo/ukraine.geojson"; [ "$ctype" = "application/geo+json" ] || fail "geojson is $ctype"
req 200 "$U/public"; has 'public.js'
req 200 "$U/sub/inner.txt"; has inner
req 200 -I "$U/index.html"
# nothing outside the web directory, nothing hidden, no other type, no method but GET/HEAD
for p in '/../Makefile' '/..%2fMakefile' '/%2e%2e/Makefile' '/geo/../../Makefile' '/geo/%2e%2e/index.html' \
         '//etc/passwd' '/leak.txt' '/.hidden.txt' '/run.sh' '/sub/' '/sub' '/index.html/' \
         '/api/v1/nothing.html' "/$(printf 'a%.0s' $(seq 1 300)).html"; do
  req 404 --path-as-is "$U$p"; lacks "$(cat /etc/hostname)"; lacks secret
done
req 405 -X POST "$U/api/v1/geography"
req 404 -X POST "$U/index.html"

# who a token belongs to (the dashboard's sign-in, docs/dashboard.md)
req 200 "$U/api/v1/me"; has '{"name":"ops","role":"admin","party":null}'
AS="Authorization: Bearer $E2E_PARTY_TOKEN" req 200 "$U/api/v1/me"; has '{"name":"ua-lo-web","role":"party","party":"ua"}'
AS="X-None: 1" req 401 "$U/api/v1/me"
AS="Authorization: Bearer truce_nonsense" req 401 "$U/api/v1/me"; has 'Invalid token'

# geography, proofs, reports, public routes
req 200 "$U/api/v1/geography"; has '"layer":"line","id":"contact-line"'; has '"parties":[{"id":"ua","name":"Armed Forces of Ukraine"'; has '"layer":"region","id":"donetsk"'
has '"layer":"zone","id":"zolote"'; has '"layer":"control"'
req 200 "$U/api/v1/map/observations"; has '"n":26,'; has '"dict":{"type":["undetermined_explosion"'
has '"clauses":["|minsk2-1|"'; has '"radius_m":[2332,'
req 200 "$U/api/v1/map/observations"; has '"n":26,'   # the same answer again (cached)
# the incidents' map points (docs/api.md): one per stored incident, compact columns with dictionaries
n_inc=$("$T" --data "$D/data" incidents --format ndjson | wc -l)
[ "$n_inc" -gt 0 ] || fail "the demo has no incident"
req 200 "$U/api/v1/map/incidents"; has "\"n\":$n_inc,"
node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));const n=+process.argv[2];
  for (const k of ["id","t","lon","lat","semi_major_m","count","type","region","party","grade","clauses"])
    if (!Array.isArray(m[k]) || m[k].length !== n) throw new Error(`column ${k}: not ${n} values`);
  for (const k of ["type","region","party","grade","clauses"])
    if (m[k].some((i) => typeof m.dict[k][i] !== "string")) throw new Error(`column ${k}: an index outside its dictionary`);
  if (!m.dict.clauses.includes("|minsk2-1|")) throw new Error("no incident with its finding of clause minsk2-1");
  if (m.semi_major_m.some((r) => !(r > 0))) throw new Error("an incident without its ellipse");' "$D/body" "$n_inc" ||
  fail "the map incidents are not $n_inc rows of columns: $(head -c 500 "$D/body")"
# each row is the incident /api/v1/incidents/{id} gives (the first one checked field by field)
first=$(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(JSON.stringify({id:m.id[0],t:m.t[0],party:m.dict.party[m.party[0]],grade:m.dict.grade[m.grade[0]],count:m.count[0]}))' "$D/body")
id0=$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$first")
req 200 "$U/api/v1/incidents/$id0"
node -e 'const f=JSON.parse(process.argv[1]), i=JSON.parse(process.argv[2]);
  if (Date.parse(i.end)!==f.t || i.party!==f.party || i.grade!==f.grade || i.count!==f.count) throw new Error("differs")' "$first" "$out" ||
  fail "map incident $first is not incident $out"
req 200 "$U/api/v1/map/incidents"; has "\"n\":$n_inc,"   # cached
# the same incidents as GeoJSON for the map's worker, made at the log size the columns name
log=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).log)' "$D/body")
cols="$D/cols.json"; cp "$D/body" "$cols"
req 200 "$U/api/v1/map/incidents?format=geojson&log=$log"; has '"type":"FeatureCollection"'
node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1])), g=JSON.parse(require("fs").readFileSync(process.argv[2]));
  if (g.features.length !== m.n || g.log !== m.log) throw new Error("not the same rows");
  g.features.forEach((f, i) => { const p = f.properties;
    if (p.id !== m.id[i] || p.type !== m.type[i] || p.party !== m.party[i] || p.r !== m.semi_major_m[i] ||
        f.geometry.coordinates[0] !== m.lon[i] || f.geometry.coordinates[1] !== m.lat[i]) throw new Error(`feature ${i} differs`); });' "$cols" "$D/body" ||
  fail "the GeoJSON is not the columns' incidents: $(head -c 300 "$D/body")"
req 409 "$U/api/v1/map/incidents?format=geojson&log=$((log + 1))"; has "the log is now $log"
req 400 "$U/api/v1/map/incidents?format=csv"; has 'format: only geojson'
req 400 "$U/api/v1/map/incidents?format=geojson&log=-1"; has 'log: not a log size'
n_ua=$("$T" --data "$D/data" incidents --format ndjson --party ua | wc -l)
AS="Authorization: Bearer $E2E_PARTY_TOKEN" req 200 "$U/api/v1/map/incidents"; has "\"n\":$n_ua,"
[ "$n_ua" = 0 ] || has '"party":["ua"]'
AS="X-None: 1" req 401 "$U/api/v1/map/incidents"
# a new observation: the cached points are not served any more
req 200 -H 'Content-Type: application/x-ndjson' --data-binary '{"type":"Feature","geometry":{"type":"Point","coordinates":[38.05,48.2]},"properties":{"kind":"detection","client_id":"map-new-1","time":"2016-10-11T10:00:00Z","means":"acoustic","accuracy_m":300,"events":[{"type":"impact","count":2}]}}' "$U/api/v1/observations"
req 200 "$U/api/v1/map/observations"; has '"n":27,'; has '38.05000'
req 200 "$U/api/v1/map/incidents"; has "\"n\":$("$T" --data "$D/data" incidents --format ndjson | wc -l),"
req 200 "$U/api/v1/log/proof/observation/3"; has '"leaf_index":'; has '"proof":["'; has '"verifier_key":"truce.example/minsk-2015+'
req 404 "$U/api/v1/log/proof/observation/999"
req 404 "$U/api/v1/log/proof/observation/abc"      # neither an id nor a stored client id
req 400 "$U/api/v1/log/proof/observation/-3"
# by client id, as an incident's evidence names its observations: the same leaf as by id
req 200 "$U/api/v1/log/proof/observation/3"; by_id=$(grep -o '"leaf_index":[0-9]*' <<<"$out")
cid=$("$T" --data "$D/data" observations | sed -n 's/.*"id":3,.*"client_id":"\([^"]*\)".*/\1/p' | head -1)
[ -n "$cid" ] || cid=$("$T" --data "$D/data" observations | grep '"id":3,' | grep -o '"client_id":"[^"]*"' | cut -d'"' -f4)
req 200 "$U/api/v1/log/proof/observation/$cid"; has "$by_id"
req 200 "$U/api/v1/reports/daily/2016-10-10?format=html"; has '<svg'; has 'id="annex"'
[ "$ctype" = "text/html; charset=utf-8" ] || fail "html report is $ctype"
req 200 "$U/api/v1/reports/daily/2016-10-10?format=pdf"; [ "$ctype" = "application/pdf" ] || fail "pdf is $ctype"
[ "$(head -c 5 "$D/body")" = "%PDF-" ] || fail "the API's PDF is not a PDF"
req 400 "$U/api/v1/reports/daily/2016-10-10?format=docx"
req 200 "$U/api/v1/public/reports"; has '"date":"2016-10-10"'
req 200 "$U/api/v1/public/reports/2016-10-10"; has '<svg'; lacks 'id="annex"'; lacks 'smm-2016-10-10'
has '(published findings only)'; lacks '[minsk2-2-art100'; has '<td>minsk2-1</td><td class="n">1</td>'   # finding 1 only
req 404 "$U/api/v1/public/reports/2999-01-01"
req 200 "$U/api/v1/public/findings"; has '"findings":[{"id":1,'; has '"clause":"minsk2-1"'
lacks '"id":12,'; lacks '"observation"'
req 200 "$U/api/v1/findings/1/reviews"; has '"status":"published"'
has '"action":"confirm","from":"provisional","to":"confirmed","actor":"anna","role":"analyst"'
has '"action":"publish","from":"confirmed","to":"published","actor":"chief"'; has '"log_index":'
req 200 "$U/api/v1/findings/12/reviews"; has '"action":"dispute"'; has '"party":"af"'; has '"status":"provisional"'
req 404 "$U/api/v1/findings/9999/reviews"
# without a token, or with a role the route does not admit, a review step is refused, nothing changes
AS="X-None: 1" req 401 -X POST -H 'Content-Type: application/json' --data '{"action":"dismiss","reason":"x"}' "$U/api/v1/findings/1/review"
req 403 -X POST -H 'Content-Type: application/json' --data '{"action":"dismiss","reason":"x"}' "$U/api/v1/findings/1/review"
AS="X-None: 1" req 401 "$U/api/v1/map/observations"
req 200 "$U/api/v1/findings/1/reviews"; has '"status":"published"'

# in the browser
CHROMIUM="$CHROMIUM" node tests/e2e/dashboard.mjs "$U" "$ART" || fail "the browser tests failed"

serve_stop
echo "dashboard: ok (artefacts in $ART)"
