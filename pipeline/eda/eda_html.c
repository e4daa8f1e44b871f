/* The EDA report as one self-contained HTML page: inline CSS and SVG, no
 * script, no external file or font, so it opens offline in any browser.
 *
 * Charts: class shares per split (grouped bars), words per utterance and
 * dialogue length (histograms over all splits), and the sentiment x
 * emotion counts (heat map). Hovering a bar or cell shows its exact count
 * (SVG <title>). The tables and the data issues are the text report's
 * sections, preformatted. */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eda/eda.h"
#include "tensor/html.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

static const char *const SPLIT_COLORS[N_SPLITS] = {"#4e79a7", "#f28e2b", "#59a14f"};

/* A grouped bar chart. value and count are [series][category], flattened. */
typedef struct {
    const char *title;
    int n_cats, n_series;
    const char *const *cats;        /* category labels */
    const char *const *series;      /* series names (legend; none if 1 series) */
    const char *const *colors;      /* one per series */
    const double *value;            /* bar heights */
    const size_t *count;            /* for the hover text */
    int percent;                    /* values are fractions, axis in % */
    int label_every, label_offset;  /* label category k if (k + offset) % every == 0 */
} BarChart;

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving at most 6
 * ticks up to top. */
static double tick_step(double top)
{
    if (!(top > 0)) return 1;
    double raw = top / 6, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

enum { CH_W = 560, CH_H = 300, CH_L = 52, CH_R = 12, CH_T = 34, CH_B = 46 };

static void bar_chart(FILE *fp, const BarChart *c)
{
    double top = 0;
    for (int i = 0; i < c->n_cats * c->n_series; i++)
        if (c->value[i] > top) top = c->value[i];
    double scale = c->percent ? 100 : 1, step = tick_step(top * scale);
    double ymax = ceil(top * scale / step) * step;
    if (ymax <= 0) ymax = step;
    double pw = CH_W - CH_L - CH_R, ph = CH_H - CH_T - CH_B;

    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\">\n<text x=\"%d\" y=\"20\" class=\"t\">", CH_W, CH_H, CH_W, CH_H, CH_L);
    html_write_text(fp, c->title);
    fputs("</text>\n", fp);
    /* y grid and tick labels */
    for (double y = 0; y <= ymax + step / 2; y += step) {
        double py = CH_T + ph - y / ymax * ph;
        fprintf(fp, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n",
                CH_L, CH_L + pw, py, py, CH_L - 6, py + 4, y, c->percent ? "%" : "");
    }
    /* bars: each category gets a slot; its series share 80% of the slot */
    double slot = pw / c->n_cats, bw = slot * 0.8 / c->n_series;
    for (int k = 0; k < c->n_cats; k++) {
        for (int s = 0; s < c->n_series; s++) {
            double v = c->value[s * c->n_cats + k] * scale, h = v / ymax * ph;
            double x = CH_L + k * slot + slot * 0.1 + s * bw;
            fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x,
                    CH_T + ph - h, bw > 1.5 ? bw - 0.5 : bw, h, c->colors[s]);
            if (c->n_series > 1) {
                html_write_text(fp, c->series[s]);
                fputc(' ', fp);
            }
            html_write_text(fp, c->cats[k]);
            fprintf(fp, ": %zu", c->count[s * c->n_cats + k]);
            if (c->percent) fprintf(fp, " (%.1f%%)", v);
            fputs("</title></rect>\n", fp);
        }
        if ((k + c->label_offset) % c->label_every == 0) {
            fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", CH_L + (k + 0.5) * slot, CH_T + (int)ph + 16);
            html_write_text(fp, c->cats[k]);
            fputs("</text>\n", fp);
        }
    }
    fprintf(fp, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"a\"/>\n", CH_L, CH_L + pw, CH_T + ph,
            CH_T + ph);
    /* legend, top right */
    for (int s = 0; c->n_series > 1 && s < c->n_series; s++) {
        double x = CH_W - CH_R - 70.0 * (c->n_series - s);
        fprintf(fp, "<rect x=\"%.1f\" y=\"10\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.1f\" y=\"20\">",
                x, c->colors[s], x + 16);
        html_write_text(fp, c->series[s]);
        fputs("</text>\n", fp);
    }
    fputs("</svg>\n", fp);
}

/* Shares of each class per split present. */
static void class_chart(FILE *fp, const EdaReport *r, int emotion)
{
    int k = emotion ? N_EMOTIONS : N_SENTIMENTS, n = 0;
    const char *cats[N_EMOTIONS], *series[N_SPLITS], *colors[N_SPLITS];
    double value[N_SPLITS * N_EMOTIONS];
    size_t count[N_SPLITS * N_EMOTIONS];
    for (int c = 0; c < k; c++) cats[c] = emotion ? emotion_name(c) : sentiment_name(c);
    for (int s = 0; s < N_SPLITS; s++) {
        const EdaStats *st = &r->split[s];
        if (!st->present) continue;
        series[n] = split_name(s);
        colors[n] = SPLIT_COLORS[s];
        for (int c = 0; c < k; c++) {
            size_t m = emotion ? st->emotion[c] : st->sentiment[c];
            count[n * k + c] = m;
            value[n * k + c] = st->utterances ? (double)m / (double)st->utterances : 0;
        }
        n++;
    }
    BarChart ch = {emotion ? "Emotion share per split" : "Sentiment share per split",
                   k, n, cats, series, colors, value, count, 1, 1, 0};
    bar_chart(fp, &ch);
}

/* A histogram over all splits, up to its last non-empty bin. The last bin
 * of the array collects everything beyond, hence its "+" label. */
static int histogram_chart(FILE *fp, const char *title, const size_t *bins, int n_bins, int first)
{
    int last = n_bins - 1;
    while (last > first && bins[last] == 0) last--;
    int n = last - first + 1;
    char (*labels)[16] = meld_calloc((size_t)n, sizeof *labels, "histogram labels");
    const char **cats = meld_calloc((size_t)n, sizeof *cats, "histogram labels");
    double *value = meld_calloc((size_t)n, sizeof *value, "histogram values");
    if (!labels || !cats || !value) {
        free(labels);
        free(cats);
        free(value);
        return MELD_ERR;
    }
    for (int i = 0; i < n; i++) {
        snprintf(labels[i], sizeof labels[i], "%d%s", first + i, first + i == n_bins - 1 ? "+" : "");
        cats[i] = labels[i];
        value[i] = (double)bins[first + i];
    }
    static const char *const one_color[1] = {"#4e79a7"};
    static const char *const one_series[1] = {"all"};
    BarChart ch = {title, n, 1, cats, one_series, one_color, value, bins + first, 0, n > 24 ? 5 : 1, first};
    bar_chart(fp, &ch);
    free(labels);
    free(cats);
    free(value);
    return MELD_OK;
}

/* Sentiment x emotion counts as a heat map: white -> dark blue by count. */
static void heat_map(FILE *fp, const EdaReport *r)
{
    enum { CELL_W = 66, CELL_H = 40, LEFT = 80, TOP = 56 };
    int w = LEFT + N_EMOTIONS * CELL_W + 10, h = TOP + N_SENTIMENTS * CELL_H + 10;
    size_t top = 1;
    for (int s = 0; s < N_SENTIMENTS; s++)
        for (int e = 0; e < N_EMOTIONS; e++)
            if (r->all.sentiment_emotion[s][e] > top) top = r->all.sentiment_emotion[s][e];
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n"
                "<text x=\"%d\" y=\"20\" class=\"t\">Sentiment x emotion (all splits)</text>\n", w, h, w, h, LEFT);
    for (int e = 0; e < N_EMOTIONS; e++)
        fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", LEFT + e * CELL_W + CELL_W / 2,
                TOP - 8, emotion_name(e));
    for (int s = 0; s < N_SENTIMENTS; s++) {
        int y = TOP + s * CELL_H;
        fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", LEFT - 8, y + CELL_H / 2 + 4,
                sentiment_name(s));
        for (int e = 0; e < N_EMOTIONS; e++) {
            size_t n = r->all.sentiment_emotion[s][e];
            /* sqrt spreads the small counts: neutral/neutral alone would
             * otherwise wash every other cell out */
            double t = sqrt((double)n / (double)top);
            int red = (int)lround(255 - t * (255 - 33)), green = (int)lround(255 - t * (255 - 82)),
                blue = (int)lround(255 - t * (255 - 140));
            int x = LEFT + e * CELL_W;
            fprintf(fp, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" class=\"c\">"
                        "<title>%s / %s: %zu</title></rect>"
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>%zu</text>\n",
                    x, y, CELL_W, CELL_H, red, green, blue, sentiment_name(s), emotion_name(e), n,
                    x + CELL_W / 2, y + CELL_H / 2 + 4, t > 0.55 ? " class=\"w\"" : "", n);
        }
    }
    fputs("</svg>\n", fp);
}

/* A text report section captured in memory and put in a <pre>. */
static int pre_section(FILE *fp, const EdaReport *r, void (*section)(const EdaReport *, FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return meld_errorf("eda: cannot open a memory stream: %s", strerror(errno));
    section(r, mem);
    if (fclose(mem) != 0) {
        free(text);
        return meld_errorf("eda: formatting a report section failed");
    }
    fputs("<pre>", fp);
    html_write_text(fp, text);
    fputs("</pre>\n", fp);
    free(text);
    return MELD_OK;
}

static void emotion_table(const EdaReport *r, FILE *fp) { eda_text_classes(r, fp, 1); }
static void sentiment_table(const EdaReport *r, FILE *fp) { eda_text_classes(r, fp, 0); }

static const char *const STYLE =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;"
    "max-width:1180px;margin:24px auto;padding:0 16px}\n"
    "h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:30px;border-bottom:1px solid #ddd;"
    "padding-bottom:4px}\n"
    ".note{color:#666;font-size:13px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}\n"
    "svg{background:#fff;border:1px solid #e3e3e3;border-radius:4px}\n"
    "svg text{font-size:11px;fill:#333}svg text.t{font-size:13px;font-weight:600}\n"
    "svg .g{stroke:#eee}svg .a{stroke:#999}svg .c{stroke:#fff}svg text.w{fill:#fff}\n"
    "pre{font-size:12px;background:#fafafa;border:1px solid #eee;padding:10px;overflow-x:auto}\n";

static int write_page(FILE *fp, const EdaReport *r)
{
    fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>MELD exploratory analysis</title>\n<style>\n%s</style>\n</head>\n<body>\n"
                "<h1>MELD exploratory analysis</h1>\n<p class=\"note\">Annotations under ",
            STYLE);
    html_write_text(fp, r->ds->root[0] ? r->ds->root : "(memory)");
    fputs(". Written by <code>meld eda --html</code>; hover a bar or cell for its count.</p>\n", fp);

    fputs("<h2>Summary</h2>\n", fp);
    if (pre_section(fp, r, eda_text_summary)) return MELD_ERR;

    fputs("<h2>Class distributions</h2>\n<div class=\"charts\">\n", fp);
    class_chart(fp, r, 1);
    class_chart(fp, r, 0);
    fputs("</div>\n", fp);
    if (pre_section(fp, r, emotion_table) || pre_section(fp, r, sentiment_table)) return MELD_ERR;
    fputs("<p class=\"note\">words: mean words per utterance of the class (all splits); w_train: "
          "suggested class weight, inverse frequency N / (K n<sub>c</sub>) on the train split; w_MELD: "
          "the MELD baseline's published emotion weights; max/min: imbalance ratio (largest class over "
          "smallest).</p>\n",
          fp);

    fputs("<h2>Utterances and dialogues</h2>\n<div class=\"charts\">\n", fp);
    if (histogram_chart(fp, "Words per utterance (all splits)", r->all.words_hist, EDA_WORD_BINS, 0) ||
        histogram_chart(fp, "Dialogue length in utterances (all splits)", r->all.dialogue_len_hist,
                        EDA_DIALOGUE_BINS, 1))
        return MELD_ERR;
    fputs("</div>\n", fp);

    fputs("<h2>Sentiment and emotion</h2>\n<div class=\"charts\">\n", fp);
    heat_map(fp, r);
    fputs("</div>\n", fp);
    if (pre_section(fp, r, eda_text_crosstab)) return MELD_ERR;

    fputs("<h2>Data issues</h2>\n", fp);
    if (pre_section(fp, r, eda_text_issues)) return MELD_ERR;
    bool features = false;
    for (int k = 0; k < N_FEATURE_PICKLES; k++) features |= r->features[k].path[0] != '\0';
    if (features) {
        fputs("<h2>Audio features</h2>\n", fp);
        if (pre_section(fp, r, eda_text_features)) return MELD_ERR;
    }
    fputs("<p class=\"note\">Lists are cut short here; <code>meld eda --json</code> has them in full.</p>\n"
          "</body>\n</html>\n",
          fp);
    return MELD_OK;
}

int eda_write_html(const EdaReport *r, const char *path)
{
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    if (write_page(f.fp, r)) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}
