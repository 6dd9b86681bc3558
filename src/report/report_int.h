/* report_int.h: internals shared by the report module's files: the counts of one report
 * (struct report_data, made by report_gather) that report.c writes as text and JSON and
 * report_html.c as HTML. */
#ifndef TRUCE_REPORT_INT_H
#define TRUCE_REPORT_INT_H
#include "report/report.h"

#define MAX_REGIONS (LIMIT_AGREEMENT_REGIONS + 1) /* regions plus "outside every region" */

struct tally {
    long long by_type[16];   /* counted events per AGR_EVENT_TYPES index */
    long long uncountable[16]; /* number of reports of uncountable events per type */
    long long total;         /* all counted events (ceasefire violations) */
    long long explosions;
    bool has_about;          /* some counts were "about" or "at least" */
};

struct uncountable_item {
    int64_t obs_id;
    char region[64], type[40], phrase[192];
};

struct collect {
    const struct agreement *a;
    struct tally *t; /* MAX_REGIONS */
    struct uncountable_item *unc;
    size_t n_unc, cap_unc;
};

struct zone_item {
    char zone[64], relation[16], kind[16], phrase[192];
    double distance_m;
    long long n_events;
};
struct zones_collect {
    struct zone_item *v;
    size_t n, cap;
};

struct finding_item {
    int64_t id, obs_id;
    char clause[64], kind[32], result[16], party[32], reasons[768], status[16];
};
struct findings_collect {
    struct finding_item *v;
    size_t n, cap;
};

/* Escalation alerts whose window ended at this report's cut-off (or inside its period). */
struct alert_item {
    int64_t id;
    long long n;
    char threshold[72], level[24], region[64], party[32], text[256];
};
struct alerts_collect {
    struct alert_item *v;
    size_t n;
};

/* De-duplicated counts: the incidents fused from the reports (src/fusion), per region, and who
 * fired them by grade. */
struct incident_tally {
    long long incidents;
    struct tally t;
};
#define REPORT_GRADES 4 /* confirmed, probable, possible, undetermined */
struct incidents_collect {
    const struct agreement *a;
    struct incident_tally *regions; /* MAX_REGIONS */
    long long *by_party;            /* (n_parties + 1) x REPORT_GRADES; last row: other ids */
    long long *findings_by_party;   /* n_parties + 1: incident fire findings naming each party */
    long long total, findings;
};

struct report_data {
    int64_t from, to, prev_from;
    struct tally cur[MAX_REGIONS], prev[MAX_REGIONS];
    struct incident_tally inc[MAX_REGIONS];
    struct incidents_collect ic;
    struct collect cc;
    struct zones_collect zones;
    struct findings_collect findings;
    struct alerts_collect alerts;
};

int report_gather(struct store *s, const struct agreement *a, int y, int m, int d,
                  struct report_data *r, struct errbuf *e);
void report_release(struct report_data *r);
/* Regions to report: every agreement region, plus "outside" (slot MAX_REGIONS - 1). */
size_t report_n_slots(const struct agreement *a);
const char *report_slot_name(const struct agreement *a, size_t i);
const char *report_party_name(const struct agreement *a, const char *id);
long long report_bursts_and_shots(const struct tally *t);

/* report_html.c: the page for fmt HTML (public: without the annex of observations). */
int report_html(struct store *s, const struct agreement *a, struct report_data *r, int y, int m,
                int d, bool public_view, struct buf *out, struct errbuf *e);

#endif
