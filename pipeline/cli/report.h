/* Printing evaluation results: an aligned text report (the numbers
 * sklearn's classification_report gives), JSON, and a self-contained HTML
 * page with SVG confusion matrices and training curves. */
#ifndef MELD_CLI_REPORT_H
#define MELD_CLI_REPORT_H

#include <stdio.h>

#include "pipeline/train/train.h"

void report_eval_text(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b);
/* MELD_OK, or MELD_ERR with the library error set (a write error). */
int report_eval_json(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b);
/* log_jsonl may be NULL (no curves). Returns 0, or 1 after printing an error. */
int report_eval_html(const char *path, const char *title, int task, const EvalResult *r, const Baselines *b,
                     const char *log_jsonl);

#endif
