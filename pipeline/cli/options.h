/* Command-line options, described once per command in a table from which
 * the parser, `--help` and the error messages all come.
 *
 * A command declares a struct for its arguments and one table row per
 * option; OPT_AT() names the field and checks its C type at compile time:
 *
 *     typedef struct { int epochs; bool resume; const char *out; } Args;
 *     static const Option OPTIONS[] = {
 *         {"--epochs", OPT_INT, OPT_AT(Args, epochs, int), "N", .help = "epochs to train", .lo = 1, .hi = 1000, .def = "30"},
 *         {"--resume", OPT_FLAG, OPT_AT(Args, resume, bool), .help = "continue from last.safetensors"},
 *         {"--out", OPT_TEXT, OPT_AT(Args, out, const char *), "DIR", .help = "output folder", .def_text = "runs/MODEL"},
 *     };
 *
 * Adding a flag is adding a row. The parser accepts `--flag value` and
 * `--flag=value`, aliases (`--batch-size` for `--batch`), positional
 * arguments declared per command, `--` (everything after it is
 * positional), `--help`/`-h` and `--version` in every command. Numbers are
 * parsed strictly (the whole text, base 10, inside [lo, hi]; "1e23" is not
 * an integer, nothing saturates). Every error is one line on stderr,
 * "meld CMD: ...": an unknown option with the nearest known one ("did you
 * mean --batch?"), an unexpected argument, a missing value, a number out of
 * range, a value not among the choices, an option that does not apply to
 * the chosen variant (`--context` with `--model gru`).
 */
#ifndef MELD_CLI_OPTIONS_H
#define MELD_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    OPT_FLAG,     /* bool, set by the bare flag; takes no value */
    OPT_TEXT,     /* const char *: any text (a path, a name) */
    OPT_CHOICE,   /* const char *: one of the '|'-separated words of metavar */
    OPT_INT,      /* int in [lo, hi] */
    OPT_U64,      /* uint64_t in [lo, hi] (hi = 0: up to UINT64_MAX) */
    OPT_REAL,     /* float in [lo, hi], finite */
} OptionType;

/* Offset of field f of struct S, which must have type T (a compile error
 * otherwise: _Generic has no match). */
#define OPT_AT(S, f, T) (offsetof(S, f) + 0 * sizeof(_Generic(((S *)0)->f, T: 1)))

typedef struct Option Option;
struct Option {
    const char *name;       /* "--epochs" */
    OptionType type;
    size_t field;           /* OPT_AT(...) in the command's argument struct */
    const char *metavar;    /* "N", "DIR"; the choices "a|b|c" for OPT_CHOICE; NULL for flags */
    const char *help;       /* what it does, one phrase */
    /* optional */
    const char *alias;      /* another spelling, e.g. "--batch-size" */
    double lo, hi;          /* range of a number */
    /* The default. Before parsing, def (as typed on the command line) is
     * stored; fields without one keep what the command put there (library
     * defaults such as prepare_default_options()). --help shows, in this
     * order of preference: def_fn's text (a default per variant, which
     * the command applies after parsing), def_text (a default that is not
     * one value, "runs/MODEL"), else the field's value. */
    const char *def;
    const char *def_text;
    void (*def_fn)(char *buf, size_t cap);
    unsigned only;          /* bit v set: applies to variant v only (0: to every variant) */
};

/* A positional argument. A variadic one (the last) takes every remaining
 * argument into an OptList. same_as names the option that sets the same
 * field (`meld eval CKPT` = `--model-file CKPT`); giving both is an error. */
typedef struct {
    const char *metavar;    /* "CKPT", "CLIP" */
    size_t field;           /* const char * (OPT_AT), or an OptList when variadic */
    const char *help;
    bool variadic;
    const char *same_as;
} Positional;

typedef struct {
    char **items;
    int n;
} OptList;

typedef struct {
    const char *name;         /* "train" */
    const char *summary;      /* one line for `meld --help` */
    const char *about;        /* paragraphs printed after the usage line (may be NULL) */
    int (*run)(int argc, char **argv);
    const Option *options;
    int n_options;
    const Positional *positionals;
    int n_positionals;
    /* Variants (the models): the option that chooses one (an OPT_CHOICE,
     * whose words are the variants in bit order of Option.only), or NULL. */
    const char *variant_option;
    size_t args_size;         /* sizeof the argument struct (the tests parse into one) */
} CommandSpec;

#define OPT_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* What options_parse returns. */
enum {
    OPTIONS_OK = 0,       /* args filled: run the command */
    OPTIONS_DONE = 1,     /* --help or --version printed: exit 0 */
    OPTIONS_USAGE = 2,    /* error printed: exit 2 */
};

/* Parses argv[1..argc-1] (argv[0] is the command's name) into args, which
 * holds the command's library defaults (or zeros): first every option's
 * def is stored, then the arguments. *variant gets the chosen variant's
 * index (0 when the command has none); variant may be NULL. Reorders argv
 * (positional arguments move to the front). --help and --version anywhere
 * before `--` print to stdout; errors go to stderr. */
int options_parse(const CommandSpec *cmd, int argc, char **argv, void *args, int *variant);

/* The generated help: usage line, about, every option with its default
 * (read from args as options_parse leaves it before the arguments). */
void options_help(const CommandSpec *cmd, const void *args, FILE *out);

/* Levenshtein distance of two strings (insertions, deletions and
 * substitutions of one character each cost 1), for the suggestions. */
int options_edit_distance(const char *a, const char *b);

/* The index of option name (or alias) in cmd, or -1. */
int options_find(const CommandSpec *cmd, const char *name);

#endif
