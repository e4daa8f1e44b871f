/* Printing evaluation results: an aligned text report (the numbers
 * sklearn's classification_report gives), JSON, and a self-contained HTML
 * page with SVG confusion matrices and training curves.
 *
 * Every report says where its numbers come from (pipeline/train/provenance.h):
 * the text report's first line names the corpus ("synthetic corpus ...,
 * not MELD" or "MELD corpus ..."), the JSON has a "provenance" object, the
 * HTML page a provenance table (and a banner for the synthetic corpus). */
#ifndef MELD_CLI_REPORT_H
#define MELD_CLI_REPORT_H

#include <stdio.h>

#include "pipeline/train/train.h"

/* Where a report's numbers come from. */
typedef struct {
    const Provenance *data;    /* the corpus and cache measured on, this command and code */
    const Provenance *model;   /* the checkpoint's own (how it was trained); may equal data */
    const char *checkpoint;    /* its path */
    int epoch;                 /* the epoch it was saved at */
} ReportSource;

/* The three provenance lines that head a text report. */
void report_provenance_text(FILE *out, const ReportSource *src);
void report_eval_text(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b);
/* One JSON object on one line: "provenance", "model", "split", the metrics.
 * MELD_OK, or MELD_ERR with the library error set (it cannot be built, or
 * a write error). */
int report_eval_json(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b,
                     const ReportSource *src);
/* log_jsonl may be NULL (no curves). Returns 0, or 1 after printing an error. */
int report_eval_html(const char *path, const char *split, int task, const EvalResult *r, const Baselines *b,
                     const ReportSource *src, const char *log_jsonl);

#endif
