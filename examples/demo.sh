#!/usr/bin/env bash
# The demo `make demo` runs: a fresh data directory with the minsk-2015 scenario, its sample
# observations ingested, and the daily report of 10 October 2016 printed.
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
echo
echo "== truce place 48.12 37.78   (a point between Avdiivka and Yasynuvata)"
./truce --data "$DATA" place 48.12 37.78
cat <<MSG

Where everything is:
  data directory     $PWD/$DATA (SQLite store: $DATA/truce.db)
  agreement          examples/minsk-2015/agreement.json   (format: docs/agreement-format.md)
  observations       examples/minsk-2015/observations.ndjson (format: docs/observation-format.md)
  try next           ./truce --data $DATA findings --format text
                     ./truce --data $DATA observations --kind sighting
                     ./truce --data $DATA report --date 2016-10-11 --format json
                     ./truce --help
MSG
