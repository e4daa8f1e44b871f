#include "pipeline/train/metrics.h"

#include <string.h>

#include "tensor/error.h"

int metrics_compute(Metrics *m, int k, const int *truth, const int *pred, int n)
{
    if (k < 1 || k > METRICS_MAX_CLASSES) return meld_errorf("metrics: %d classes outside 1..%d", k, METRICS_MAX_CLASSES);
    int confusion[METRICS_MAX_CLASSES][METRICS_MAX_CLASSES] = {{0}};
    for (int i = 0; i < n; i++) {
        if (truth[i] < 0 || truth[i] >= k || pred[i] < 0 || pred[i] >= k)
            return meld_errorf("metrics: label out of range at %d (true %d, predicted %d)", i, truth[i], pred[i]);
        confusion[truth[i]][pred[i]]++;
    }
    return metrics_from_confusion(m, k, &confusion[0][0], METRICS_MAX_CLASSES);
}

int metrics_from_confusion(Metrics *m, int k, const int *confusion, int stride)
{
    memset(m, 0, sizeof *m);
    if (k < 1 || k > METRICS_MAX_CLASSES) return meld_errorf("metrics: %d classes outside 1..%d", k, METRICS_MAX_CLASSES);
    m->n_classes = k;
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            if (confusion[t * stride + p] < 0) return meld_errorf("metrics: negative count in the confusion matrix");
            m->confusion[t][p] = confusion[t * stride + p];
            m->n += m->confusion[t][p];
        }
    int n = m->n, correct = 0;
    for (int c = 0; c < k; c++) {
        int tp = m->confusion[c][c], predicted = 0, actual = 0;
        for (int j = 0; j < k; j++) {
            predicted += m->confusion[j][c];
            actual += m->confusion[c][j];
        }
        correct += tp;
        m->support[c] = actual;
        m->precision[c] = predicted ? (double)tp / predicted : 0.0;
        m->recall[c] = actual ? (double)tp / actual : 0.0;
        double pr = m->precision[c] + m->recall[c];
        m->f1[c] = pr > 0 ? 2.0 * m->precision[c] * m->recall[c] / pr : 0.0;
        m->macro_f1 += m->f1[c] / k;
        m->weighted_f1 += n ? m->f1[c] * actual / n : 0.0;
    }
    m->accuracy = n ? (double)correct / n : 0.0;
    return MELD_OK;
}
