#!/usr/bin/env bash
# The demo `make demo` runs: a fresh data directory with the minsk-2015 scenario, its sample
# observations ingested, and the daily report of 10 October 2016 printed (and written as HTML);
# reports of the same events by several observers fused into incidents; then the dashboard and
# the API are served at 127.0.0.1:8080 (DEMO_LISTEN) until Ctrl-C. DEMO_SERVE=0 skips the
# serving, for CI and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEMO_DATA:-demo-data}
rm -rf "$DATA"
echo "== truce init $DATA --agreement examples/minsk-2015/agreement.json"
./truce init "$DATA" --agreement examples/minsk-2015/agreement.json
echo
echo "== truce ingest examples/minsk-2015/observations.ndjson"
./truce --data "$DATA" ingest --quiet examples/minsk-2015/observations.ndjson
echo
echo "== truce alerts --format text   (escalation thresholds the observations crossed)"
./truce --data "$DATA" alerts --format text
echo
echo "== truce report --date 2016-10-10"
./truce --data "$DATA" report --date 2016-10-10
./truce --data "$DATA" report --date 2016-10-10 --format html --output "$DATA/report-2016-10-10.html"
echo "(also as one HTML page: $DATA/report-2016-10-10.html)"
echo
echo "== truce ingest examples/minsk-2015/fusion.ndjson   (reports of the same events by several observers)"
./truce --data "$DATA" ingest --quiet examples/minsk-2015/fusion.ndjson
echo
echo "== truce incidents --date 2016-10-12   (fused, located, attributed: docs/fusion.md)"
./truce --data "$DATA" incidents --date 2016-10-12
echo
echo "== truce log verify   (every stored record against the transparency log)"
./truce --data "$DATA" log verify
echo
echo "== truce log checkpoint   (the signed C2SP checkpoint any party can check)"
./truce --data "$DATA" log checkpoint
echo
echo "== truce place 48.12 37.78   (a point between Avdiivka and Yasynuvata)"
./truce --data "$DATA" place 48.12 37.78
cat <<MSG

Where everything is:
  data directory     $PWD/$DATA (SQLite store: $DATA/truce.db)
  agreement          examples/minsk-2015/agreement.json   (format: docs/agreement-format.md)
  observations       examples/minsk-2015/observations.ndjson (format: docs/observation-format.md)
  transparency log   $DATA/log (leaf hashes, signed checkpoint, keys; docs/log-format.md)
  try next           ./truce --data $DATA findings --format text
                     ./truce --data $DATA observations --kind sighting
                     ./truce --data $DATA alerts show 3; ./truce --data $DATA alerts ack 3 --by me   (docs/escalation.md)
                     ./truce --data $DATA report --date 2016-10-11 --format json
                     ./truce --data $DATA incidents --format ndjson
                     ./truce --data $DATA log export /tmp/truce-log && ./truce log verify --export /tmp/truce-log --key "\$(./truce --data $DATA log key)"
                     ./truce --help
MSG
if [ "${DEMO_SERVE:-1}" = 0 ]; then exit 0; fi
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
echo
echo "== truce user add   (API users: a token is printed once, only its hash is stored)"
ANALYST=$(./truce --data "$DATA" user add demo-analyst --role analyst)
MONITOR=$(./truce --data "$DATA" user add demo-monitor --role monitor)
echo "analyst token  $ANALYST"
echo "monitor token  $MONITOR"
cat <<MSG

== truce serve --listen $LISTEN   (the dashboard and the HTTP API, docs/api.md; Ctrl-C stops it)
  dashboard          http://$LISTEN/#token=$ANALYST   (the token stays in the browser tab)
  public page        http://$LISTEN/public
  daily report       http://$LISTEN/api/v1/reports/daily/2016-10-10?format=html   (format=pdf: PDF)
  try                curl -s http://$LISTEN/healthz
                     curl -s "http://$LISTEN/api/v1/reports/daily/2016-10-10?format=text"
                     curl -s -H "Authorization: Bearer $ANALYST" "http://$LISTEN/api/v1/incidents"
                     curl -s -H "Authorization: Bearer $ANALYST" "http://$LISTEN/api/v1/findings?party=af"
                     curl -s -H "Authorization: Bearer $MONITOR" -H 'Content-Type: application/x-ndjson' --data-binary @examples/minsk-2015/fusion.ndjson http://$LISTEN/api/v1/observations
                     ogrinfo -ro --config GDAL_HTTP_HEADERS "Authorization: Bearer $ANALYST" OAPIF:http://$LISTEN/ogc incidents
  logs               one JSON line per request below (log_level=warn in a config file quiets them)
MSG
exec ./truce --data "$DATA" serve --listen "$LISTEN" --web web/dist
