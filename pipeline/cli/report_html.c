/* The HTML report of `meld eval --html`: one self-contained page (no
 * script, no external file) with the provenance, the metrics tables, the
 * confusion matrices as SVG heat maps and the training curves from the
 * run's log.jsonl in two panels (losses; weighted F1), with labelled axes
 * and ticks, the best epoch marked and every epoch drawn as a point, so a
 * one-epoch run shows its single point.
 *
 * Every string that comes from outside the program (paths, commands, the
 * corpus folder) is HTML-escaped and made valid UTF-8. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/messages.h"
#include "pipeline/cli/report.h"
#include "pipeline/data/dataset.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/html.h"
#include "tensor/input_file.h"
#include "tensor/json.h"
#include "tensor/utf8.h"

typedef const char *(*NameFn)(int);

/* s as HTML text (also safe inside quoted attributes), made valid UTF-8. */
static void html_text(FILE *f, const char *s)
{
    if (!s) return;
    size_t need = utf8_sanitize(s, NULL, 0) + 1;
    char *clean = malloc(need);
    if (!clean) return;
    utf8_sanitize(s, clean, need);
    html_write_text(f, clean);
    free(clean);
}

/* ---- provenance ---------------------------------------------------------------- */

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void row(FILE *f, const char *name, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td>", name);
    html_text(f, value ? value : "not recorded");
    fprintf(f, "</td></tr>\n");
}

static void corpus_cell(const Provenance *p, char *buf, size_t cap)
{
    if (provenance_synthetic(p) && p->seed >= 0) snprintf(buf, cap, "synthetic (seed %lld): generated, not MELD", p->seed);
    else if (provenance_synthetic(p)) snprintf(buf, cap, "synthetic: generated, not MELD");
    else snprintf(buf, cap, "%s", p->corpus ? p->corpus : "not recorded");
}

static void provenance_table(FILE *f, const ReportSource *src)
{
    const Provenance *d = src->data, *m = src->model;
    char text[160];
    if (provenance_synthetic(d))
        fprintf(f, "<p class='warn'><b>Synthetic corpus.</b> These numbers were measured on the built-in generated "
                   "corpus, not on MELD.</p>\n");
    fprintf(f, "<table class='prov'>\n");
    corpus_cell(d, text, sizeof text);
    row(f, "corpus", text);
    row(f, "data", d->data);
    snprintf(text, sizeof text, "%016llx", (unsigned long long)d->cache_hash);
    fprintf(f, "<tr><th>cache</th><td>");
    html_text(f, d->cache ? d->cache : "not recorded");
    fprintf(f, " (hash %s)</td></tr>\n", d->cache_hash ? text : "not recorded");
    row(f, "model", m->model);
    fprintf(f, "<tr><th>checkpoint</th><td>");
    html_text(f, src->checkpoint);
    fprintf(f, " (epoch %d)</td></tr>\n", src->epoch);
    bool same_corpus = m == d || (same_text(m->corpus, d->corpus) && same_text(m->data, d->data) && m->seed == d->seed);
    if (!same_corpus) {
        corpus_cell(m, text, sizeof text);
        fprintf(f, "<tr><th>trained on</th><td>");
        html_text(f, text);
        fprintf(f, ", ");
        html_text(f, m->data ? m->data : "folder not recorded");
        fprintf(f, "</td></tr>\n");
    }
    row(f, "trained by", m->command);
    row(f, "code", d->version);
    if (!same_text(m->version, d->version)) row(f, "trained with code", m->version);
    fprintf(f, "</table>\n");
}

/* ---- confusion matrices ------------------------------------------------------------ */

/* Confusion matrix as an SVG heat map: cell shade = share of the true row. */
static void svg_confusion(FILE *f, const char *title, const Metrics *m, NameFn name)
{
    int k = m->n_classes, cell = 46, left = 90, top = 40, w = left + k * cell + 20, h = top + k * cell + 70;
    fprintf(f, "<figure><figcaption>%s (rows: true, columns: predicted; shade = share of the row)</figcaption>\n", title);
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='11'>\n", w, h);
    for (int t = 0; t < k; t++) {
        int n = 0;
        for (int p = 0; p < k; p++) n += m->confusion[t][p];
        fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%s</text>\n", left - 6, top + t * cell + cell / 2 + 4, name(t));
        for (int p = 0; p < k; p++) {
            double share = n ? (double)m->confusion[t][p] / n : 0;
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

/* ---- training curves ------------------------------------------------------------------ */

enum { TRAIN_LOSS, DEV_LOSS, DEV_EMOTION, DEV_SENTIMENT, TRAIN_EMOTION, TRAIN_SENTIMENT, N_CURVES };
static const char *const CURVE_KEYS[N_CURVES] = {
    "train_loss", "dev_loss", "dev_emotion_weighted_f1", "dev_sentiment_weighted_f1",
    "train_emotion_weighted_f1", "train_sentiment_weighted_f1",
};
enum { MAX_EPOCHS_PLOTTED = 100000 };

/* Epochs 1..n of a log; NaN where a value is missing or null. */
typedef struct {
    int n, best;
    double *v[N_CURVES];
} Curves;

static void curves_free(Curves *c)
{
    for (int k = 0; k < N_CURVES; k++) free(c->v[k]);
    memset(c, 0, sizeof *c);
}

/* One log.jsonl line: whether it is an epoch record (also those written
 * before records had an "event": they have "train_loss"), its epoch, best
 * flag and curve values (NaN where absent or null). False when the line is
 * not a JSON object. */
typedef struct {
    bool epoch_record, best;
    double epoch, v[N_CURVES];
} LogRecord;

static bool log_record_read(const char *line, LogRecord *rec)
{
    JsonReader j;
    json_reader_init(&j, line, strlen(line));
    if (json_check(&j) || json_peek(&j) != '{') return false;
    j.pos++;
    bool has_event = false, has_train_loss = false;
    rec->epoch_record = rec->best = false;
    rec->epoch = NAN;
    for (int k = 0; k < N_CURVES; k++) rec->v[k] = NAN;
    char *key;
    int more;
    while ((more = json_next_member(&j, &key)) > 0) {
        int k = 0;
        while (k < N_CURVES && strcmp(key, CURVE_KEYS[k])) k++;
        int c = json_peek(&j);
        bool number = c == '-' || (c >= '0' && c <= '9');
        int rc = 0;
        if (!strcmp(key, "event") && c == '"') {
            char *event;
            rc = json_read_string(&j, &event);
            if (rc == 0) has_event = true, rec->epoch_record = !strcmp(event, "epoch"), free(event);
        } else if (!strcmp(key, "best") && c == 't') {
            rec->best = true;
            rc = json_skip_value(&j);
        } else if (!strcmp(key, "epoch") && number) {
            rc = json_read_number(&j, &rec->epoch);
        } else if (k < N_CURVES && number) {
            has_train_loss |= k == TRAIN_LOSS;
            rc = json_read_number(&j, &rec->v[k]);
        } else {
            has_train_loss |= k == TRAIN_LOSS;
            rc = json_skip_value(&j);
        }
        free(key);
        if (rc) return false;
    }
    if (!has_event) rec->epoch_record = has_train_loss;
    return more == 0;
}

static bool grow(Curves *c, int n)
{
    for (int k = 0; k < N_CURVES; k++) {
        double *v = realloc(c->v[k], sizeof *v * (size_t)n);
        if (!v) return false;
        for (int i = c->n; i < n; i++) v[i] = NAN;
        c->v[k] = v;
    }
    c->n = n;
    return true;
}

/* The epoch records of log.jsonl (also those written before records had an
 * "event"); an epoch recorded twice (repeated after a resume) keeps its
 * later record. */
static bool curves_read(const char *path, Curves *c)
{
    memset(c, 0, sizeof *c);
    FILE *in = input_file_fopen(path);
    if (!in) return false;
    char *line = NULL;
    size_t cap = 0;
    LogRecord rec;
    while (getline(&line, &cap, in) > 0) {
        if (!log_record_read(line, &rec) || !rec.epoch_record || !(rec.epoch >= 1 && rec.epoch <= MAX_EPOCHS_PLOTTED))
            continue;
        int i = (int)rec.epoch - 1;
        if (i >= c->n && !grow(c, i + 1)) break;
        for (int k = 0; k < N_CURVES; k++) c->v[k][i] = rec.v[k];
        if (rec.best) c->best = i + 1;
    }
    free(line);
    fclose(in);
    return c->n > 0;
}

/* A round tick step for a range shown with about `ticks` ticks: 1, 2 or 5 times a power of ten. */
static double tick_step(double range, int ticks)
{
    double raw = range / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

typedef struct {
    const char *name, *color;
    int curve;
    bool dashed;
} Series;

typedef struct {
    const char *title, *ylabel;
    double lo, hi;
    const Series *series;
    int n_series;
} Panel;

enum { PANEL_W = 460, PANEL_H = 290, PLOT_X0 = 58, PLOT_X1 = 444, PLOT_Y0 = 34, PLOT_Y1 = 214 };

static double px(const Curves *c, int epoch)
{
    return c->n > 1 ? PLOT_X0 + (double)(epoch - 1) / (c->n - 1) * (PLOT_X1 - PLOT_X0) : (PLOT_X0 + PLOT_X1) / 2.0;
}

static double py(const Panel *p, double v)
{
    return PLOT_Y1 - (v - p->lo) / (p->hi - p->lo) * (PLOT_Y1 - PLOT_Y0);
}

static void axes(FILE *f, const Curves *c, const Panel *p)
{
    fprintf(f, "<text x='%d' y='18' text-anchor='middle' font-weight='bold' font-size='13'>%s</text>\n", PANEL_W / 2, p->title);
    double ys = tick_step(p->hi - p->lo, 5);
    for (double v = p->lo; v <= p->hi + ys * 1e-6; v += ys) {
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>", PLOT_X0, PLOT_X1, py(p, v), py(p, v));
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='end'>%g</text>\n", PLOT_X0 - 5, py(p, v) + 4, v);
    }
    int xs = c->n > 1 ? (int)tick_step(c->n - 1, 8) : 1;
    if (xs < 1) xs = 1;
    for (int e = 1; e <= c->n; e = e == 1 && xs > 1 ? xs : e + xs) {
        fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#444'/>", px(c, e), px(c, e), PLOT_Y1, PLOT_Y1 + 5);
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%d</text>\n", px(c, e), PLOT_Y1 + 18, e);
    }
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", PLOT_X0, PLOT_Y0,
            PLOT_X1 - PLOT_X0, PLOT_Y1 - PLOT_Y0);
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>epoch</text>\n", (PLOT_X0 + PLOT_X1) / 2, PLOT_Y1 + 34);
    fprintf(f, "<text transform='translate(14,%d) rotate(-90)' text-anchor='middle'>%s</text>\n", (PLOT_Y0 + PLOT_Y1) / 2,
            p->ylabel);
}

static void best_marker(FILE *f, const Curves *c)
{
    if (c->best < 1) return;
    double x = px(c, c->best);
    fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#555' stroke-dasharray='4,3'/>\n", x, x, PLOT_Y0, PLOT_Y1);
    bool right = x < (PLOT_X0 + PLOT_X1) / 2.0;
    fprintf(f, "<text x='%.1f' y='%d' text-anchor='%s' fill='#333'>best dev F1: epoch %d</text>\n", x + (right ? 4 : -4),
            PLOT_Y0 + 13, right ? "start" : "end", c->best);
}

/* A point: filled for a solid (dev) series, hollow for a dashed (train) one,
 * so that single points of both stay apart. */
static void marker(FILE *f, double x, double y, int r, const Series *s)
{
    fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%d' fill='%s' stroke='%s' stroke-width='1.5'/>", x, y, r,
            s->dashed ? "#fff" : s->color, s->color);
}

static void series_line(FILE *f, const Curves *c, const Panel *p, const Series *s)
{
    const double *v = c->v[s->curve];
    const char *dash = s->dashed ? " stroke-dasharray='6,3'" : "";
    /* Lines join consecutive finite points; every finite point is a dot. */
    for (int i = 0; i + 1 < c->n; i++)
        if (isfinite(v[i]) && isfinite(v[i + 1]))
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>", px(c, i + 1),
                    py(p, v[i]), px(c, i + 2), py(p, v[i + 1]), s->color, dash);
    for (int i = 0; i < c->n; i++)
        if (isfinite(v[i])) marker(f, px(c, i + 1), py(p, v[i]), c->n > 60 ? 1 : 3, s);
    fputc('\n', f);
}

/* Line samples and names below the plot, in rows that fit the panel
 * (about 6 pixels per character at font size 11). */
static void legend(FILE *f, const Panel *p)
{
    int x = PLOT_X0, y = PANEL_H - 26;
    for (int k = 0; k < p->n_series; k++) {
        const Series *s = &p->series[k];
        int width = 34 + 6 * (int)strlen(s->name);
        if (x > PLOT_X0 && x + width > PANEL_W) x = PLOT_X0, y += 16;
        fprintf(f, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/>", x, x + 18, y - 4, y - 4,
                s->color, s->dashed ? " stroke-dasharray='6,3'" : "");
        marker(f, x + 9, y - 4, 3, s);
        fprintf(f, "<text x='%d' y='%d'>%s</text>\n", x + 22, y, s->name);
        x += width;
    }
}

static void svg_panel(FILE *f, const Curves *c, const Panel *p)
{
    fprintf(f, "<figure><svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' "
               "font-size='11'>\n",
            PANEL_W, PANEL_H);
    axes(f, c, p);
    best_marker(f, c);
    for (int k = 0; k < p->n_series; k++) series_line(f, c, p, &p->series[k]);
    legend(f, p);
    fprintf(f, "</svg></figure>\n");
}

/* The loss panel's top: a round number above every finite loss. */
static double loss_top(const Curves *c)
{
    double top = 0;
    for (int k = TRAIN_LOSS; k <= DEV_LOSS; k++)
        for (int i = 0; i < c->n; i++)
            if (isfinite(c->v[k][i]) && c->v[k][i] > top) top = c->v[k][i];
    if (top <= 0) return 1;
    double step = tick_step(top, 5);
    return ceil(top / step) * step;
}

static void training_curves(FILE *f, const char *log_path, int task)
{
    Curves c;
    if (!curves_read(log_path, &c)) {
        fprintf(f, "<p>No training curves: no readable epoch records in ");
        html_text(f, log_path);
        fprintf(f, ".</p>\n");
        curves_free(&c);
        return;
    }
    static const Series LOSS[] = {{"train loss", "#1f77b4", TRAIN_LOSS, false}, {"dev loss", "#ff7f0e", DEV_LOSS, false}};
    Series f1[4];
    int n = 0;
    if (task != TASK_SENTIMENT) f1[n++] = (Series){"dev emotion", "#2ca02c", DEV_EMOTION, false};
    if (task != TASK_EMOTION) f1[n++] = (Series){"dev sentiment", "#d62728", DEV_SENTIMENT, false};
    if (task != TASK_SENTIMENT) f1[n++] = (Series){"train emotion", "#2ca02c", TRAIN_EMOTION, true};
    if (task != TASK_EMOTION) f1[n++] = (Series){"train sentiment", "#d62728", TRAIN_SENTIMENT, true};
    fprintf(f, "<h2>Training</h2>\n<p>From ");
    html_text(f, log_path);
    fprintf(f, ": %d epoch%s. Training metrics are measured on the training batches in training mode (dropout on); "
               "for fusion the training loss includes its auxiliary heads.</p>\n",
            c.n, c.n == 1 ? "" : "s");
    Panel loss = {"Loss", "cross-entropy loss", 0, loss_top(&c), LOSS, 2};
    Panel score = {"Weighted F1", "weighted F1", 0, 1, f1, n};
    svg_panel(f, &c, &loss);
    svg_panel(f, &c, &score);
    curves_free(&c);
}

/* ---- the page --------------------------------------------------------------------- */

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

int report_eval_html(const char *path, const char *split, int task, const EvalResult *r, const Baselines *b,
                     const ReportSource *src, const char *log)
{
    AtomicFile af;
    atomic_file_sweep(path);
    if (atomic_file_open(&af, path)) return report_error("eval");
    FILE *f = af.fp;
    const char *model = src->model->model ? src->model->model : "model";
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>meld-c: ");
    html_text(f, model);
    fprintf(f, " on the %s split</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;}"
               "table{border-collapse:collapse;}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;}"
               "table.prov td,table.prov th{text-align:left;}.warn{background:#fff3cd;border:1px solid #e0c060;"
               "padding:6px 10px;}figure{display:inline-block;margin:0.5em;}</style></head><body>\n",
            split);
    fprintf(f, "<h1>");
    html_text(f, model);
    fprintf(f, " on the %s split</h1>\n", split);
    provenance_table(f, src);
    if (isfinite(r->loss)) fprintf(f, "<p>%d utterances, loss %.4f</p>\n", r->n, r->loss);
    else fprintf(f, "<p>%d utterances, loss not finite (the weights are damaged)</p>\n", r->n);
    if (task != TASK_SENTIMENT) metrics_table(f, "Emotion", &r->emotion, emotion_name, b ? &b->majority_emotion : NULL, b ? &b->random_emotion : NULL);
    if (task != TASK_EMOTION) metrics_table(f, "Sentiment", &r->sentiment, sentiment_name, b ? &b->majority_sentiment : NULL, b ? &b->random_sentiment : NULL);
    if (log) training_curves(f, log, task);
    fprintf(f, "</body></html>\n");
    if (atomic_file_commit(&af)) return report_error("eval");
    return 0;
}
