/* fusion_json.c: an incident as one NDJSON object (the contract with the simulator,
 * docs/fusion.md) and as lines for people. */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion_int.h"

static int json_num(struct buf *b, const char *key, double v, const char *fmt)
{
    if (!isfinite(v))
        return buf_printf(b, ",\"%s\":null", key);
    int rc = buf_printf(b, ",\"%s\":", key);
    return rc ? rc : buf_printf(b, fmt, v);
}

int fusion_incident_json(const struct fusion_incident *inc, struct buf *b)
{
    char t0[40], t1[40];
    time_format_utc(inc->t_start_ms, t0, sizeof t0);
    time_format_utc(inc->t_end_ms, t1, sizeof t1);
    int rc = buf_printf(b, "{\"id\":%lld,\"start\":\"%s\",\"end\":\"%s\",\"events\":{",
                        (long long)inc->id, t0, t1);
    /* counted types as numbers; types no report could count are listed apart */
    bool first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (inc->counts[t] <= 0)
            continue;
        rc = buf_printf(b, "%s\"%s\":%lld", first ? "" : ",", AGR_EVENT_TYPES[t], inc->counts[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, "},\"uncountable\":[");
    first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (inc->counts[t] >= 0)
            continue;
        rc = buf_printf(b, "%s\"%s\"", first ? "" : ",", AGR_EVENT_TYPES[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, "],\"count\":%lld,\"location\":{\"lon\":%.6f,\"lat\":%.6f,"
                           "\"method\":\"%s\"",
                        inc->count, inc->location.lon_deg, inc->location.lat_deg,
                        FUSION_LOC_NAMES[inc->loc_method]);
    if (!rc)
        rc = json_num(b, "semi_major_m", inc->semi_major_m, "%.1f");
    if (!rc)
        rc = json_num(b, "semi_minor_m", inc->semi_minor_m, "%.1f");
    if (!rc)
        rc = json_num(b, "azimuth_deg", inc->azimuth_deg, "%.1f");
    if (!rc && inc->origin_method != FUSION_ORIGIN_NONE && inc->origin_method !=
                                                               FUSION_ORIGIN_IMPACT_SIDE) {
        rc = buf_printf(b, "},\"origin\":{\"lon\":%.6f,\"lat\":%.6f", inc->origin.lon_deg,
                        inc->origin.lat_deg);
        if (!rc)
            rc = json_num(b, "radius_m", inc->origin_radius_m, "%.1f");
        if (!rc)
            rc = buf_printf(b, ",\"method\":\"%s\"}", FUSION_ORIGIN_NAMES[inc->origin_method]);
    } else if (!rc) {
        rc = buf_printf(b, "},\"origin\":null");
    }
    if (!rc)
        rc = buf_printf(b, ",\"attribution_method\":\"%s\",\"party\":",
                        FUSION_ORIGIN_NAMES[inc->origin_method]);
    if (!rc)
        rc = buf_json_str(b, inc->party);
    if (!rc)
        rc = buf_printf(b, ",\"grade\":\"%s\",\"reasons\":[", FUSION_GRADE_NAMES[inc->grade]);
    for (size_t i = 0; i < inc->n_reasons && !rc; i++) {
        if (i)
            rc = buf_printf(b, ",");
        if (!rc)
            rc = buf_json_str(b, inc->reasons[i]);
    }
    if (!rc)
        rc = buf_printf(b, "],\"agreement_version\":%d,\"findings\":[", inc->agreement_version);
    for (size_t i = 0; i < inc->n_findings && !rc; i++) {
        const struct fusion_finding *fd = &inc->findings[i];
        rc = buf_printf(b, "%s{\"clause\":", i ? "," : "");
        rc = rc || buf_json_str(b, fd->clause);
        rc = rc || buf_printf(b, ",\"result\":\"violation\",\"party\":");
        rc = rc || buf_json_str(b, fd->party);
        rc = rc || buf_printf(b, ",\"severity\":");
        rc = rc || buf_json_str(b, fd->severity ? fd->severity : "");
        rc = rc || buf_printf(b, ",\"reasons\":");
        rc = rc || buf_json_str(b, fd->reasons);
        rc = rc || buf_printf(b, "}");
    }
    if (!rc)
        rc = buf_printf(b, "],\"evidence\":[");
    for (size_t i = 0; i < inc->n_evidence && !rc; i++) {
        if (i)
            rc = buf_printf(b, ",");
        if (!rc)
            rc = buf_json_str(b, inc->evidence_client_ids[i]);
    }
    if (!rc)
        rc = buf_printf(b, "]}");
    return rc;
}

int fusion_incident_text(const struct fusion_incident *inc, const struct agreement *a,
                         struct buf *b)
{
    char t0[40], t1[40], where[192];
    time_format_local(inc->t_start_ms, a->time_zone, t0, sizeof t0);
    time_format_local(inc->t_end_ms, a->time_zone, t1, sizeof t1);
    fusion_phrase_at(a, inc->location, where, sizeof where);
    int rc = buf_printf(b, "incident %lld  %s .. %s\n  ", (long long)inc->id, t0, t1);
    bool first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (!inc->counts[t])
            continue;
        if (inc->counts[t] < 0)
            rc = buf_printf(b, "%suncountable %s", first ? "" : ", ", AGR_EVENT_NAMES_MANY[t]);
        else
            rc = buf_printf(b, "%s%lld %s", first ? "" : ", ", inc->counts[t],
                            inc->counts[t] == 1 ? AGR_EVENT_NAMES_ONE[t] : AGR_EVENT_NAMES_MANY[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, " (reconciled from %zu report%s)\n  location: %s (%s, 95%% ellipse "
                           "%.1f x %.1f km, major axis %.0f deg)\n  fired by: %s (%s)\n",
                        inc->n_evidence, inc->n_evidence == 1 ? "" : "s", where,
                        FUSION_LOC_NAMES[inc->loc_method], inc->semi_major_m / 1000,
                        inc->semi_minor_m / 1000, inc->azimuth_deg, inc->party,
                        FUSION_GRADE_NAMES[inc->grade]);
    for (size_t i = 0; i < inc->n_reasons && !rc; i++)
        rc = buf_printf(b, "    - %s\n", inc->reasons[i]);
    for (size_t i = 0; i < inc->n_findings && !rc; i++)
        rc = buf_printf(b, "  finding: clause %s, violation, %s\n    %s\n", inc->findings[i].clause,
                        inc->findings[i].party, inc->findings[i].reasons);
    if (!rc)
        rc = buf_printf(b, "  evidence:");
    for (size_t i = 0; i < inc->n_evidence && !rc; i++)
        rc = buf_printf(b, " %s", inc->evidence_client_ids[i][0] ? inc->evidence_client_ids[i]
                                                                 : "(no client id)");
    if (!rc)
        rc = buf_printf(b, "\n");
    return rc;
}
