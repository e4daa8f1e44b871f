/* Text and JSON reports (report.h); the HTML page is in report_html.c. */
#include "pipeline/cli/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/dataset.h"
#include "pipeline/train/json_out.h"
#include "tensor/error.h"

typedef const char *(*NameFn)(int);

/* ---- provenance --------------------------------------------------------------- */

static void corpus_phrase(FILE *out, const Provenance *p)
{
    if (provenance_synthetic(p)) {
        fprintf(out, "synthetic corpus %s (", p->data ? p->data : "?");
        if (p->seed >= 0) fprintf(out, "seed %lld, ", p->seed);
        fprintf(out, "generated, not MELD)");
    } else if (p->corpus) {
        fprintf(out, "%s corpus %s", p->corpus, p->data ? p->data : "?");
    } else {
        fprintf(out, "corpus not recorded");
    }
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

void report_provenance_text(FILE *out, const ReportSource *src)
{
    const Provenance *d = src->data, *m = src->model;
    corpus_phrase(out, d);
    if (d->cache) fprintf(out, "; cache %s", d->cache);
    if (d->cache_hash) fprintf(out, " (hash %016llx)", (unsigned long long)d->cache_hash);
    fputc('\n', out);
    fprintf(out, "model %s, checkpoint %s (epoch %d)", m->model ? m->model : "?", src->checkpoint, src->epoch);
    if (m != d && (!same_text(m->data, d->data) || !same_text(m->corpus, d->corpus))) {
        fprintf(out, ", trained on ");
        corpus_phrase(out, m);
    }
    fprintf(out, "; trained by: %s\n", m->command ? m->command : "not recorded");
    fprintf(out, "code: %s", d->version ? d->version : "?");
    if (m != d && m->version && !same_text(m->version, d->version)) fprintf(out, " (trained with %s)", m->version);
    fputc('\n', out);
}

/* ---- text ------------------------------------------------------------------------ */

static void task_text(FILE *out, const char *title, const Metrics *m, NameFn name, const Metrics *maj, const Metrics *rnd)
{
    fprintf(out, "%s: accuracy %.4f  weighted F1 %.4f  macro F1 %.4f\n", title, m->accuracy, m->weighted_f1, m->macro_f1);
    if (maj && rnd)
        fprintf(out, "  baselines: majority class accuracy %.4f weighted F1 %.4f macro F1 %.4f; "
                     "stratified random accuracy %.4f weighted F1 %.4f macro F1 %.4f\n",
                maj->accuracy, maj->weighted_f1, maj->macro_f1, rnd->accuracy, rnd->weighted_f1, rnd->macro_f1);
    fprintf(out, "  %-10s %9s %9s %9s %9s\n", "", "precision", "recall", "f1-score", "support");
    for (int c = 0; c < m->n_classes; c++)
        fprintf(out, "  %-10s %9.4f %9.4f %9.4f %9d\n", name(c), m->precision[c], m->recall[c], m->f1[c], m->support[c]);
    fprintf(out, "  confusion matrix (rows: true, columns: predicted, order as above)\n");
    for (int t = 0; t < m->n_classes; t++) {
        fprintf(out, "  %-10s", name(t));
        for (int p = 0; p < m->n_classes; p++) fprintf(out, " %6d", m->confusion[t][p]);
        fputc('\n', out);
    }
}

void report_eval_text(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b)
{
    /* The metrics count predictions and are always finite; the loss is not
     * when the weights are not. */
    if (isfinite(r->loss)) fprintf(out, "%s split: %d utterances, loss %.4f\n", split, r->n, r->loss);
    else fprintf(out, "%s split: %d utterances, loss not finite (the weights are damaged)\n", split, r->n);
    if (task != 2) task_text(out, "emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != 1) task_text(out, "sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
}

/* ---- JSON ------------------------------------------------------------------------- */

static void short_json(JsonOut *j, const Metrics *m)
{
    json_object_begin(j);
    json_key(j, "accuracy"), json_fixed(j, m->accuracy, 6);
    json_key(j, "weighted_f1"), json_fixed(j, m->weighted_f1, 6);
    json_key(j, "macro_f1"), json_fixed(j, m->macro_f1, 6);
}

static void metrics_json(JsonOut *j, const Metrics *m, NameFn name)
{
    short_json(j, m);
    json_key(j, "classes");
    json_object_begin(j);
    for (int c = 0; c < m->n_classes; c++) {
        json_key(j, name(c));
        json_object_begin(j);
        json_key(j, "precision"), json_fixed(j, m->precision[c], 6);
        json_key(j, "recall"), json_fixed(j, m->recall[c], 6);
        json_key(j, "f1"), json_fixed(j, m->f1[c], 6);
        json_key(j, "support"), json_int(j, m->support[c]);
        json_object_end(j);
    }
    json_object_end(j);
    json_key(j, "confusion");
    json_array_begin(j);
    for (int t = 0; t < m->n_classes; t++) {
        json_array_begin(j);
        for (int p = 0; p < m->n_classes; p++) json_int(j, m->confusion[t][p]);
        json_array_end(j);
    }
    json_array_end(j);
    json_object_end(j);
}

static void task_json(JsonOut *j, const char *key, const Metrics *m, NameFn name, const Metrics *maj, const Metrics *rnd)
{
    char k[64];
    json_key(j, key);
    metrics_json(j, m, name);
    if (!maj || !rnd) return;
    snprintf(k, sizeof k, "%s_majority", key);
    json_key(j, k);
    short_json(j, maj);
    json_object_end(j);
    snprintf(k, sizeof k, "%s_stratified_random", key);
    json_key(j, k);
    short_json(j, rnd);
    json_object_end(j);
}

int report_eval_json(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b,
                     const ReportSource *src)
{
    JsonOut j;
    json_init(&j);
    json_object_begin(&j);
    json_key(&j, "provenance");
    provenance_json(&j, src->data);
    json_key(&j, "model");
    json_object_begin(&j);
    json_key(&j, "checkpoint"), json_string(&j, src->checkpoint);
    json_key(&j, "epoch"), json_int(&j, src->epoch);
    json_key(&j, "provenance");
    provenance_json(&j, src->model);
    json_object_end(&j);
    json_key(&j, "split"), json_string(&j, split);
    json_key(&j, "utterances"), json_int(&j, r->n);
    json_key(&j, "loss"), json_fixed(&j, r->loss, 6);
    if (!isfinite(r->loss)) json_key(&j, "loss_note"), json_string(&j, "not finite: the weights are damaged");
    if (task != 2) task_json(&j, "emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != 1) task_json(&j, "sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
    json_object_end(&j);
    int rc = json_ok(&j);
    if (rc == MELD_OK) fprintf(out, "%s\n", j.text);
    json_free(&j);
    return rc;
}
