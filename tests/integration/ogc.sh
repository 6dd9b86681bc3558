#!/usr/bin/env bash
# OGC API - Features and the paged JSON listings end to end: a temporary data directory with the
# minsk-2015 example (truce init + ingest), the real server on a free loopback port, then GDAL's
# OAPIF driver (ogrinfo) lists the layers, counts the features of each and reads one geometry,
# all compared with what `truce observations` / `truce findings` print; curl + jq check bbox,
# datetime (instants, closed and open intervals), limit, cursor paging (next links followed to
# the end give every feature exactly once), single items and the 400/404 answers.
set -euo pipefail
T=${TRUCE:-./truce}
for tool in curl jq ogrinfo; do
  if ! command -v $tool >/dev/null 2>&1; then echo "skipped: $tool is not installed"; exit 0; fi
done
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', wanted '$2'"; }

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# items are for the mission's readers (docs/api.md): an analyst's token, for GDAL too
AUTH="Authorization: Bearer $("$T" --data "$D/data" user add ogc-reader --role analyst 2>/dev/null)"
export GDAL_HTTP_HEADERS="$AUTH"
"$T" --data "$D/data" ingest examples/minsk-2015/observations.ndjson >/dev/null
"$T" --data "$D/data" observations > "$D/obs.ndjson"
"$T" --data "$D/data" findings > "$D/findings.ndjson"
N_OBS=$(wc -l < "$D/obs.ndjson")
N_FINDINGS=$(wc -l < "$D/findings.ndjson")
# the incidents fused as the reports were ingested (docs/fusion.md)
"$T" --data "$D/data" incidents --format ndjson > "$D/incidents.ndjson"
N_INC=$(wc -l < "$D/incidents.ndjson")
[ "$N_INC" -gt 3 ] || fail "the example gave $N_INC incidents"
[ "$N_OBS" -gt 20 ] && [ "$N_FINDINGS" -gt 10 ] || fail "the example gave $N_OBS observations, $N_FINDINGS findings"
# the agreement's zones and lines, straight from the stored agreement
N_ZONES=$(jq '.zones | length' examples/minsk-2015/agreement.json)
N_LINES=$(jq '.geography.lines | length' examples/minsk-2015/agreement.json)

serve_start "$D/data"
O="OAPIF:$U/ogc"
# anonymous: the description yes, the items no
[ "$(curl -s -o /dev/null -w "%{http_code}" "$U/ogc/collections")" = 200 ] || fail "anonymous /ogc/collections"
[ "$(curl -s -o /dev/null -w "%{http_code}" "$U/ogc/collections/observations/items")" = 401 ] || fail "anonymous items must be refused"

# ---- GDAL ----
ogrinfo -ro -so "$O" > "$D/layers" 2>&1 || fail "ogrinfo: $(cat "$D/layers")"
! grep -q ERROR "$D/layers" || fail "ogrinfo reported errors: $(cat "$D/layers")"
for layer in "1: observations (title: Observations) (Point)" "2: findings (title: Findings) (Point)" \
             "3: zones (title: Zones) (Polygon)" "4: lines (title: Lines) (Line String)" \
             "5: incidents (title: Incidents) (Point)"; do
  grep -qF "$layer" "$D/layers" || fail "ogrinfo lacks layer '$layer': $(cat "$D/layers")"
done
count() { ogrinfo -ro -so "$O" "$1" 2>&1 | sed -n 's/^Feature Count: //p'; }
eq "$(count observations)" "$N_OBS" "ogrinfo observations count"
eq "$(count findings)" "$N_FINDINGS" "ogrinfo findings count"
eq "$(count zones)" "$N_ZONES" "ogrinfo zones count"
eq "$(count lines)" "$N_LINES" "ogrinfo lines count"
eq "$(count incidents)" "$N_INC" "ogrinfo incidents count (truce incidents --format ndjson | wc -l)"
# an incident as GDAL reads it: its location (the JSON rounds it to 1e-6 degrees), its grade
read -r IID ILON ILAT IGRADE < <(jq -r '"\(.id) \(.location.lon) \(.location.lat) \(.grade)"' "$D/incidents.ndjson" | head -1)
ogrinfo -ro "$O" incidents -fid "$IID" > "$D/incident" 2>&1 || fail "ogrinfo incidents -fid: $(cat "$D/incident")"
grep -q "grade (String) = $IGRADE" "$D/incident" || fail "incident $IID: no grade $IGRADE in $(cat "$D/incident")"
read -r GLON GLAT < <(sed -n 's/^ *POINT (\([-0-9.]*\) \([-0-9.]*\))$/\1 \2/p' "$D/incident")
awk -v a="$GLON" -v b="$ILON" -v c="$GLAT" -v d="$ILAT" \
  'BEGIN { exit !((a - b) ^ 2 < 1e-12 && (c - d) ^ 2 < 1e-12) }' \
  || fail "incident $IID: GDAL reads POINT ($GLON $GLAT), the incident is at ($ILON $ILAT)"
# the located detection's point, as GDAL reads it, against the stored placement
read -r DID DLON DLAT < <(jq -r 'select(.kind == "detection") | "\(.id) \(.lon) \(.lat)"' "$D/obs.ndjson" | head -1)
[ -n "$DID" ] || fail "no detection in the example"
ogrinfo -ro "$O" observations -fid "$DID" > "$D/feature" 2>&1 || fail "ogrinfo -fid: $(cat "$D/feature")"
grep -q "kind (String) = detection" "$D/feature" || fail "feature $DID is not the detection: $(cat "$D/feature")"
read -r GLON GLAT < <(sed -n 's/^ *POINT (\([-0-9.]*\) \([-0-9.]*\))$/\1 \2/p' "$D/feature")
[ -n "$GLON" ] || fail "no POINT in: $(cat "$D/feature")"
awk -v a="$GLON" -v b="$DLON" -v c="$GLAT" -v d="$DLAT" \
  'BEGIN { exit !((a - b) ^ 2 < 1e-14 && (c - d) ^ 2 < 1e-14) }' \
  || fail "detection $DID: GDAL reads POINT ($GLON $GLAT), the store has ($DLON $DLAT)"
# a zone polygon: its first vertex is the agreement's
ZID=$(jq -r '.zones[0].id' examples/minsk-2015/agreement.json)
ogrinfo -ro "$O" zones -where "id = '$ZID'" > "$D/zone" 2>&1 || fail "ogrinfo zones: $(cat "$D/zone")"
grep -q "^  POLYGON ((" "$D/zone" || fail "zone $ZID has no polygon: $(cat "$D/zone")"

# ---- landing page, conformance, collections ----
req 200 "$U/ogc"
eq "$(jq -r '[.links[].rel] | sort | join(",")' <<<"$out")" "conformance,data,self,service-desc" "landing links"
req 200 "$U/ogc/conformance"
jq -e '.conformsTo | index("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core")' <<<"$out" >/dev/null \
  || fail "conformance lacks core: $out"
req 200 "$U/ogc/collections"
eq "$(jq -r '[.collections[].id] | join(",")' <<<"$out")" "observations,findings,zones,lines,incidents" "collections"
req 200 "$U/ogc/collections/findings"; eq "$(jq -r .itemType <<<"$out")" feature "itemType"
req 404 "$U/ogc/collections/nope"
req 404 "$U/ogc/collections/nope/items"
req 404 "$U/ogc/collections/observations/items/999999"
req 404 "$U/ogc/collections/zones/items/nope"
grep -qi '^content-type: application/problem+json' "$D/headers" || fail "404 is not problem+json"

# ---- items: content type, limit, one item ----
req 200 "$U/ogc/collections/observations/items?limit=3"
grep -qi '^content-type: application/geo+json' "$D/headers" || fail "items are not application/geo+json"
eq "$(jq '.features | length' <<<"$out")" 3 "limit=3 features"
eq "$(jq .numberReturned <<<"$out")" 3 "limit=3 numberReturned"
eq "$(jq -r '[.links[].rel] | join(",")' <<<"$out")" "self,next,collection" "items links"
req 200 "$U/ogc/collections/observations/items/$DID"
eq "$(jq -r '.properties.kind' <<<"$out")" detection "item $DID"
eq "$(jq -c '.geometry.coordinates' <<<"$out")" "[$DLON,$DLAT]" "item $DID coordinates"
req 400 "$U/ogc/collections/observations/items?limit=0"
req 400 "$U/ogc/collections/observations/items?limit=10001"
req 400 "$U/ogc/collections/observations/items?limit=ten"
req 400 "$U/ogc/collections/observations/items?colour=red"; grep -qF 'unknown query parameter \"colour\"' <<<"$out" || fail "unknown parameter: $out"
req 200 "$U/ogc/collections/observations/items?f=json&limit=1"
req 200 "$U/ogc/collections/incidents/items/$IID"
eq "$(jq -c '.properties.evidence' <<<"$out")" "$(jq -c "select(.id == $IID) | .evidence" "$D/incidents.ndjson")" "incident $IID evidence"
jq -e --argjson lon "$ILON" --argjson lat "$ILAT" \
  '(.geometry.coordinates[0] - $lon | fabs) < 1e-6 and (.geometry.coordinates[1] - $lat | fabs) < 1e-6' \
  <<<"$out" >/dev/null || fail "incident $IID coordinates: $(jq -c .geometry <<<"$out"), wanted [$ILON,$ILAT]"
req 400 "$U/ogc/collections/incidents/items?kind=fire"
req 400 "$U/ogc/collections/incidents/items?clause=minsk2-1"

# ---- paging: next links followed to the end give every feature exactly once ----
# follow URL: prints every feature id of every page, one per line
follow() {
  local url=$1 pages=0
  : > "$D/ids"
  while [ -n "$url" ]; do
    curl -sS --max-time 20 -H "$AUTH" -o "$D/page" "$url" || fail "curl $url"
    jq -r '.features[].id' "$D/page" >> "$D/ids"
    url=$(jq -r '[.links[] | select(.rel == "next") | .href][0] // empty' "$D/page")
    pages=$((pages + 1))
    [ "$pages" -lt 1000 ] || fail "more than 1000 pages from $1"
  done
  echo "$pages" > "$D/pages"
}
for coll in observations findings zones incidents; do
  follow "$U/ogc/collections/$coll/items?limit=2"
  case $coll in observations) want=$N_OBS ;; findings) want=$N_FINDINGS ;; zones) want=$N_ZONES ;; incidents) want=$N_INC ;; esac
  eq "$(wc -l < "$D/ids")" "$want" "$coll: features over all pages"
  eq "$(sort -u "$D/ids" | wc -l)" "$want" "$coll: distinct features over all pages"
  eq "$(cat "$D/pages")" $(( (want + 1) / 2 )) "$coll: pages of 2"
done
# the same set as the store's
jq -r .id "$D/obs.ndjson" | sort > "$D/store_ids"
follow "$U/ogc/collections/observations/items?limit=7"
sort "$D/ids" | cmp -s - "$D/store_ids" || fail "paged ids differ from the store's"

# ---- bbox: the features are exactly the observations placed inside ----
BBOX="37.5,47.5,38.5,48.5"
want=$(jq -r 'select(.lon >= 37.5 and .lon <= 38.5 and .lat >= 47.5 and .lat <= 48.5) | .id' "$D/obs.ndjson" | sort)
[ -n "$want" ] || fail "no observation in $BBOX: choose another box"
[ "$(wc -l <<<"$want")" -lt "$N_OBS" ] || fail "every observation is in $BBOX: choose another box"
follow "$U/ogc/collections/observations/items?limit=2&bbox=$BBOX"
eq "$(sort "$D/ids")" "$want" "bbox $BBOX"
wantf=$(jq -r --slurpfile o "$D/obs.ndjson" \
  '. as $f | ($o[] | select(.id == $f.observation)) as $x | select($x.lon >= 37.5 and $x.lon <= 38.5 and $x.lat >= 47.5 and $x.lat <= 48.5) | .id' \
  "$D/findings.ndjson" | sort)
follow "$U/ogc/collections/findings/items?limit=3&bbox=$BBOX"
eq "$(sort "$D/ids")" "$wantf" "findings bbox $BBOX"
wanti=$(jq -r 'select(.location.lon >= 37.5 and .location.lon <= 38.5 and .location.lat >= 47.5 and .location.lat <= 48.5) | .id' "$D/incidents.ndjson" | sort)
[ -n "$wanti" ] && [ "$(wc -l <<<"$wanti")" -lt "$N_INC" ] || fail "incidents in $BBOX: '$wanti' of $N_INC: choose another box"
follow "$U/ogc/collections/incidents/items?limit=2&bbox=$BBOX"
eq "$(sort "$D/ids")" "$wanti" "incidents bbox $BBOX"
req 200 "$U/ogc/collections/lines/items?bbox=0,0,1,1"; eq "$(jq .numberReturned <<<"$out")" 0 "lines far away"
req 200 "$U/ogc/collections/lines/items?bbox=37,47,39,49"; eq "$(jq .numberReturned <<<"$out")" "$N_LINES" "lines near"
req 400 "$U/ogc/collections/observations/items?bbox=1,2,3"
req 400 "$U/ogc/collections/observations/items?bbox=38,48,37,49"
req 400 "$U/ogc/collections/observations/items?bbox=37,48,38,95"

# ---- datetime (on the end time): instant, closed and open intervals ----
# dt_want FROM TO: ids whose time_end is in [FROM, TO] (empty: open)
dt_want() {
  jq -r --arg a "$1" --arg b "$2" \
    'select(($a == "" or .time_end >= $a) and ($b == "" or .time_end <= $b)) | .id' "$D/obs.ndjson" | sort
}
A=2016-10-10T00:00:00Z; B=2016-10-10T23:59:59Z
follow "$U/ogc/collections/observations/items?limit=4&datetime=$A/$B"
eq "$(sort "$D/ids")" "$(dt_want $A $B)" "datetime $A/$B"
[ -n "$(dt_want $A $B)" ] || fail "no observation on 2016-10-10"
follow "$U/ogc/collections/observations/items?limit=4&datetime=../$B"
eq "$(sort "$D/ids")" "$(dt_want "" $B)" "datetime ../$B"
follow "$U/ogc/collections/observations/items?limit=4&datetime=$A/.."
eq "$(sort "$D/ids")" "$(dt_want $A "")" "datetime $A/.."
wanti=$(jq -r --arg a "$A" --arg b "$B" 'select(.end >= $a and .end <= $b) | .id' "$D/incidents.ndjson" | sort)
follow "$U/ogc/collections/incidents/items?limit=2&datetime=$A/$B"
eq "$(sort "$D/ids")" "$wanti" "incidents datetime $A/$B"
I=$(jq -r "select(.id == $DID) | .time_end" "$D/obs.ndjson")
req 200 "$U/ogc/collections/observations/items?datetime=$I"
jq -e --argjson id "$DID" '[.features[].id] | index($id)' <<<"$out" >/dev/null || fail "instant $I lacks $DID"
req 400 "$U/ogc/collections/observations/items?datetime=yesterday"
req 400 "$U/ogc/collections/observations/items?datetime=$B/$A"
req 400 "$U/ogc/collections/observations/items?cursor=12"

# ---- the JSON listings: Link headers followed to the end, filters, one record ----
# jfollow URL: the ids of every page, following Link: <...>; rel="next"
jfollow() {
  local url=$1 pages=0
  : > "$D/ids"
  while [ -n "$url" ]; do
    curl -sS --max-time 20 -H "$AUTH" -D "$D/h" -o "$D/page" "$url" || fail "curl $url"
    jq -r '.[].id' "$D/page" >> "$D/ids"
    url=$(sed -n 's/^[Ll]ink: <\([^>]*\)>; rel="next".*/\1/p' "$D/h" | tr -d '\r')
    pages=$((pages + 1))
    [ "$pages" -lt 1000 ] || fail "more than 1000 pages from $1"
  done
}
jfollow "$U/api/v1/observations?limit=4"
sort "$D/ids" | cmp -s - "$D/store_ids" || fail "JSON pages differ from the store: $(sort "$D/ids" | tr '\n' ' ')"
jfollow "$U/api/v1/findings?limit=5"
eq "$(sort -u "$D/ids" | wc -l)" "$N_FINDINGS" "JSON findings pages"
jfollow "$U/api/v1/observations?limit=2&bbox=$BBOX"
eq "$(sort "$D/ids")" "$want" "JSON bbox"
jfollow "$U/api/v1/observations?limit=3&time=$A/$B&kind=fire"
eq "$(sort "$D/ids")" "$(jq -r --arg a $A --arg b $B 'select(.kind == "fire" and .time_end >= $a and .time_end <= $b) | .id' "$D/obs.ndjson" | sort)" "JSON time+kind"
req 200 "$U/api/v1/observations/$DID"; eq "$(jq -r .kind <<<"$out")" detection "GET observation $DID"
FID=$(head -1 "$D/findings.ndjson" | jq .id)
req 200 "$U/api/v1/findings/$FID"; eq "$(jq .id <<<"$out")" "$FID" "GET finding $FID"
req 404 "$U/api/v1/observations/999999"
req 400 "$U/api/v1/observations/abc"
req 400 "$U/api/v1/observations?bbox=a,b,c,d"; grep -qF 'query parameter bbox' <<<"$out" || fail "bbox 400: $out"
req 400 "$U/api/v1/observations?cursor=x"; grep -qF 'query parameter cursor' <<<"$out" || fail "cursor 400: $out"

serve_stop
echo ok
