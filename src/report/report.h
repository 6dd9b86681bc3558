/* report.h: the daily report (capability M9, text and JSON) in the style of the OSCE SMM:
 * the 24 hours ending at the agreement's cut-off in its time zone; per region "N ceasefire
 * violations, including M explosions" against the previous period; the breakdown by event type
 * whose parts add up; events inside or near each disengagement area; weapons in violation of
 * withdrawal lines by side; findings by clause. "About 200" counts 200 and "at least 59" counts
 * 59; uncountable events are listed apart. */
#ifndef TRUCE_REPORT_H
#define TRUCE_REPORT_H
#include "agreement/agreement.h"
#include "store/store.h"
#include "util/util.h"

enum report_format { REPORT_TEXT, REPORT_JSON };

/* Writes the report for local date y-m-d into out, judged against agreement a (the version in
 * force at the end of the period). */
int report_daily(struct store *s, const struct agreement *a, int y, int m, int d,
                 enum report_format fmt, struct buf *out, struct errbuf *e) WUR;

#endif
