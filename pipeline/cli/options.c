/* The option parser and the help generator (see options.h). */
#include "pipeline/cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/messages.h"
#include "pipeline/cli/version.h"

/* ---- finding an option ---------------------------------------------------- */

/* a[0..len) equals the whole of b */
static bool same(const char *a, size_t len, const char *b)
{
    return b && strlen(b) == len && !strncmp(a, b, len);
}

static int find_n(const CommandSpec *cmd, const char *name, size_t len)
{
    for (int k = 0; k < cmd->n_options; k++)
        if (same(name, len, cmd->options[k].name) || same(name, len, cmd->options[k].alias)) return k;
    return -1;
}

int options_find(const CommandSpec *cmd, const char *name)
{
    return find_n(cmd, name, strlen(name));
}

/* Optimal string alignment distance: Levenshtein plus the swap of two
 * neighbours at cost 1 ("--modle" is one edit from "--model"). Two rows of
 * the dynamic programme suffice, plus the one before for swaps. */
int options_edit_distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t m = strlen(a), n = strlen(b);
    if (m >= MAX || n >= MAX) return MAX;
    int d[3][MAX + 1];   /* rows i-2, i-1, i (mod 3) */
    for (size_t j = 0; j <= n; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= m; i++) {
        int *cur = d[i % 3], *up = d[(i - 1) % 3], *up2 = d[(i + 1) % 3];
        cur[0] = (int)i;
        for (size_t j = 1; j <= n; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = up[j - 1] + cost;
            if (up[j] + 1 < best) best = up[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && up2[j - 2] + 1 < best)
                best = up2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return d[m % 3][n];
}

/* A suggestion is close enough when it is at most two edits away and the
 * edits change less than half of the word ("--x" suggests nothing). */
static bool close_enough(const char *word, int dist)
{
    size_t len = strlen(word);
    while (len && *word == '-') word++, len--;
    return dist <= 2 && 2 * (size_t)dist < len;
}

/* The known spelling nearest to word, or NULL. */
static const char *nearest_option(const CommandSpec *cmd, const char *word)
{
    static const char *const builtin[] = {"--help", "--version"};
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int k = 0; k < cmd->n_options + 2; k++) {
        const char *names[2] = {k < cmd->n_options ? cmd->options[k].name : builtin[k - cmd->n_options],
                                k < cmd->n_options ? cmd->options[k].alias : NULL};
        for (int s = 0; s < 2; s++) {
            int d = names[s] ? options_edit_distance(word, names[s]) : 1 << 30;
            if (d < best_d) best_d = d, best = names[s];
        }
    }
    return best && close_enough(word, best_d) ? best : NULL;
}

/* ---- choices: the '|'-separated words of a metavar ------------------------- */

/* The index of value among the words, or -1. */
static int choice_index(const char *words, const char *value)
{
    size_t len = strlen(value);
    int k = 0;
    for (const char *w = words; w; k++) {
        const char *bar = strchr(w, '|');
        size_t wl = bar ? (size_t)(bar - w) : strlen(w);
        if (wl == len && !strncmp(w, value, len)) return k;
        w = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* Word k of the list into buf. */
static const char *choice_word(const char *words, int k, char *buf, size_t cap)
{
    const char *w = words;
    for (; k > 0 && w; k--) w = strchr(w, '|') ? strchr(w, '|') + 1 : NULL;
    if (!w) return "";
    const char *bar = strchr(w, '|');
    snprintf(buf, cap, "%.*s", (int)(bar ? (size_t)(bar - w) : strlen(w)), w);
    return buf;
}

static int choice_count(const char *words)
{
    int n = 1;
    for (const char *c = words; *c; c++) n += *c == '|';
    return n;
}

/* "a, b or c" */
static void choice_list(const char *words, char *buf, size_t cap)
{
    int n = choice_count(words);
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && used < cap; k++) {
        char w[64];
        int wrote = snprintf(buf + used, cap - used, "%s%s", k == 0 ? "" : k == n - 1 ? " or " : ", ",
                             choice_word(words, k, w, sizeof w));
        used += wrote > 0 ? (size_t)wrote : 0;
    }
}

/* ---- values ------------------------------------------------------------- */

/* Digits with an optional sign, nothing before or after (strtol would skip
 * leading blanks and stop at "e23"). */
static bool integer_text(const char *t, bool sign_ok)
{
    if (sign_ok && (*t == '-' || *t == '+')) t++;
    if (!*t) return false;
    for (; *t; t++)
        if (*t < '0' || *t > '9') return false;
    return true;
}

/* A number strtod reads whole, starting with a digit, a point or a sign
 * (no leading blanks, no "nan" or "inf"). */
static bool real_text(const char *t, double *v)
{
    char *end;
    if (!(*t == '-' || *t == '+' || *t == '.' || (*t >= '0' && *t <= '9'))) return false;
    errno = 0;
    *v = strtod(t, &end);
    return end != t && !*end && !errno && isfinite(*v);
}

static int bad_value(const char *cmd, const Option *o, const char *text)
{
    char range[96];
    if (o->type == OPT_INT)
        snprintf(range, sizeof range, "an integer in [%.0f, %.0f]", o->lo, o->hi);
    else if (o->type == OPT_U64 && o->hi > 0)
        snprintf(range, sizeof range, "a non-negative integer in [%.0f, %.0f]", o->lo, o->hi);
    else if (o->type == OPT_U64)
        snprintf(range, sizeof range, "a non-negative integer below 2^64");
    else
        snprintf(range, sizeof range, "a number in [%g, %g]", o->lo, o->hi);
    cli_errorf(cmd, "%s expects %s, got '%s'", o->name, range, text);
    return OPTIONS_USAGE;
}

static int bad_choice(const char *cmd, const Option *o, const char *text)
{
    char list[256], word[64];
    choice_list(o->metavar, list, sizeof list);
    int best = -1, best_d = 1 << 30;
    for (int k = 0; k < choice_count(o->metavar); k++) {
        int d = options_edit_distance(text, choice_word(o->metavar, k, word, sizeof word));
        if (d < best_d) best_d = d, best = k;
    }
    bool near = best >= 0 && close_enough(text, best_d);
    cli_errorf(cmd, "unknown %s '%s' (%s)%s%s%s", o->name, text, list, near ? "; did you mean " : "",
               near ? choice_word(o->metavar, best, word, sizeof word) : "", near ? "?" : "");
    return OPTIONS_USAGE;
}

/* Stores text as o's value in args. */
static int store(const char *cmd, const Option *o, const char *text, void *args)
{
    char *field = (char *)args + o->field;
    double real;
    switch (o->type) {
    case OPT_FLAG:
        *(bool *)field = true;
        return OPTIONS_OK;
    case OPT_CHOICE:
        if (choice_index(o->metavar, text) < 0) return bad_choice(cmd, o, text);
        *(const char **)field = text;
        return OPTIONS_OK;
    case OPT_TEXT:
        *(const char **)field = text;
        return OPTIONS_OK;
    case OPT_INT: {
        errno = 0;
        long long v = integer_text(text, true) ? strtoll(text, NULL, 10) : 0;
        if (!integer_text(text, true) || errno || v < o->lo || v > o->hi) return bad_value(cmd, o, text);
        *(int *)field = (int)v;
        return OPTIONS_OK;
    }
    case OPT_U64: {
        errno = 0;
        unsigned long long v = integer_text(text, false) ? strtoull(text, NULL, 10) : 0;
        if (!integer_text(text, false) || errno || (double)v < o->lo || (o->hi > 0 && (double)v > o->hi))
            return bad_value(cmd, o, text);
        *(uint64_t *)field = (uint64_t)v;
        return OPTIONS_OK;
    }
    case OPT_REAL:
        if (!real_text(text, &real) || !(real >= o->lo && real <= o->hi)) return bad_value(cmd, o, text);
        *(float *)field = (float)real;
        return OPTIONS_OK;
    }
    return OPTIONS_USAGE;
}

/* ---- the parser -------------------------------------------------------- */

static int unknown_option(const CommandSpec *cmd, const char *arg, size_t len)
{
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)len, arg);
    const char *near = nearest_option(cmd, word);
    cli_errorf(cmd->name, "unknown option '%s'%s%s%s", word, near ? " (did you mean " : "", near ? near : "",
               near ? "?)" : "");
    return OPTIONS_USAGE;
}

/* An argument that is an option, not a value: "--x", "-x" (not "-" nor a
 * negative number). */
static bool looks_like_option(const char *a)
{
    return a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.';
}

/* The variants an option applies to, "a, b" (sep ", ") or "a/b". */
static void variant_words(const Option *vo, unsigned only, const char *sep, char *buf, size_t cap)
{
    char word[64];
    size_t used = 0;
    buf[0] = '\0';
    for (int w = 0; w < choice_count(vo->metavar) && used < cap; w++) {
        if (!(only >> w & 1u)) continue;
        int n = snprintf(buf + used, cap - used, "%s%s", used ? sep : "", choice_word(vo->metavar, w, word, sizeof word));
        used += n > 0 ? (size_t)n : 0;
    }
}

/* Every given option that does not apply to the chosen variant. */
static int check_variant(const CommandSpec *cmd, const void *args, const bool *given, int *variant)
{
    const Option *vo = &cmd->options[options_find(cmd, cmd->variant_option)];
    const char *chosen = *(const char *const *)((const char *)args + vo->field);
    int v = chosen ? choice_index(vo->metavar, chosen) : -1;
    *variant = v < 0 ? 0 : v;
    if (v < 0) return OPTIONS_OK;   /* no variant chosen: the command says what is missing */
    for (int k = 0; k < cmd->n_options; k++) {
        const Option *o = &cmd->options[k];
        if (!given[k] || !o->only || (o->only >> *variant & 1u)) continue;
        char list[256];
        variant_words(vo, o->only, ", ", list, sizeof list);
        cli_errorf(cmd->name, "%s does not apply to %s %s (only to %s)", o->name, vo->name, chosen, list);
        return OPTIONS_USAGE;
    }
    return OPTIONS_OK;
}

/* The positional arguments argv[1 .. 1+n) into their fields. */
static int place_positionals(const CommandSpec *cmd, char **pos, int n, void *args, const bool *given)
{
    int used = 0;
    for (int p = 0; p < cmd->n_positionals && used < n; p++) {
        const Positional *ps = &cmd->positionals[p];
        char *field = (char *)args + ps->field;
        if (ps->variadic) {
            *(OptList *)field = (OptList){pos + used, n - used};
            used = n;
            break;
        }
        int k = ps->same_as ? options_find(cmd, ps->same_as) : -1;
        if (k >= 0 && given[k]) {
            cli_errorf(cmd->name, "both %s '%s' and %s '%s' given: one only", ps->same_as,
                       *(const char *const *)((const char *)args + cmd->options[k].field), ps->metavar, pos[used]);
            return OPTIONS_USAGE;
        }
        *(const char **)field = pos[used++];
    }
    if (used < n) {
        cli_errorf(cmd->name, "unexpected argument '%s'", pos[used]);
        return OPTIONS_USAGE;
    }
    return OPTIONS_OK;
}

static int parse_args(const CommandSpec *cmd, int argc, char **argv, void *args, bool *given, int *n_pos)
{
    bool only_positional = false;
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || !looks_like_option(a)) {
            argv[1 + (*n_pos)++] = a;   /* never ahead of i: safe in place */
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        int k = find_n(cmd, a, len);
        if (k < 0) return unknown_option(cmd, a, len);
        const Option *o = &cmd->options[k];
        const char *value = eq ? eq + 1 : NULL;
        if (o->type == OPT_FLAG && value) {
            cli_errorf(cmd->name, "%s takes no value (got '%s')", o->name, a);
            return OPTIONS_USAGE;
        }
        if (o->type != OPT_FLAG && !value) {
            if (i + 1 >= argc || looks_like_option(argv[i + 1])) {
                fprintf(stderr, "meld %s: %s needs a value\n", cmd->name, o->name);
                return OPTIONS_USAGE;
            }
            value = argv[++i];
        }
        int rc = store(cmd->name, o, value, args);
        if (rc) return rc;
        given[k] = true;
    }
    return OPTIONS_OK;
}

int options_parse(const CommandSpec *cmd, int argc, char **argv, void *args, int *variant)
{
    int v = 0;
    for (int k = 0; k < cmd->n_options; k++) {
        const Option *o = &cmd->options[k];
        if (o->def && store(cmd->name, o, o->def, args)) return OPTIONS_USAGE;   /* a wrong table */
    }
    /* --help and --version first: the help shows the defaults untouched. */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            options_help(cmd, args, stdout);
            return OPTIONS_DONE;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("%s\n", meld_version_string());
            return OPTIONS_DONE;
        }
    }
    bool *given = calloc((size_t)cmd->n_options + 1, sizeof *given);
    if (!given) {
        fprintf(stderr, "meld %s: out of memory\n", cmd->name);
        return OPTIONS_USAGE;
    }
    int n_pos, rc = parse_args(cmd, argc, argv, args, given, &n_pos);
    if (!rc) rc = place_positionals(cmd, argv + 1, n_pos, args, given);
    if (!rc && cmd->variant_option) rc = check_variant(cmd, args, given, &v);
    free(given);
    if (variant) *variant = v;
    return rc;
}

/* ---- help --------------------------------------------------------------- */

enum { HELP_WIDTH = 79, HELP_COLUMN = 26 };

/* Prints text word by word from column col, wrapping to `indent`. */
static void wrap(FILE *out, int col, int indent, const char *text)
{
    const char *w = text;
    while (*w) {
        while (*w == ' ') w++;
        size_t len = strcspn(w, " ");
        if (!len) break;
        if (col > indent && col + 1 + (int)len > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)len, w);
        col += (int)len;
        w += len;
    }
    fputc('\n', out);
}

static void help_line(FILE *out, const char *left, const char *text)
{
    int col = fprintf(out, "  %s", left);
    if (col + 2 > HELP_COLUMN) {
        fputc('\n', out);
        col = 0;
    }
    fprintf(out, "%*s", HELP_COLUMN - col, "");
    wrap(out, HELP_COLUMN, HELP_COLUMN, text);
}

/* The default as --help shows it (see Option.def); "" when unknown. */
static void default_text(const Option *o, const void *args, char *buf, size_t cap)
{
    const char *f = (const char *)args + o->field;
    buf[0] = '\0';
    if (o->def_fn) o->def_fn(buf, cap);
    else if (o->def_text) snprintf(buf, cap, "%s", o->def_text);
    else if (o->type == OPT_FLAG) snprintf(buf, cap, "%s", *(const bool *)f ? "on" : "off");
    else if (o->type == OPT_INT) snprintf(buf, cap, "%d", *(const int *)f);
    else if (o->type == OPT_U64) snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)f);
    else if (o->type == OPT_REAL) snprintf(buf, cap, "%g", (double)*(const float *)f);
    else if (*(const char *const *)f) snprintf(buf, cap, "%s", *(const char *const *)f);
}

/* "help (--model fusion only; default: X)" */
static void option_text(const CommandSpec *cmd, const Option *o, const void *args, char *buf, size_t cap)
{
    char def[256], only[160] = "";
    default_text(o, args, def, sizeof def);
    if (o->only && cmd->variant_option) {
        const Option *vo = &cmd->options[options_find(cmd, cmd->variant_option)];
        char list[128];
        variant_words(vo, o->only, "/", list, sizeof list);
        snprintf(only, sizeof only, "%s %s only", vo->name, list);
    }
    if (!only[0] && !def[0]) snprintf(buf, cap, "%s", o->help);
    else snprintf(buf, cap, "%s (%s%s%s%s)", o->help, only, only[0] && def[0] ? "; " : "", def[0] ? "default: " : "", def);
}

void options_help(const CommandSpec *cmd, const void *args, FILE *out)
{
    fprintf(out, "usage: meld %s%s", cmd->name, cmd->n_options ? " [OPTIONS]" : "");
    for (int p = 0; p < cmd->n_positionals; p++)
        fprintf(out, " %s%s", cmd->positionals[p].metavar, cmd->positionals[p].variadic ? "..." : "");
    fprintf(out, "\n\n");
    if (cmd->about) fprintf(out, "%s\n", cmd->about);
    if (cmd->n_positionals) fprintf(out, "arguments:\n");
    for (int p = 0; p < cmd->n_positionals; p++) {
        const Positional *ps = &cmd->positionals[p];
        char text[512];
        snprintf(text, sizeof text, "%s%s%s%s", ps->help, ps->same_as ? " (or " : "",
                 ps->same_as ? ps->same_as : "", ps->same_as ? ")" : "");
        help_line(out, ps->metavar, text);
    }
    fprintf(out, "%soptions:\n", cmd->n_positionals ? "\n" : "");
    for (int k = 0; k < cmd->n_options; k++) {
        const Option *o = &cmd->options[k];
        char left[160], text[768];
        const char *mv = o->type == OPT_FLAG ? "" : o->metavar;
        snprintf(left, sizeof left, "%s%s%s%s%s%s%s", o->name, mv[0] ? " " : "", mv, o->alias ? ", " : "",
                 o->alias ? o->alias : "", o->alias && mv[0] ? " " : "", o->alias ? mv : "");
        option_text(cmd, o, args, text, sizeof text);
        help_line(out, left, text);
    }
    help_line(out, "-h, --help", "this help");
    help_line(out, "--version", "the program's version");
}
