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

/* REPORT_HTML is one self-contained page (inline CSS and SVG: a map drawn by truce, trend charts,
 * the annex of observations); REPORT_HTML_PUBLIC the same without the annex (no observation
 * records); REPORT_PDF the HTML printed by headless Chromium (report_pdf.c). */
enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_HTML, REPORT_HTML_PUBLIC, REPORT_PDF };

#define REPORT_ANNEX_MAX 5000       /* observations listed in the HTML annex (the rest counted) */
#define REPORT_MAP_EVENTS_MAX 20000 /* observations drawn on the report's map */
#define REPORT_PDF_TIMEOUT_S 120    /* how long Chromium may take to print a report */
#define REPORT_PDF_MAX_BYTES (64u << 20) /* the largest PDF read back from Chromium */

/* Writes the report for local date y-m-d into out, judged against agreement a (the version in
 * force at the end of the period). */
int report_daily(struct store *s, const struct agreement *a, int y, int m, int d,
                 enum report_format fmt, struct buf *out, struct errbuf *e) WUR;

/* Prints the HTML page html (len bytes) to PDF with headless Chromium ($TRUCE_CHROMIUM, else
 * chromium, chromium-browser or google-chrome on PATH) into out. ERR_NOTFOUND with a message
 * saying what to install when no Chromium is found; ERR_IO when it fails or times out. */
int report_pdf_from_html(const char *html, size_t len, struct buf *out, struct errbuf *e) WUR;

#endif
