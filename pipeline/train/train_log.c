/* log.jsonl records (see train_log.h). */
#include "pipeline/train/train_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/json.h"

void iso_time_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, cap, "unknown");
}

/* Ends j's record and appends its text as one line, made durable. */
static int append(FILE *log, const char *path, JsonWriter *j)
{
    json_end_object(j);
    int rc = json_writer_finish(j, path);
    if (rc == MELD_OK && (fprintf(log, "%s\n", j->buf) < 0 || fflush(log) != 0 || fsync(fileno(log)) != 0))
        rc = meld_errorf("%s: write failed: %s", path, strerror(errno));
    return rc;
}

static void record_head(JsonWriter *j, const char *event)
{
    char when[32];
    iso_time_now(when, sizeof when);
    json_writer_init(j, JSON_LINE, NULL);
    json_begin_object(j, NULL);
    json_string(j, "event", event);
    json_string(j, "time", when);
}

int log_session(FILE *log, const char *path, const LogSession *s)
{
    JsonWriter j;
    record_head(&j, s->event);
    json_int(&j, "epoch", s->epoch);
    json_int(&j, "epoch_step", s->epoch_step);
    json_string(&j, "command", s->command);
    json_int(&j, "pid", (long long)getpid());
    Provenance unknown;
    provenance_init(&unknown);
    provenance_json(&j, "provenance", s->provenance ? s->provenance : &unknown);
    json_begin_object(&j, "settings");
    json_string(&j, "optimiser", s->optimiser);
    json_string(&j, "hparams", s->hparams);
    json_string(&j, "schedule", s->schedule);
    json_real(&j, "clip_norm", s->clip_norm, "%.7g");
    json_int(&j, "epochs", s->epochs);
    json_int(&j, "batch", s->batch);
    json_int(&j, "patience", s->patience);
    json_int(&j, "seed", (long long)s->seed);
    json_int(&j, "threads", s->threads);
    json_int(&j, "parameters", (long long)s->parameters);
    json_begin_object(&j, "utterances");
    json_int(&j, "train", s->utterances[0]);
    json_int(&j, "dev", s->utterances[1]);
    json_int(&j, "test", s->utterances[2]);
    json_end_object(&j);
    json_end_object(&j);
    int rc = append(log, path, &j);
    json_writer_free(&j);
    return rc;
}

/* "PREFIX_emotion_accuracy": ..., weighted and macro F1, then sentiment. */
static void metrics_fields(JsonWriter *j, const char *prefix, const Metrics *emotion, const Metrics *sentiment, bool macro)
{
    const Metrics *m[2] = {emotion, sentiment};
    const char *task[2] = {"emotion", "sentiment"};
    char key[64];
    for (int t = 0; t < 2; t++) {
        snprintf(key, sizeof key, "%s_%s_accuracy", prefix, task[t]);
        json_real(j, key, m[t]->accuracy, "%.6f");
        snprintf(key, sizeof key, "%s_%s_weighted_f1", prefix, task[t]);
        json_real(j, key, m[t]->weighted_f1, "%.6f");
        if (!macro) continue;
        snprintf(key, sizeof key, "%s_%s_macro_f1", prefix, task[t]);
        json_real(j, key, m[t]->macro_f1, "%.6f");
    }
}

int log_epoch(FILE *log, const char *path, EpochReport *e, long step, double utterances_per_s, char **buf)
{
    JsonWriter j;
    record_head(&j, "epoch");
    json_int(&j, "epoch", e->epoch);
    json_int(&j, "step", step);
    json_real(&j, "lr", e->lr, "%.7g");
    json_real(&j, "train_loss", e->train_loss, "%.6f");
    metrics_fields(&j, "train", &e->train_emotion, &e->train_sentiment, false);
    json_real(&j, "dev_loss", e->dev->loss, "%.6f");
    metrics_fields(&j, "dev", &e->dev->emotion, &e->dev->sentiment, true);
    json_real(&j, "seconds", e->seconds, "%.3f");
    json_real(&j, "utterances_per_s", utterances_per_s, "%.1f");
    json_bool(&j, "best", e->best);
    int rc = append(log, path, &j);
    if (rc == MELD_OK) {
        free(*buf);
        *buf = j.buf;   /* the record stays readable for the callback */
        j.buf = NULL;
        e->json = *buf;
    }
    json_writer_free(&j);
    return rc;
}

int log_stop(FILE *log, const char *path, const char *reason, const char *message, int epoch, int epoch_step,
             int best_epoch, double best_score)
{
    JsonWriter j;
    record_head(&j, "stop");
    json_string(&j, "reason", reason);
    json_string(&j, "message", message);
    json_int(&j, "epoch", epoch);
    json_int(&j, "epoch_step", epoch_step);
    json_int(&j, "best_epoch", best_epoch);
    if (best_epoch > 0) json_real(&j, "best_dev_score", best_score, "%.6f");
    else json_null(&j, "best_dev_score");
    int rc = append(log, path, &j);
    json_writer_free(&j);
    return rc;
}
