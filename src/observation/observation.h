/* observation.h: monitors' and sensors' reports as truce reads them (capability M2): the record
 * kinds, the documented JSON/GeoJSON schema (docs/observation-format.md), NDJSON and CSV, and
 * the validated, normalised form (struct obs) that placement, rules and the store consume.
 *
 * Parsing never stops at the first bad record: each record is read on its own and gets either a
 * struct obs or an error naming its index, the field and the reason. A struct obs owns no heap
 * memory; its strings are fixed-size fields and `raw` points into the caller's input. */
#ifndef TRUCE_OBSERVATION_H
#define TRUCE_OBSERVATION_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agreement/agreement.h"
#include "geo/geo.h"
#include "util/util.h"

enum obs_kind {
    OBS_FIRE,       /* fire heard or seen from a position */
    OBS_DETECTION,  /* a located detection of fire by a sensor (point with accuracy, polygon) */
    OBS_SIGHTING,   /* weapons seen: count, class, model, calibre, whose */
    OBS_PRESENCE,   /* personnel or vehicles present */
    OBS_UAV_FLIGHT, /* a UAV seen or tracked */
    OBS_ALLEGATION, /* a party's allegation of a violation */
    OBS_N_KINDS
};
extern const char *const OBS_KIND_NAMES[OBS_N_KINDS];

enum obs_qualifier { OBS_Q_EXACT, OBS_Q_ABOUT, OBS_Q_AT_LEAST, OBS_Q_UNCOUNTABLE };
extern const char *const OBS_QUALIFIER_NAMES[4];

enum obs_means { OBS_M_PATROL, OBS_M_CAMERA, OBS_M_UAV, OBS_M_ACOUSTIC, OBS_M_RADAR,
                 OBS_M_SATELLITE, OBS_M_PARTY, OBS_M_OTHER, OBS_N_MEANS };
extern const char *const OBS_MEANS_NAMES[OBS_N_MEANS];

struct obs_weapon {
    char category[32]; /* "artillery", "mlrs", "tank", "mortar", "small_arms", ... */
    char model[64];    /* "BM-21 Grad" */
    double calibre_mm; /* NAN when unknown */
};

struct obs_event {
    int type;       /* index into AGR_EVENT_TYPES */
    long long count; /* -1 when uncountable */
    enum obs_qualifier qualifier;
    struct obs_weapon weapon;
};

struct obs {
    char client_id[128]; /* empty when the sender gave none */
    enum obs_kind kind;
    int64_t t_start_ms, t_end_ms;
    enum obs_means means;
    char report_ref[64];

    /* Where: a located geometry (detections, sightings, presence), or an observer position with
     * bearings and a distance range (fire, and sightings placed by bearing). */
    bool has_location;
    struct geo_point location;
    double accuracy_m; /* radius of the location's uncertainty; 0 exact */
    bool location_is_polygon;
    struct geo_point polygon[LIMIT_OBS_POLYGON_VERTICES];
    size_t n_polygon;

    bool has_observer;
    struct geo_point observer;
    char place[128]; /* the named place as written, when the position came from the gazetteer */

    size_t n_bearings;
    double bearing_deg[GEO_SECTOR_MAX_BEARINGS];
    double bearing_half_width_deg[GEO_SECTOR_MAX_BEARINGS];
    double dist_min_m, dist_max_m; /* NAN when the distance is unknown */

    /* What: fire events (fire, detection, allegation) */
    size_t n_events;
    struct obs_event events[LIMIT_EVENTS_PER_OBS];
    char flight_from[4], flight_to[4]; /* compass words of the projectiles' flight, or "" */

    /* Whose and how many: sightings, presence, UAV flights, allegations */
    char party[32];   /* whose (sighting, presence, uav) or the alleging party; "" unknown */
    char against[32]; /* allegation: the accused party */
    long long count;  /* sightings: number of weapons; presence: personnel; -1 unknown */
    enum obs_qualifier count_qualifier;
    struct obs_weapon weapon; /* sightings */
    bool armed;               /* presence: armed personnel or military vehicles */

    char remarks[LIMIT_REMARKS_BYTES];
    const char *raw; /* the record as received: the NDJSON line, or for an element of a JSON
                      * document or a CSV row its JSON text as framed by the reader (not owned) */
    size_t raw_len;
};

/* Input formats */
enum obs_format { OBS_FMT_AUTO, OBS_FMT_JSON, OBS_FMT_NDJSON, OBS_FMT_CSV };
/* Guesses the format from the first non-blank bytes: an array or a multi-line object -> JSON,
 * several lines each starting '{' -> NDJSON, else CSV. */
enum obs_format obs_detect_format(const char *data, size_t len);
int obs_format_parse(const char *name, enum obs_format *out) WUR;

/* Validates one record given as JSON text (an observation Feature) against the agreement (for
 * place names and party ids) and fills *o. `default_zone` is used for local times without an
 * offset and without a "tz" field (NULL: such times are rejected). On failure e holds
 * "field: reason" (the caller adds the record index). */
int obs_parse_json(const char *text, size_t len, const struct agreement *a,
                   const char *default_zone, struct obs *o, struct errbuf *e) WUR;

/* A record source that yields one record at a time from a stream (NDJSON lines, the elements
 * of a JSON array, or CSV rows converted to the JSON schema) so a file of any length is read in
 * bounded memory. */
struct obs_reader;
/* Opens a reader on f (not closed by the reader). `name` is used in errors. */
int obs_reader_open(FILE *f, enum obs_format fmt, const char *name, struct obs_reader **out,
                    struct errbuf *e) WUR;
/* Reads the next record. Returns 1 with *text and *len set (valid until the next call), 0 at the
 * end, or a negative code with e set when the record could not be framed (e.g. a CSV row with
 * the wrong number of columns, an oversized line); the reader then skips to the next record
 * when it can, and *fatal says when it cannot (a JSON array broken mid-way). */
int obs_reader_next(struct obs_reader *r, const char **text, size_t *len, bool *fatal,
                    struct errbuf *e);
/* Bytes consumed so far (for progress). */
uint64_t obs_reader_offset(const struct obs_reader *r);
void obs_reader_free(struct obs_reader *r);

/* Writes the parsed record's normalised JSON into b (diagnostics and the fuzz harnesses). */
int obs_to_json(const struct obs *o, struct buf *b) WUR;

#endif
