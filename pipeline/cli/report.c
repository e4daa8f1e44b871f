#include "pipeline/cli/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/messages.h"
#include "pipeline/data/dataset.h"
#include "tensor/html.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/json.h"
#include "tensor/input_file.h"

typedef const char *(*NameFn)(int);

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
    fprintf(out, "%s split: %d utterances, loss %.4f\n", split, r->n, r->loss);
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

int report_eval_json(FILE *out, const char *split, int task, const EvalResult *r, const Baselines *b)
{
    JsonWriter j;
    json_writer_init(&j, JSON_LINE, out);
    json_begin_object(&j, NULL);
    json_string(&j, "split", split);
    json_int(&j, "utterances", r->n);
    json_real(&j, "loss", r->loss, "%.6f");
    if (task != 2) task_json(&j, "emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != 1) task_json(&j, "sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
    json_end_object(&j);
    fputc('\n', out);
    return json_writer_finish(&j, "eval");
}

/* ---- HTML -------------------------------------------------------------- */

/* Confusion matrix as an SVG heat map: cell shade = share of the true row. */
static void svg_confusion(FILE *f, const char *title, const Metrics *m, NameFn name)
{
    int k = m->n_classes, cell = 46, left = 90, top = 40, w = left + k * cell + 20, h = top + k * cell + 70;
    fprintf(f, "<figure><figcaption>%s (rows: true, columns: predicted; shade = share of the row)</figcaption>\n", title);
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='11'>\n", w, h);
    for (int t = 0; t < k; t++) {
        int row = 0;
        for (int p = 0; p < k; p++) row += m->confusion[t][p];
        fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%s</text>\n", left - 6, top + t * cell + cell / 2 + 4, name(t));
        for (int p = 0; p < k; p++) {
            double share = row ? (double)m->confusion[t][p] / row : 0;
            int shade = 255 - (int)(share * 200);
            fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='rgb(%d,%d,255)' stroke='#fff'/>", left + p * cell,
                    top + t * cell, cell, cell, shade, shade);
            fprintf(f, "<text x='%d' y='%d' text-anchor='middle' fill='%s'>%d</text>\n", left + p * cell + cell / 2,
                    top + t * cell + cell / 2 + 4, share > 0.55 ? "#fff" : "#000", m->confusion[t][p]);
        }
    }
    for (int p = 0; p < k; p++)
        fprintf(f, "<text transform='translate(%d,%d) rotate(40)'>%s</text>\n", left + p * cell + 10, top + k * cell + 12, name(p));
    fprintf(f, "</svg></figure>\n");
}

/* The four curves' values of one log.jsonl line (a JSON object); true
 * when the line is valid JSON and has all four as numbers. */
static bool log_line_values(const char *line, double v[4])
{
    static const char *const keys[4] = {"train_loss", "dev_loss", "dev_emotion_weighted_f1", "dev_sentiment_weighted_f1"};
    JsonReader j;
    json_reader_init(&j, line, strlen(line));
    if (json_check(&j) || json_peek(&j) != '{') return false;
    j.pos++;
    unsigned found = 0;
    char *key;
    int more;
    while ((more = json_next_member(&j, &key)) > 0) {
        int k = 0;
        while (k < 4 && strcmp(key, keys[k])) k++;
        free(key);
        bool number = json_peek(&j) == '-' || (json_peek(&j) >= '0' && json_peek(&j) <= '9');
        if (k < 4 && number) {
            if (json_read_number(&j, &v[k])) return false;
            found |= 1u << k;
        } else if (json_skip_value(&j)) {
            return false;
        }
    }
    return more == 0 && found == 15;
}

enum { MAX_EPOCHS_PLOTTED = 1000 };

/* Training curves from log.jsonl: losses and dev weighted F1 per epoch. */
static void svg_curves(FILE *f, const char *log_path)
{
    FILE *in = input_file_fopen(log_path);
    if (!in) return;
    static double tl[MAX_EPOCHS_PLOTTED], dl[MAX_EPOCHS_PLOTTED], ef[MAX_EPOCHS_PLOTTED], sf[MAX_EPOCHS_PLOTTED];
    int n = 0;
    char line[2048];
    double v[4];
    while (n < MAX_EPOCHS_PLOTTED && fgets(line, sizeof line, in))
        if (log_line_values(line, v)) tl[n] = v[0], dl[n] = v[1], ef[n] = v[2], sf[n] = v[3], n++;
    fclose(in);
    if (n == 0) return;
    double lmax = 0;
    for (int i = 0; i < n; i++) lmax = tl[i] > lmax ? tl[i] : lmax, lmax = dl[i] > lmax ? dl[i] : lmax;
    int W = 520, H = 220, L = 50, B = 30;
    const char *names[4] = {"train loss", "dev loss", "dev emotion weighted F1", "dev sentiment weighted F1"};
    const char *colors[4] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    double *series[4] = {tl, dl, ef, sf};
    fprintf(f, "<figure><figcaption>Training curves (losses on the left scale, 0..%.2f; F1 on 0..1)</figcaption>\n", lmax);
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='11'>\n", W + 200, H + B + 10);
    fprintf(f, "<rect x='%d' y='10' width='%d' height='%d' fill='none' stroke='#888'/>\n", L, W - L, H);
    for (int s = 0; s < 4; s++) {
        double scale = s < 2 ? (lmax > 0 ? lmax : 1) : 1.0;
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", colors[s]);
        for (int i = 0; i < n; i++) {
            double x = L + (n > 1 ? (double)i / (n - 1) : 0.5) * (W - L), y = 10 + H - series[s][i] / scale * H;
            fprintf(f, "%.1f,%.1f ", x, y);
        }
        fprintf(f, "'/>\n<text x='%d' y='%d' fill='%s'>%s</text>\n", W + 10, 24 + 16 * s, colors[s], names[s]);
    }
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>epoch 1 .. %d</text>\n</svg></figure>\n", (L + W) / 2, H + B, n);
}

static void metrics_table(FILE *f, const char *title, const Metrics *m, NameFn name, const Metrics *maj, const Metrics *rnd)
{
    fprintf(f, "<h2>%s</h2><p>accuracy <b>%.4f</b>, weighted F1 <b>%.4f</b>, macro F1 <b>%.4f</b>", title, m->accuracy, m->weighted_f1, m->macro_f1);
    if (maj && rnd)
        fprintf(f, " &mdash; majority class: %.4f / %.4f / %.4f; stratified random: %.4f / %.4f / %.4f", maj->accuracy,
                maj->weighted_f1, maj->macro_f1, rnd->accuracy, rnd->weighted_f1, rnd->macro_f1);
    fprintf(f, "</p>\n<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n");
    for (int c = 0; c < m->n_classes; c++)
        fprintf(f, "<tr><td>%s</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%d</td></tr>\n", name(c), m->precision[c],
                m->recall[c], m->f1[c], m->support[c]);
    fprintf(f, "</table>\n");
    svg_confusion(f, title, m, name);
}

int report_eval_html(const char *path, const char *title, int task, const EvalResult *r, const Baselines *b, const char *log)
{
    AtomicFile af;
    atomic_file_sweep(path);
    if (atomic_file_open(&af, path)) return report_error("eval");
    FILE *f = af.fp;
    /* The title holds the checkpoint's path: text from outside. */
    fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>", f);
    html_write_text(f, title);
    fputs("</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;}table{border-collapse:collapse;}"
          "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;}figure{display:inline-block;margin:1em;}</style>"
          "</head><body>\n<h1>", f);
    html_write_text(f, title);
    fprintf(f, "</h1><p>%d utterances, loss %.4f</p>\n", r->n, r->loss);
    if (task != 2) metrics_table(f, "Emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != 1) metrics_table(f, "Sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
    if (log) svg_curves(f, log);
    fprintf(f, "</body></html>\n");
    if (atomic_file_commit(&af)) return report_error("eval");
    return 0;
}
