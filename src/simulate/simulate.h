/* simulate.h: ground-truth scenarios to measure fusion, location and attribution (issue 4, item
 * 5), and the scorer that compares an incident list with the truth.
 *
 * sim_run() places firing positions on both sides of an agreement's reference line, impacts on
 * the other side, and SMM-like observers (patrols and observation posts at gazetteer places,
 * cameras, acoustic sensors, UAV and satellite imagery) who hear, see and report each event with
 * documented noise (docs/simulator.md). It writes the observations as NDJSON that `truce ingest`
 * accepts and a truth file naming, for every observation's client id, the true event it came
 * from. A seed reproduces a scenario exactly (own xoshiro256** generator).
 *
 * sim_truth_parse() reads a truth file back; sim_eval_* score incidents in the NDJSON of
 * the incident objects of `truce incidents --format ndjson` (docs/fusion.md, "Output: the incident object") against it.
 *
 * This module does not open the store and does not know the fusion code: it only shares the
 * observation format and the incident contract with them. */
#ifndef TRUCE_SIMULATE_H
#define TRUCE_SIMULATE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agreement/agreement.h"
#include "util/util.h"

/* ---- named limits (command-line flags and files crossing a trust boundary) ---- */
#define SIM_MAX_DAYS 366                /* --days */
#define SIM_MAX_EVENTS_PER_DAY 100000   /* --events-per-day */
#define SIM_MAX_TOTAL_EVENTS 2000000LL  /* days x events per day */
#define SIM_TRUTH_MAX_BYTES (512u << 20) /* one truth file */
#define SIM_MAX_SEED INT64_MAX           /* --seed (written as a JSON integer) */
#define SIM_TRUTH_MAX_EVENTS 10000000   /* events in one truth file */
#define SIM_TRUTH_MAX_REPORTS 100000000 /* client ids in one truth file */
#define SIM_TRUTH_MAX_OBSERVERS 100000  /* observers in one truth file */
#define SIM_INCIDENT_LINE_BYTES (64u << 20) /* one incident NDJSON line */
#define SIM_MAX_INCIDENTS 10000000      /* incidents scored in one run */
#define SIM_MAX_EVIDENCE 1000000        /* evidence client ids of one incident */
#define SIM_ID_BYTES 128                /* client ids and observer ids, with the NUL */

/* ---- deterministic generator (not for cryptography) ---- */
struct sim_rng {
    uint64_t s[4];
};
/* Seeds the xoshiro256** state from seed through splitmix64 (any seed, 0 included). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double sim_rng_uniform(struct sim_rng *r);
/* Uniform in [lo, hi). */
double sim_rng_range(struct sim_rng *r, double lo, double hi);
/* Standard normal (Box-Muller, one value per call). */
double sim_rng_normal(struct sim_rng *r);
/* Poisson-distributed count with mean lambda (0 <= lambda <= 30; inversion). */
int sim_rng_poisson(struct sim_rng *r, double lambda);

/* ---- noise: every level the scenario uses; docs/simulator.md explains each ---- */
struct sim_noise {
    double patrol_bearing_sd_deg;   /* perception error before 16-point quantisation */
    double patrol_two_words_deg;    /* a second compass word when this close to a boundary */
    double camera_bearing_sd_deg;   /* numeric bearings of cameras */
    double camera_tolerance_deg;    /* their stated bearing_tolerance_deg */
    double sensor_bearing_sd_deg;   /* numeric bearings of acoustic sensors */
    double sensor_tolerance_deg;
    double distance_log_sd;         /* log-normal spread of a patrol's perceived distance */
    double sensor_distance_log_sd;  /* ... of an acoustic sensor's (which reports +-10 %) */
    double distance_unknown_p;      /* a patrol gives no distance */
    double count_log_sd;            /* log-normal spread of a reported count */
    double count_about_p;           /* "about N" when the count is over 10 */
    double clock_skew_sd_min;       /* per observer, clamped to +-3 sd */
    double time_jitter_sd_min;      /* per report */
    double explosion_near_km, explosion_far_km, explosion_near_p; /* detection curve */
    double smallarms_near_km, smallarms_far_km, smallarms_near_p;
    double outgoing_near_km, outgoing_far_km, outgoing_near_p;
    double flight_direction_p;      /* a flight direction given when one is possible */
    double flight_direction_km;     /* ... within this distance of the origin or the impact */
    double flight_direction_sd_deg;
    double patrol_available_p;      /* a day patrol goes out on a given day */
    double uav_p, uav_accuracy_m[3];   /* a UAV finds the craters next morning */
    double satellite_p, satellite_accuracy_m;
    double false_reports_per_day;   /* per ground observer on duty: spurious reports */
};
/* The documented default levels (docs/simulator.md, "Noise"). */
void sim_noise_default(struct sim_noise *n);
/* Multiplies every error spread (bearing, distance, count, clock, flight direction) and the rate
 * of spurious reports by f (0 removes them; stated tolerances and detection curves stay). */
#define SIM_MAX_NOISE_SCALE 4.0 /* --noise-scale */
void sim_noise_scale(struct sim_noise *n, double f);

struct sim_params {
    uint64_t seed;
    int days;           /* 1 .. SIM_MAX_DAYS */
    int events_per_day; /* 1 .. SIM_MAX_EVENTS_PER_DAY */
    int64_t start_ms;   /* local midnight of the first day; TIME_NONE: 2016-10-01 in the zone */
    struct sim_noise noise;
};

struct sim_stats {
    long long events;          /* true events */
    long long observations;    /* records written */
    long long false_reports;   /* records with no true event */
    long long reported_events; /* events reported by at least one observer */
    long long multi_events;    /* events reported by two or more observers */
    size_t observers;
};

/* Called after each simulated day. */
typedef void (*sim_progress_fn)(void *ctx, int day, int days, long long observations);

/* Runs the scenario of p on agreement a: writes observation records (one GeoJSON Feature per
 * line, in time order within each day) to obs_out and the truth document to truth_out. The
 * agreement needs a reference line with a party on each side and gazetteer places near it.
 * Returns 0, ERR_INVAL (parameters, agreement unfit; e says why), ERR_IO. */
int sim_run(const struct agreement *a, const struct sim_params *p, FILE *obs_out,
            FILE *truth_out, sim_progress_fn progress, void *ctx, struct sim_stats *stats,
            struct errbuf *e) WUR;

/* ---- the truth file ---- */
struct sim_truth_event {
    long long id;
    int64_t start_ms, end_ms;
    struct geo_point location; /* what a fused incident should locate (docs/simulator.md) */
    struct geo_point impact, origin;
    int party;         /* index into sim_truth.parties */
    char type[32];     /* event type of the true event ("impact", "burst") */
    long long count;   /* true number of rounds or bursts */
    int n_observers;   /* distinct observers that reported it */
};

struct sim_truth_report {
    char *client_id; /* owned by the truth */
    long long event; /* index into events, -1 for a false report */
    int observer;    /* index into observers */
};

struct sim_truth {
    char parties[8][32];
    int n_parties;
    char (*observers)[SIM_ID_BYTES];
    int *observer_means; /* per observer: index into SIM_MEANS_NAMES, SIM_MEANS_OTHER if unknown */
    size_t n_observers;
    struct sim_truth_event *events;
    size_t n_events;
    struct sim_truth_report *reports; /* sorted by client_id */
    size_t n_reports;
    size_t cap_events, cap_reports; /* allocated lengths (the reader's) */
};

/* Parses a truth document (as sim_run writes it) of len bytes into *out (free with
 * sim_truth_free). Errors name the JSON path and the reason. */
int sim_truth_parse(const char *text, size_t len, struct sim_truth **out, struct errbuf *e) WUR;
void sim_truth_free(struct sim_truth *t);
/* The report of a client id, or NULL. */
const struct sim_truth_report *sim_truth_find(const struct sim_truth *t, const char *client_id);

/* The means of observers the scorer breaks duplicates and false incidents down by; an incident
 * whose evidence mixes means counts as SIM_MEANS_MIXED. */
enum { SIM_MEANS_PATROL, SIM_MEANS_CAMERA, SIM_MEANS_ACOUSTIC, SIM_MEANS_UAV, SIM_MEANS_SATELLITE,
       SIM_MEANS_OTHER, SIM_MEANS_MIXED, SIM_N_MEANS };
extern const char *const SIM_MEANS_NAMES[SIM_N_MEANS];

/* ---- scoring ---- */
enum sim_grade { SIM_GRADE_CONFIRMED, SIM_GRADE_PROBABLE, SIM_GRADE_POSSIBLE,
                 SIM_GRADE_UNDETERMINED, SIM_N_GRADES };
extern const char *const SIM_GRADE_NAMES[SIM_N_GRADES];

/* Targets of issue 4 (docs/simulator.md, "Targets"). */
#define SIM_TARGET_PRECISION_MULTI 0.95
#define SIM_TARGET_RECALL_MULTI 0.95
#define SIM_TARGET_WRONG_PROBABLE_SHARE 0.01
#define SIM_TARGET_TRIANGULATED_MEDIAN_M 1000.0

struct sim_grade_score {
    long long incidents; /* matched incidents with this grade */
    long long correct;   /* ... attributed to the true firing party */
    long long wrong;     /* ... attributed to another party */
    long long undetermined; /* ... with party "undetermined" */
};

struct sim_scores {
    long long incidents, matched_incidents, duplicate_incidents, false_incidents;
    long long true_events, reported_events, matched_events;
    long long multi_incidents, multi_matched_incidents, multi_events, multi_matched_events;
    long long unknown_evidence; /* evidence client ids the truth does not know */
    long long duplicate_by_means[SIM_N_MEANS], false_by_means[SIM_N_MEANS]; /* diagnostics */
    double precision, recall, precision_multi, recall_multi; /* NAN when undefined */
    long long located_all, located_triangulated;
    double loc_median_all_m, loc_p95_all_m, loc_median_tri_m, loc_p95_tri_m; /* NAN: none */
    long long located_origin; /* matched incidents with an origin */
    double origin_median_m, origin_p95_m; /* origin against the true firing position */
    /* Calibration: how often the truth lies inside the stated 95 % ellipse (location.semi_major_m,
     * semi_minor_m, azimuth_deg) and inside the origin's radius_m. */
    long long with_ellipse, inside_ellipse, with_origin_radius, inside_origin_radius;
    struct sim_grade_score grade[SIM_N_GRADES];
    double wrong_share_probable_or_better; /* NAN when no incident is graded that high */
    double undetermined_share;             /* of matched incidents, party undetermined */
    bool met_precision, met_recall, met_attribution, met_location;
};

struct sim_eval;
/* A scorer over truth t (borrowed; must outlive the scorer). */
int sim_eval_new(const struct sim_truth *t, struct sim_eval **out) WUR;
/* Adds one incident given as one NDJSON line of the contract. Errors say which field is wrong;
 * the incident is then not counted. */
int sim_eval_add(struct sim_eval *s, const char *line, size_t len, struct errbuf *e) WUR;
/* Computes the scores of the incidents added so far (see docs/simulator.md, "Matching"). */
int sim_eval_finish(struct sim_eval *s, struct sim_scores *out) WUR;
void sim_eval_free(struct sim_eval *s);

/* The scores as a JSON object (compact, one line) appended to b. */
int sim_scores_json(const struct sim_scores *sc, struct buf *b) WUR;
/* The scores as text for people, appended to b. */
int sim_scores_text(const struct sim_scores *sc, struct buf *b) WUR;

/* ---- the command line (src/cli/main.c dispatches here) ---- */
/* `truce simulate ...` and `truce evaluate ...` with their arguments after the command name.
 * Return the process exit status (0, 1 target missed or input rejected, 2 usage, 3 failure). */
int sim_cmd_simulate(int argc, char **argv);
int sim_cmd_evaluate(int argc, char **argv);

#endif
