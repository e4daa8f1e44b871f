/* log.jsonl records (see train_log.h). */
#include "pipeline/train/train_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/train/json_out.h"
#include "tensor/error.h"

void iso_time_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, cap, "unknown");
}

/* Appends j's text as one line and makes it durable. */
static int append(FILE *log, const char *path, JsonOut *j)
{
    int rc = json_ok(j);
    if (rc == MELD_OK && (fprintf(log, "%s\n", j->text) < 0 || fflush(log) != 0 || fsync(fileno(log)) != 0))
        rc = meld_errorf("%s: write failed: %s", path, strerror(errno));
    return rc;
}

static void record_head(JsonOut *j, const char *event)
{
    char when[32];
    iso_time_now(when, sizeof when);
    json_object_begin(j);
    json_key(j, "event"), json_string(j, event);
    json_key(j, "time"), json_string(j, when);
}

int log_session(FILE *log, const char *path, const LogSession *s)
{
    JsonOut j;
    json_init(&j);
    record_head(&j, s->event);
    json_key(&j, "epoch"), json_int(&j, s->epoch);
    json_key(&j, "epoch_step"), json_int(&j, s->epoch_step);
    json_key(&j, "command"), json_string(&j, s->command);
    json_key(&j, "pid"), json_int(&j, (long long)getpid());
    json_key(&j, "provenance");
    Provenance unknown;
    provenance_init(&unknown);
    provenance_json(&j, s->provenance ? s->provenance : &unknown);
    json_key(&j, "settings");
    json_object_begin(&j);
    json_key(&j, "optimiser"), json_string(&j, s->optimiser);
    json_key(&j, "hparams"), json_string(&j, s->hparams);
    json_key(&j, "schedule"), json_string(&j, s->schedule);
    json_key(&j, "clip_norm"), json_real(&j, s->clip_norm, 7);
    json_key(&j, "epochs"), json_int(&j, s->epochs);
    json_key(&j, "batch"), json_int(&j, s->batch);
    json_key(&j, "patience"), json_int(&j, s->patience);
    json_key(&j, "seed"), json_int(&j, (long long)s->seed);
    json_key(&j, "threads"), json_int(&j, s->threads);
    json_key(&j, "parameters"), json_int(&j, (long long)s->parameters);
    json_key(&j, "utterances");
    json_object_begin(&j);
    json_key(&j, "train"), json_int(&j, s->utterances[0]);
    json_key(&j, "dev"), json_int(&j, s->utterances[1]);
    json_key(&j, "test"), json_int(&j, s->utterances[2]);
    json_object_end(&j);
    json_object_end(&j);
    json_object_end(&j);
    int rc = append(log, path, &j);
    json_free(&j);
    return rc;
}

/* "PREFIX_emotion_accuracy": ..., weighted and macro F1, then sentiment. */
static void metrics_fields(JsonOut *j, const char *prefix, const Metrics *emotion, const Metrics *sentiment, bool macro)
{
    const Metrics *m[2] = {emotion, sentiment};
    const char *task[2] = {"emotion", "sentiment"};
    char key[64];
    for (int t = 0; t < 2; t++) {
        snprintf(key, sizeof key, "%s_%s_accuracy", prefix, task[t]);
        json_key(j, key), json_fixed(j, m[t]->accuracy, 6);
        snprintf(key, sizeof key, "%s_%s_weighted_f1", prefix, task[t]);
        json_key(j, key), json_fixed(j, m[t]->weighted_f1, 6);
        if (!macro) continue;
        snprintf(key, sizeof key, "%s_%s_macro_f1", prefix, task[t]);
        json_key(j, key), json_fixed(j, m[t]->macro_f1, 6);
    }
}

int log_epoch(FILE *log, const char *path, EpochReport *e, long step, double utterances_per_s, char **buf)
{
    JsonOut j;
    json_init(&j);
    record_head(&j, "epoch");
    json_key(&j, "epoch"), json_int(&j, e->epoch);
    json_key(&j, "step"), json_int(&j, step);
    json_key(&j, "lr"), json_real(&j, e->lr, 7);
    json_key(&j, "train_loss"), json_fixed(&j, e->train_loss, 6);
    metrics_fields(&j, "train", &e->train_emotion, &e->train_sentiment, false);
    json_key(&j, "dev_loss"), json_fixed(&j, e->dev->loss, 6);
    metrics_fields(&j, "dev", &e->dev->emotion, &e->dev->sentiment, true);
    json_key(&j, "seconds"), json_fixed(&j, e->seconds, 3);
    json_key(&j, "utterances_per_s"), json_fixed(&j, utterances_per_s, 1);
    json_key(&j, "best"), json_bool(&j, e->best);
    json_object_end(&j);
    int rc = append(log, path, &j);
    if (rc == MELD_OK) {
        free(*buf);
        *buf = j.text;   /* the record stays readable for the callback */
        j.text = NULL;
        e->json = *buf;
    }
    json_free(&j);
    return rc;
}

int log_stop(FILE *log, const char *path, const char *reason, const char *message, int epoch, int epoch_step,
             int best_epoch, double best_score)
{
    JsonOut j;
    json_init(&j);
    record_head(&j, "stop");
    json_key(&j, "reason"), json_string(&j, reason);
    json_key(&j, "message"), json_string(&j, message);
    json_key(&j, "epoch"), json_int(&j, epoch);
    json_key(&j, "epoch_step"), json_int(&j, epoch_step);
    json_key(&j, "best_epoch"), json_int(&j, best_epoch);
    json_key(&j, "best_dev_score");
    if (best_epoch > 0) json_fixed(&j, best_score, 6);
    else json_null(&j);
    json_object_end(&j);
    int rc = append(log, path, &j);
    json_free(&j);
    return rc;
}
