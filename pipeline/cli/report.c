/* Text and JSON reports (report.h); the HTML page is in report_html.c. */
#include "pipeline/cli/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/dataset.h"
#include "tensor/error.h"
#include "tensor/json.h"

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

/* ---- JSON (tensor/json.h, one line) ---------------------------------------- */

static void metrics_json(JsonWriter *j, const char *key, const Metrics *m, NameFn name)
{
    json_begin_object(j, key);
    json_real(j, "accuracy", m->accuracy, "%.6f");
    json_real(j, "weighted_f1", m->weighted_f1, "%.6f");
    json_real(j, "macro_f1", m->macro_f1, "%.6f");
    json_begin_object(j, "classes");
    for (int c = 0; c < m->n_classes; c++) {
        json_begin_object(j, name(c));
        json_real(j, "precision", m->precision[c], "%.6f");
        json_real(j, "recall", m->recall[c], "%.6f");
        json_real(j, "f1", m->f1[c], "%.6f");
        json_int(j, "support", m->support[c]);
        json_end_object(j);
    }
    json_end_object(j);
    json_begin_array(j, "confusion");
    for (int t = 0; t < m->n_classes; t++) {
        json_begin_array(j, NULL);
        for (int p = 0; p < m->n_classes; p++) json_int(j, NULL, m->confusion[t][p]);
        json_end_array(j);
    }
    json_end_array(j);
    json_end_object(j);
}

static void short_json(JsonWriter *j, const char *key, const Metrics *m)
{
    json_begin_object(j, key);
    json_real(j, "accuracy", m->accuracy, "%.6f");
    json_real(j, "weighted_f1", m->weighted_f1, "%.6f");
    json_real(j, "macro_f1", m->macro_f1, "%.6f");
    json_end_object(j);
}

static void task_json(JsonWriter *j, const char *key, const Metrics *m, NameFn name, const Metrics *maj, const Metrics *rnd)
{
    metrics_json(j, key, m, name);
    if (maj && rnd) {
        char k[64];
        snprintf(k, sizeof k, "%s_majority", key);
        short_json(j, k, maj);
        snprintf(k, sizeof k, "%s_stratified_random", key);
        short_json(j, k, rnd);
    }
}

int report_eval_json(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b,
                     const ReportSource *src)
{
    JsonWriter j;
    json_writer_init(&j, JSON_LINE, out);
    json_begin_object(&j, NULL);
    provenance_json(&j, "provenance", src->data);
    json_begin_object(&j, "model");
    json_string(&j, "checkpoint", src->checkpoint);
    json_int(&j, "epoch", src->epoch);
    provenance_json(&j, "provenance", src->model);
    json_end_object(&j);
    json_string(&j, "split", split);
    json_int(&j, "utterances", r->n);
    json_real(&j, "loss", r->loss, "%.6f");
    if (!isfinite(r->loss)) json_string(&j, "loss_note", "not finite: the weights are damaged");
    if (task != 2) task_json(&j, "emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != 1) task_json(&j, "sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
    json_end_object(&j);
    fputc('\n', out);
    return json_writer_finish(&j, "eval");
}
