#!/usr/bin/env bash
# The demo `make demo` runs: a fresh data directory with the minsk-2015 scenario, its sample
# observations ingested, and the daily report of 10 October 2016 printed (and written as HTML);
# then it serves the dashboard on $DEMO_LISTEN (default 127.0.0.1:8080) until Ctrl-C
# (DEMO_SERVE=0: don't).
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
echo "== truce report --date 2016-10-10"
./truce --data "$DATA" report --date 2016-10-10
./truce --data "$DATA" report --date 2016-10-10 --format html --output "$DATA/report-2016-10-10.html"
echo "(also as one HTML page: $DATA/report-2016-10-10.html)"
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
                     ./truce --data $DATA report --date 2016-10-11 --format json
                     ./truce --data $DATA log export /tmp/truce-log && ./truce log verify --export /tmp/truce-log --key "\$(./truce --data $DATA log key)"
                     ./truce --help
MSG
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
if [ "${DEMO_SERVE:-1}" != 0 ]; then
  cat <<MSG

== truce serve --listen $LISTEN   (Ctrl-C to stop)
  dashboard          http://$LISTEN/
  public page        http://$LISTEN/public
  daily report       http://$LISTEN/api/v1/reports/daily/2016-10-10?format=html   (format=pdf: PDF)
MSG
  exec ./truce --data "$DATA" serve --listen "$LISTEN" --web web/dist
fi
