/* Learning-rate schedules; the formulas are in schedule.h. */
#include "optim/schedule.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *const KIND_NAMES[] = {"constant", "step", "cosine", "plateau"};
enum { N_KIND_NAMES = sizeof KIND_NAMES / sizeof KIND_NAMES[0] };
_Static_assert(N_KIND_NAMES == SCHEDULE_PLATEAU + 1, "one name per ScheduleKind");

/* ---- settings by name ---- */

typedef enum { F_DOUBLE, F_INT, F_MODE, F_THRESHOLD_MODE } FieldType;

typedef struct {
    ScheduleKind kind;
    const char *key;
    size_t offset; /* into Schedule */
    FieldType type;
} Field;

static const Field FIELDS[] = {
    {SCHEDULE_STEP, "step_size", offsetof(Schedule, step_size), F_INT},
    {SCHEDULE_STEP, "gamma", offsetof(Schedule, gamma), F_DOUBLE},
    {SCHEDULE_COSINE, "t_max", offsetof(Schedule, t_max), F_INT},
    {SCHEDULE_COSINE, "eta_min", offsetof(Schedule, eta_min), F_DOUBLE},
    {SCHEDULE_PLATEAU, "mode", offsetof(Schedule, mode_max), F_MODE},
    {SCHEDULE_PLATEAU, "factor", offsetof(Schedule, factor), F_DOUBLE},
    {SCHEDULE_PLATEAU, "patience", offsetof(Schedule, patience), F_INT},
    {SCHEDULE_PLATEAU, "threshold", offsetof(Schedule, threshold), F_DOUBLE},
    {SCHEDULE_PLATEAU, "threshold_mode", offsetof(Schedule, threshold_abs), F_THRESHOLD_MODE},
    {SCHEDULE_PLATEAU, "cooldown", offsetof(Schedule, cooldown), F_INT},
    {SCHEDULE_PLATEAU, "min_lr", offsetof(Schedule, min_lr), F_DOUBLE},
    {SCHEDULE_PLATEAU, "eps", offsetof(Schedule, eps), F_DOUBLE},
};
enum { N_FIELDS = sizeof FIELDS / sizeof FIELDS[0] };

/* Parses a finite number; for an int field also whole and within int. */
static int parse_number(const char *text, int whole, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (!*text || *end || !isfinite(v)) return MELD_ERR;
    if (whole && (v != floor(v) || fabs(v) > 2147483647.0)) return MELD_ERR;
    *out = v;
    return MELD_OK;
}

static int set_field(Schedule *s, const Field *f, const char *text)
{
    void *p = (char *)s + f->offset;
    double v;
    switch (f->type) {
    case F_MODE:
    case F_THRESHOLD_MODE: {
        const char *no = f->type == F_MODE ? "min" : "rel", *yes = f->type == F_MODE ? "max" : "abs";
        if (strcmp(text, no) && strcmp(text, yes))
            return meld_errorf("schedule: %s must be %s or %s, not '%s'", f->key, no, yes, text);
        *(int *)p = !strcmp(text, yes);
        return MELD_OK;
    }
    case F_INT:
        if (parse_number(text, 1, &v))
            return meld_errorf("schedule: %s needs an integer, not '%s'", f->key, text);
        *(int *)p = (int)v;
        return MELD_OK;
    case F_DOUBLE:
        if (parse_number(text, 0, &v)) return meld_errorf("schedule: bad value '%s' for %s", text, f->key);
        *(double *)p = v;
        return MELD_OK;
    }
    return MELD_ERR;
}

/* Calls fn(ctx, key, value) for each "key=value" of a comma-separated list. */
static int for_each_item(const char *list, const char *what, int (*fn)(void *, const char *, const char *),
                         void *ctx)
{
    while (*list) {
        size_t len = strcspn(list, ",");
        char item[128];
        if (len >= sizeof item) return meld_errorf("%s: item too long", what);
        memcpy(item, list, len);
        item[len] = '\0';
        char *eq = strchr(item, '=');
        if (!eq) return meld_errorf("%s: expected key=value, got '%s'", what, item);
        *eq = '\0';
        if (fn(ctx, item, eq + 1)) return MELD_ERR;
        list += len;
        list += *list == ',';
    }
    return MELD_OK;
}

static int apply_setting(void *ctx, const char *key, const char *value)
{
    Schedule *s = ctx;
    for (int i = 0; i < N_FIELDS; i++)
        if (FIELDS[i].kind == s->kind && !strcmp(FIELDS[i].key, key)) return set_field(s, &FIELDS[i], value);
    return meld_errorf("schedule: %s has no setting '%s'", KIND_NAMES[s->kind], key);
}

static int check_settings(const Schedule *s)
{
    if (!(s->base_lr >= 0) || !isfinite(s->base_lr))
        return meld_errorf("schedule: base lr %g must be finite and >= 0", s->base_lr);
    switch (s->kind) {
    case SCHEDULE_STEP:
        if (s->step_size <= 0) return meld_errorf("schedule: step needs step_size > 0");
        break;
    case SCHEDULE_COSINE:
        if (s->t_max <= 0) return meld_errorf("schedule: cosine needs t_max > 0");
        break;
    case SCHEDULE_PLATEAU:
        if (!(s->factor > 0 && s->factor < 1))
            return meld_errorf("schedule: factor %g must be in (0, 1)", s->factor);
        if (s->patience < 0 || s->cooldown < 0)
            return meld_errorf("schedule: patience and cooldown must be >= 0");
        if (!(s->threshold >= 0 && s->min_lr >= 0 && s->eps >= 0))
            return meld_errorf("schedule: threshold, min_lr and eps must be >= 0");
        break;
    case SCHEDULE_CONSTANT:
        break;
    }
    return MELD_OK;
}

int schedule_init(Schedule *s, const char *spec, double base_lr)
{
    memset(s, 0, sizeof *s);
    size_t klen = strcspn(spec, ":");
    int kind = -1;
    for (int i = 0; i < N_KIND_NAMES; i++)
        if (strlen(KIND_NAMES[i]) == klen && !strncmp(KIND_NAMES[i], spec, klen)) kind = i;
    if (kind < 0)
        return meld_errorf("schedule: unknown kind '%.*s' (known: constant step cosine plateau)", (int)klen,
                           spec);
    /* PyTorch's defaults; step_size and t_max have none (0 fails the check). */
    s->kind = (ScheduleKind)kind;
    s->gamma = 0.1;
    s->factor = 0.1;
    s->patience = 10;
    s->threshold = 1e-4;
    s->eps = 1e-8;
    s->base_lr = base_lr;
    if (spec[klen] == ':' && for_each_item(spec + klen + 1, "schedule", apply_setting, s)) return MELD_ERR;
    if (check_settings(s)) return MELD_ERR;
    s->lr = base_lr;
    s->best = s->mode_max ? -INFINITY : INFINITY;
    return MELD_OK;
}

/* One setting's value as text (exact for doubles). */
static void field_text(const Schedule *s, const Field *f, char *out, size_t cap)
{
    const void *p = (const char *)s + f->offset;
    switch (f->type) {
    case F_DOUBLE: snprintf(out, cap, "%.17g", *(const double *)p); break;
    case F_INT: snprintf(out, cap, "%d", *(const int *)p); break;
    case F_MODE: snprintf(out, cap, "%s", *(const int *)p ? "max" : "min"); break;
    case F_THRESHOLD_MODE: snprintf(out, cap, "%s", *(const int *)p ? "abs" : "rel"); break;
    }
}

int schedule_format(const Schedule *s, char *buf, size_t cap)
{
    size_t at = (size_t)snprintf(buf, cap, "%s", KIND_NAMES[s->kind]);
    int first = 1;
    for (int i = 0; i < N_FIELDS && at < cap; i++) {
        if (FIELDS[i].kind != s->kind) continue;
        char value[64];
        field_text(s, &FIELDS[i], value, sizeof value);
        at += (size_t)snprintf(buf + at, cap - at, "%s%s=%s", first ? ":" : ",", FIELDS[i].key, value);
        first = 0;
    }
    if (at >= cap) return meld_errorf("schedule: spec longer than %zu bytes", cap);
    return MELD_OK;
}

/* ---- stepping ---- */

static int plateau_improved(const Schedule *s, double metric)
{
    if (s->mode_max)
        return s->threshold_abs ? metric > s->best + s->threshold : metric > s->best * (1 + s->threshold);
    return s->threshold_abs ? metric < s->best - s->threshold : metric < s->best * (1 - s->threshold);
}

/* ReduceLROnPlateau.step: a NaN metric never improves, so it counts as bad. */
static void plateau_step(Schedule *s, double metric)
{
    if (plateau_improved(s, metric)) {
        s->best = metric;
        s->num_bad_epochs = 0;
    } else {
        s->num_bad_epochs++;
    }
    if (s->cooldown_left > 0) {
        s->cooldown_left--;
        s->num_bad_epochs = 0; /* bad epochs during cooldown do not count */
    }
    if (s->num_bad_epochs > s->patience) {
        const double reduced = fmax(s->lr * s->factor, s->min_lr);
        if (s->lr - reduced > s->eps) s->lr = reduced;
        s->cooldown_left = s->cooldown;
        s->num_bad_epochs = 0;
    }
}

double schedule_step(Schedule *s, double metric)
{
    s->epoch++;
    switch (s->kind) {
    case SCHEDULE_CONSTANT:
        s->lr = s->base_lr;
        break;
    case SCHEDULE_STEP:
        s->lr = s->base_lr * pow(s->gamma, (double)(s->epoch / s->step_size));
        break;
    case SCHEDULE_COSINE:
        s->lr = s->eta_min + (s->base_lr - s->eta_min) * (1 + cos(s->epoch * M_PI / s->t_max)) / 2;
        break;
    case SCHEDULE_PLATEAU:
        plateau_step(s, metric);
        break;
    }
    return s->lr;
}

/* ---- checkpoints ---- */

/* The state that schedule_step changes, plus base_lr (not in the spec). */
static const struct {
    const char *key;
    size_t offset;
    int is_count; /* int field; else double */
} STATE[] = {
    {"base_lr", offsetof(Schedule, base_lr), 0},
    {"epoch", offsetof(Schedule, epoch), 1},
    {"lr", offsetof(Schedule, lr), 0},
    {"best", offsetof(Schedule, best), 0},
    {"num_bad_epochs", offsetof(Schedule, num_bad_epochs), 1},
    {"cooldown_left", offsetof(Schedule, cooldown_left), 1},
};
enum { N_STATE = sizeof STATE / sizeof STATE[0] };

int schedule_export(const Schedule *s, SafeTensors *st)
{
    char spec[512], state[512];
    if (schedule_format(s, spec, sizeof spec)) return MELD_ERR;
    size_t at = 0;
    for (int i = 0; i < N_STATE && at < sizeof state; i++) {
        const void *p = (const char *)s + STATE[i].offset;
        char value[64];
        if (STATE[i].is_count) snprintf(value, sizeof value, "%d", *(const int *)p);
        else snprintf(value, sizeof value, "%.17g", *(const double *)p);
        at += (size_t)snprintf(state + at, sizeof state - at, "%s%s=%s", i ? "," : "", STATE[i].key, value);
    }
    if (st_set_meta(st, "schedule", spec) || st_set_meta(st, "schedule.state", state)) return MELD_ERR;
    return MELD_OK;
}

typedef struct {
    Schedule *s;
    unsigned seen; /* one bit per STATE entry */
} StateReader;

static int apply_state(void *ctx, const char *key, const char *value)
{
    StateReader *r = ctx;
    for (int i = 0; i < N_STATE; i++) {
        if (strcmp(STATE[i].key, key)) continue;
        char *end;
        double v = strtod(value, &end);
        /* best is legitimately +-inf before the first plateau step. */
        int ok = *value && !*end && !isnan(v) && (isfinite(v) || !strcmp(key, "best"));
        if (ok && STATE[i].is_count) ok = v == floor(v) && v >= 0 && v <= 2147483647.0;
        if (!ok) return meld_errorf("schedule.state: bad value '%s' for %s", value, key);
        void *p = (char *)r->s + STATE[i].offset;
        if (STATE[i].is_count) *(int *)p = (int)v;
        else *(double *)p = v;
        r->seen |= 1u << i;
        return MELD_OK;
    }
    return meld_errorf("schedule.state: unknown key '%s'", key);
}

int schedule_import(Schedule *s, const SafeTensors *st)
{
    const char *src = st->source[0] ? st->source : "checkpoint";
    const char *spec = st_get_meta(st, "schedule"), *state = st_get_meta(st, "schedule.state");
    if (!spec || !state) return meld_errorf("%s: no schedule (metadata schedule/schedule.state)", src);
    Schedule tmp;
    StateReader r = {&tmp, 0};
    tmp.base_lr = 0;
    /* The state first, for base_lr; then the spec, then the state again over
     * the fresh settings. */
    if (for_each_item(state, "schedule.state", apply_state, &r)) return meld_error_context("%s", src);
    if (r.seen != (1u << N_STATE) - 1)
        return meld_errorf("%s: schedule.state misses a key: '%s'", src, state);
    if (schedule_init(&tmp, spec, tmp.base_lr)) return meld_error_context("%s", src);
    if (for_each_item(state, "schedule.state", apply_state, &r)) return meld_error_context("%s", src);
    *s = tmp;
    return MELD_OK;
}
