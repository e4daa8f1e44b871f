/* The option tables of ./meld (pipeline/cli/options.h): the parser on a
 * table of its own (every kind of value, `--flag=value`, aliases, `--`,
 * positional arguments, the one-line errors and their suggestions), then
 * every command's real table walked: its defaults parse, every range is
 * enforced, every option restricted to some models is refused for the
 * others, and `meld CMD --help` lists every option with its default
 * (needs MELD_BIN, which make test sets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/version.h"
#include "pipeline/models/models.h"

/* ---- running the parser --------------------------------------------------- */

static char err[4096];

/* Parses the space-separated words of line (the command's name first) into
 * args; stderr is captured into err. Returns options_parse's result. */
static int parse(const CommandSpec *cmd, void *args, int *variant, const char *line)
{
    static char buf[1024];
    char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *w = strtok(buf, " "); w && argc < 63; w = strtok(NULL, " ")) argv[argc++] = w;
    argv[argc] = NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = options_parse(cmd, argc, argv, args, variant);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, sizeof err - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return rc;
}

static void expect_err(const char *what)
{
    if (!strstr(err, what)) fail_msg("expected '%s' in the error, got: %s", what, err);
}

/* ---- a table of every kind ------------------------------------------------- */

typedef struct {
    const char *name, *shape, *model;
    int count;
    uint64_t seed;
    float rate;
    bool loud;
    OptList rest;
} ToyArgs;

#define A(f, T) OPT_AT(ToyArgs, f, T)
static const Option TOY_OPTIONS[] = {
    {"--name", OPT_TEXT, A(name, const char *), "NAME", .help = "a name", .def = "anon"},
    {"--shape", OPT_CHOICE, A(shape, const char *), "round|square|triangle", .help = "a shape", .def = "round"},
    {"--model", OPT_CHOICE, A(model, const char *), "small|large", .help = "the variant", .def = "small"},
    {"--count", OPT_INT, A(count, int), "N", .help = "a count", .alias = "--number", .lo = 1, .hi = 10, .def = "3"},
    {"--seed", OPT_U64, A(seed, uint64_t), "S", .help = "a seed"},
    {"--rate", OPT_REAL, A(rate, float), "X", .help = "a rate", .lo = 1e-3, .hi = 2},
    {"--loud", OPT_FLAG, A(loud, bool), .help = "louder", .only = 1u << 1},
};
static const Positional TOY_POSITIONALS[] = {
    {"FILE", A(name, const char *), .help = "a file, or --name", .same_as = "--name"},
    {"MORE", A(rest, OptList), .help = "more files", .variadic = true},
};
#undef A

static const CommandSpec TOY = {
    .name = "toy", .summary = "a test command", .options = TOY_OPTIONS, .n_options = OPT_COUNT(TOY_OPTIONS),
    .positionals = TOY_POSITIONALS, .n_positionals = 1, .variant_option = "--model", .args_size = sizeof(ToyArgs),
};

static void values_defaults_and_spellings(void **state)
{
    (void)state;
    ToyArgs a = {0};
    int v = -1;
    assert_int_equal(parse(&TOY, &a, &v, "toy"), OPTIONS_OK);
    assert_string_equal(a.name, "anon");
    assert_string_equal(a.shape, "round");
    assert_int_equal(a.count, 3);
    assert_int_equal(v, 0);
    memset(&a, 0, sizeof a);
    assert_int_equal(parse(&TOY, &a, &v, "toy --count=7 --shape square --seed=18446744073709551615 --rate 0.5 "
                                         "--model=large --loud --name=a=b"),
                     OPTIONS_OK);
    assert_int_equal(a.count, 7);
    assert_string_equal(a.shape, "square");
    assert_true(a.seed == UINT64_MAX);
    assert_true(a.rate == 0.5f);
    assert_true(a.loud);
    assert_int_equal(v, 1);
    assert_string_equal(a.name, "a=b");   /* only the first '=' splits */
    assert_int_equal(parse(&TOY, &a, NULL, "toy --number 9"), OPTIONS_OK);
    assert_int_equal(a.count, 9);
    assert_int_equal(parse(&TOY, &a, NULL, "toy --count 2 --count 4"), OPTIONS_OK);   /* the last wins */
    assert_int_equal(a.count, 4);
}

static void positionals_and_the_separator(void **state)
{
    (void)state;
    ToyArgs a = {0};
    assert_int_equal(parse(&TOY, &a, NULL, "toy f.wav --count 2"), OPTIONS_OK);
    assert_string_equal(a.name, "f.wav");
    memset(&a, 0, sizeof a);
    assert_int_equal(parse(&TOY, &a, NULL, "toy --count 2 -- --loud"), OPTIONS_OK);
    assert_string_equal(a.name, "--loud");   /* after --, an argument */
    assert_false(a.loud);
    memset(&a, 0, sizeof a);
    assert_int_equal(parse(&TOY, &a, NULL, "toy f.wav g.wav"), OPTIONS_USAGE);
    expect_err("meld toy: unexpected argument 'g.wav'");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --name x f.wav"), OPTIONS_USAGE);
    expect_err("both --name 'x' and FILE 'f.wav' given");
    /* a variadic last argument takes the rest, options still anywhere */
    CommandSpec two = TOY;
    two.n_positionals = 2;
    memset(&a, 0, sizeof a);
    assert_int_equal(parse(&two, &a, NULL, "toy a b --count 5 c -- --d"), OPTIONS_OK);
    assert_string_equal(a.name, "a");
    assert_int_equal(a.rest.n, 3);
    assert_string_equal(a.rest.items[0], "b");
    assert_string_equal(a.rest.items[1], "c");
    assert_string_equal(a.rest.items[2], "--d");
    assert_int_equal(a.count, 5);
}

static void numbers_are_strict(void **state)
{
    (void)state;
    ToyArgs a = {0};
    static const char *const bad[] = {
        "--count 0", "--count 11", "--count 1e1", "--count 3.0", "--count 0x3", "--count=", "--count= 3",
        "--count 99999999999999999999", "--seed 1e23", "--seed -4", "--seed 18446744073709551616",
        "--seed +-1", "--rate 0", "--rate 3", "--rate nan", "--rate inf", "--rate 1x", "--rate=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "toy %s", bad[i]);
        if (parse(&TOY, &a, NULL, line) != OPTIONS_USAGE) fail_msg("'%s' was accepted", line);
        expect_err("expects");
    }
    assert_int_equal(parse(&TOY, &a, NULL, "toy --count 1e1"), OPTIONS_USAGE);
    expect_err("meld toy: --count expects an integer in [1, 10], got '1e1'");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --rate 1e-3 --count +10"), OPTIONS_OK);
    assert_true(a.rate == 1e-3f);
    assert_int_equal(a.count, 10);
}

static void errors_are_one_clear_line(void **state)
{
    (void)state;
    ToyArgs a = {0};
    assert_int_equal(parse(&TOY, &a, NULL, "toy --cuont 3"), OPTIONS_USAGE);
    expect_err("meld toy: unknown option '--cuont' (did you mean --count?)\n");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --nmber=3"), OPTIONS_USAGE);
    expect_err("unknown option '--nmber' (did you mean --number?)");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --frobnicate"), OPTIONS_USAGE);
    expect_err("meld toy: unknown option '--frobnicate'\n");   /* nothing close: no suggestion */
    assert_int_equal(parse(&TOY, &a, NULL, "toy --verison"), OPTIONS_USAGE);
    expect_err("did you mean --version?");
    assert_int_equal(parse(&TOY, &a, NULL, "toy -x"), OPTIONS_USAGE);
    expect_err("unknown option '-x'");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --count"), OPTIONS_USAGE);
    expect_err("meld toy: --count needs a value\n");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --name --loud"), OPTIONS_USAGE);
    expect_err("--name needs a value");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --loud=yes"), OPTIONS_USAGE);
    expect_err("--loud takes no value");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --shape sqaure"), OPTIONS_USAGE);
    expect_err("meld toy: unknown --shape 'sqaure' (round, square or triangle); did you mean square?\n");
    assert_int_equal(parse(&TOY, &a, NULL, "toy --shape hexagon"), OPTIONS_USAGE);
    assert_null(strstr(err, "did you mean"));
    assert_int_equal(parse(&TOY, &a, NULL, "toy --loud"), OPTIONS_USAGE);
    expect_err("meld toy: --loud does not apply to --model small (only to large)\n");
    for (const char *c = err; *c; c++)
        if (*c == '\n' && c[1]) fail_msg("more than one line: %s", err);
}

static void edit_distance(void **state)
{
    (void)state;
    assert_int_equal(options_edit_distance("", ""), 0);
    assert_int_equal(options_edit_distance("batch", ""), 5);
    assert_int_equal(options_edit_distance("--bach", "--batch"), 1);
    assert_int_equal(options_edit_distance("--modle", "--model"), 1);    /* a swap */
    assert_int_equal(options_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(options_edit_distance("ca", "abc"), 3);             /* optimal string alignment */
}

/* ---- the real tables -------------------------------------------------------- */

/* A value option o accepts (its lower bound, first choice, some text). */
static void valid_value(const Option *o, char *buf, size_t cap)
{
    if (o->type == OPT_INT || o->type == OPT_U64) snprintf(buf, cap, "%.0f", o->lo);
    else if (o->type == OPT_REAL) snprintf(buf, cap, "%.17g", o->lo);
    else if (o->type == OPT_CHOICE) snprintf(buf, cap, "%.*s", (int)strcspn(o->metavar, "|"), o->metavar);
    else snprintf(buf, cap, "x");
}

static void tables_are_well_formed(void **state)
{
    (void)state;
    for (int c = 0; c < CLI_N_COMMANDS; c++) {
        const CommandSpec *cmd = CLI_COMMANDS[c];
        assert_non_null(cmd->run);
        assert_non_null(cmd->summary);
        for (int k = 0; k < cmd->n_options; k++) {
            const Option *o = &cmd->options[k];
            if (strncmp(o->name, "--", 2)) fail_msg("%s %s: not a long option", cmd->name, o->name);
            assert_non_null(o->help);
            if ((o->type == OPT_FLAG) != (o->metavar == NULL)) fail_msg("%s %s: metavar", cmd->name, o->name);
            if ((o->type == OPT_INT || o->type == OPT_REAL) && !(o->lo <= o->hi))
                fail_msg("%s %s: empty range", cmd->name, o->name);
            /* every spelling once, and none shadows --help / --version */
            for (int j = 0; j < cmd->n_options; j++) {
                const char *names[2] = {cmd->options[j].name, cmd->options[j].alias};
                for (int s = 0; s < 2; s++)
                    if (names[s] && (j != k || s == 1) && (!strcmp(names[s], o->name)))
                        fail_msg("%s: %s spelled twice", cmd->name, o->name);
            }
            if (!strcmp(o->name, "--help") || !strcmp(o->name, "--version")) fail_msg("%s shadows %s", cmd->name, o->name);
            if (o->only && !cmd->variant_option) fail_msg("%s %s: .only without variants", cmd->name, o->name);
        }
        if (cmd->variant_option) {
            int k = options_find(cmd, cmd->variant_option);
            assert_true(k >= 0);
            assert_int_equal(cmd->options[k].type, OPT_CHOICE);
        }
    }
    /* the model words are MELD_MODEL_KINDS' names, in order */
    char words[256] = "";
    for (int m = 0; m < N_MELD_MODEL_KINDS; m++)
        snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", m ? "|" : "", MELD_MODEL_KINDS[m]->name);
    assert_string_equal(words, MODEL_CHOICES);
}

/* Every table's defaults parse; every range refuses the values just
 * outside it; every option restricted to some variants is refused with
 * one it does not apply to. */
static void tables_enforce_their_rules(void **state)
{
    (void)state;
    for (int c = 0; c < CLI_N_COMMANDS; c++) {
        const CommandSpec *cmd = CLI_COMMANDS[c];
        void *args = calloc(1, cmd->args_size + 1);
        char line[512], value[64];
        assert_int_equal(parse(cmd, args, NULL, cmd->name), OPTIONS_OK);
        for (int k = 0; k < cmd->n_options; k++) {
            const Option *o = &cmd->options[k];
            /* just below and just above the range */
            double outside[2] = {o->type == OPT_REAL ? (o->lo > 0 ? o->lo / 2 : o->lo - 1) : o->lo - 1,
                                 o->type == OPT_REAL ? o->hi * 2 + 1 : o->hi + 1};
            for (int s = 0; s < 2 && (o->type == OPT_INT || o->type == OPT_REAL || o->type == OPT_U64); s++) {
                if (o->type == OPT_U64 && s == 1 && o->hi == 0) continue;   /* up to UINT64_MAX */
                snprintf(line, sizeof line, "%s %s=%.17g", cmd->name, o->name, outside[s]);
                if (parse(cmd, args, NULL, line) != OPTIONS_USAGE) fail_msg("'%s' was accepted", line);
            }
            if (!o->only) continue;
            const Option *vo = &cmd->options[options_find(cmd, cmd->variant_option)];
            int w = 0;
            while (o->only >> w & 1u) w++;   /* the first variant it does not apply to */
            char word[64], *at = strdup(vo->metavar);
            char *tok = strtok(at, "|");
            for (int i = 0; i < w && tok; i++) tok = strtok(NULL, "|");
            assert_non_null(tok);
            snprintf(word, sizeof word, "%s", tok);
            free(at);
            valid_value(o, value, sizeof value);
            snprintf(line, sizeof line, "%s %s %s %s %s", cmd->name, vo->name, word, o->name, o->type == OPT_FLAG ? "" : value);
            if (parse(cmd, args, NULL, line) != OPTIONS_USAGE) fail_msg("'%s' was accepted", line);
            expect_err("does not apply to");
        }
        free(args);
    }
}

/* ---- --help and --version of the program ------------------------------------- */

static const char *meld_bin(void)
{
    const char *bin = getenv("MELD_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        print_message("MELD_BIN not set: skipping (run through make test)\n");
        skip();
    }
    return bin;
}

static int run(const char *bin, const char *args, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The text of option o in a --help page: its line and the continuation
 * lines, joined by spaces (the words wrap). */
static void help_entry(const char *help, const Option *o, char *buf, size_t cap)
{
    char head[128];
    snprintf(head, sizeof head, "\n  %s%s%s", o->name, o->type == OPT_FLAG ? "" : " ", o->type == OPT_FLAG ? "" : o->metavar);
    const char *at = strstr(help, head);
    if (!at) fail_msg("--help has no line '%s'", head + 1);
    size_t used = 0;
    const char *line = at + 1;
    do {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *w = line;
        while (*w == ' ' && w < line + len) w++;
        used += (size_t)snprintf(buf + used, cap - used, "%s%.*s", used ? " " : "", (int)(line + len - w), w);
        line = end ? end + 1 : line + len;
    } while (*line && !strncmp(line, "                          ", 26) && used < cap);
}

static void help_lists_every_option_with_its_default(void **state)
{
    (void)state;
    const char *bin = meld_bin();
    static char out[32768];
    for (int c = 0; c < CLI_N_COMMANDS; c++) {
        const CommandSpec *cmd = CLI_COMMANDS[c];
        char args[64], entry[1024];
        snprintf(args, sizeof args, "%s --help", cmd->name);
        assert_int_equal(run(bin, args, out, sizeof out), 0);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: meld %s", cmd->name);
        if (strncmp(out, usage, strlen(usage))) fail_msg("%s", out);
        for (int k = 0; k < cmd->n_options; k++) {
            const Option *o = &cmd->options[k];
            help_entry(out, o, entry, sizeof entry);
            if (!strstr(entry, o->help)) fail_msg("%s: '%s' lacks its help text", cmd->name, entry);
            if (!strstr(entry, "default: ")) fail_msg("%s: '%s' lacks its default", cmd->name, entry);
            char want[256];
            if (o->def) {
                snprintf(want, sizeof want, "default: %s", o->def);
                if (!strstr(entry, want)) fail_msg("%s: '%s' lacks '%s'", cmd->name, entry, want);
            }
            if (o->alias) {
                snprintf(want, sizeof want, ", %s", o->alias);
                if (!strstr(entry, want)) fail_msg("%s: '%s' lacks its alias", cmd->name, entry);
            }
        }
        for (int p = 0; p < cmd->n_positionals; p++)
            if (!strstr(out, cmd->positionals[p].metavar)) fail_msg("%s: no %s", cmd->name, cmd->positionals[p].metavar);
    }
    /* per-model defaults show every model's value */
    assert_int_equal(run(bin, "train --help", out, sizeof out), 0);
    char entry[1024];
    help_entry(out, &CMD_TRAIN.options[options_find(&CMD_TRAIN, "--epochs")], entry, sizeof entry);
    if (!strstr(entry, "default: gru 30, lstm 30, melstm 10, cnn 20, fusion 16")) fail_msg("%s", entry);
    help_entry(out, &CMD_TRAIN.options[options_find(&CMD_TRAIN, "--optim")], entry, sizeof entry);
    if (!strstr(entry, "gru adam, lstm adadelta")) fail_msg("%s", entry);
    help_entry(out, &CMD_TRAIN.options[options_find(&CMD_TRAIN, "--context")], entry, sizeof entry);
    if (!strstr(entry, "--model fusion only")) fail_msg("%s", entry);
}

static void version_everywhere(void **state)
{
    (void)state;
    const char *bin = meld_bin();
    static char out[8192];
    char want[64];
    snprintf(want, sizeof want, "meld %s", MELD_VERSION);
    assert_int_equal(run(bin, "--version", out, sizeof out), 0);
    if (strncmp(out, want, strlen(want))) fail_msg("%s", out);
    static char first[8192];
    snprintf(first, sizeof first, "%s", out);
    for (int c = 0; c < CLI_N_COMMANDS; c++) {
        char args[64];
        snprintf(args, sizeof args, "%s --version", CLI_COMMANDS[c]->name);
        assert_int_equal(run(bin, args, out, sizeof out), 0);
        assert_string_equal(out, first);
    }
    assert_int_equal(run(bin, "trian --epochs 1", out, sizeof out), 2);
    if (!strstr(out, "unknown command 'trian' (did you mean train?)")) fail_msg("%s", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_defaults_and_spellings),
        cmocka_unit_test(positionals_and_the_separator),
        cmocka_unit_test(numbers_are_strict),
        cmocka_unit_test(errors_are_one_clear_line),
        cmocka_unit_test(edit_distance),
        cmocka_unit_test(tables_are_well_formed),
        cmocka_unit_test(tables_enforce_their_rules),
        cmocka_unit_test(help_lists_every_option_with_its_default),
        cmocka_unit_test(version_everywhere),
    };
    return cmocka_run_group_tests_name("cli: option tables", tests, NULL, NULL);
}
