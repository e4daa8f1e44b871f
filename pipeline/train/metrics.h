/* Classification metrics, with scikit-learn's definitions
 * (sklearn.metrics.classification_report / f1_score):
 *   precision_c = TP_c / (TP_c + FP_c)   (0 when nothing was predicted c)
 *   recall_c    = TP_c / (TP_c + FN_c)   (0 when class c has no support)
 *   f1_c        = 2 P R / (P + R)        (0 when P + R = 0)
 *   accuracy    = sum_c TP_c / N
 *   macro F1    = mean over the classes of f1_c   (all K classes, as
 *                 sklearn does when `labels` lists them)
 *   weighted F1 = sum_c support_c f1_c / N
 */
#ifndef MELD_METRICS_H
#define MELD_METRICS_H

#define METRICS_MAX_CLASSES 16

typedef struct {
    int n_classes, n;
    int confusion[METRICS_MAX_CLASSES][METRICS_MAX_CLASSES];   /* [true][pred] */
    double precision[METRICS_MAX_CLASSES], recall[METRICS_MAX_CLASSES], f1[METRICS_MAX_CLASSES];
    int support[METRICS_MAX_CLASSES];
    double accuracy, macro_f1, weighted_f1;
} Metrics;

/* Computes everything from true and predicted labels in 0..n_classes-1. */
int metrics_compute(Metrics *m, int n_classes, const int *truth, const int *pred, int n);
/* The same from a confusion matrix of counts, confusion[t * stride + p]
 * for true class t and predicted class p (what training accumulates over
 * an epoch's batches). */
int metrics_from_confusion(Metrics *m, int n_classes, const int *confusion, int stride);

#endif
