/* The include graph against the layer order. Every #include "..." of every
 * .c, .h and .inc file in the source folders is read, and:
 *   - nothing includes upward, nor sideways between folders of one level:
 *         tensor/
 *       < layers/, optim/, audio/, video/          (each on tensor/ only)
 *       < pipeline/data/ < features/ < eda/ < models/ < train/ < export/
 *                                                  (each on any before it)
 *         pipeline/synth/ stands alone: on the parts below pipeline/ only,
 *                         and only the programs include it
 *       < pipeline/cli/, benchmarks/               (the programs)
 *       < tests/                                   (anything)
 *     A new pipeline folder must be placed in LEVELS below, or this test
 *     fails for it.
 *   - no file includes itself through any chain (no two files include each
 *     other, directly or not);
 *   - every include names a file of the tree (but the build's generated
 *     git_describe.h).
 * Runs from the repository root (make test does). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Folder -> level; a folder may include its own files and those of
 * strictly lower levels. */
static const struct {
    const char *folder;
    int level;
} LEVELS[] = {
    {"tensor", 0},
    {"layers", 1}, {"optim", 1}, {"audio", 1}, {"video", 1},
    {"pipeline/data", 2}, {"pipeline/features", 3}, {"pipeline/eda", 4},
    {"pipeline/models", 5}, {"pipeline/train", 6}, {"pipeline/export", 7},
    {"pipeline/synth", 2},   /* alone: see ONLY_PROGRAMS */
    {"pipeline/cli", 10}, {"benchmarks", 10},
    {"tests", 11},
};
enum { N_LEVELS = sizeof LEVELS / sizeof LEVELS[0], PROGRAMS = 10 };
/* Folders that only the programs (level >= PROGRAMS) may include. */
static const char *const ONLY_PROGRAMS[] = {"pipeline/synth"};
/* Headers the build writes (not in the tree). */
static const char *const GENERATED[] = {"git_describe.h"};

enum { MAX_FILES = 1024, MAX_INCLUDES = 64 };

typedef struct {
    char path[400];
    char folder[300];
    int n_inc;
    char inc[MAX_INCLUDES][128];
    int to[MAX_INCLUDES];   /* index of the included file, -1: generated */
} File;

static File files[MAX_FILES];
static int n_files;

static int level_of(const char *folder)
{
    for (int i = 0; i < N_LEVELS; i++)
        if (!strcmp(LEVELS[i].folder, folder)) return LEVELS[i].level;
    return -1;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void read_file(const char *folder, const char *name)
{
    if (n_files == MAX_FILES) fail_msg("more than %d files: raise MAX_FILES", MAX_FILES);
    File *f = &files[n_files++];
    snprintf(f->folder, sizeof f->folder, "%s", folder);
    snprintf(f->path, sizeof f->path, "%s/%s", folder, name);
    FILE *in = fopen(f->path, "r");
    if (!in) fail_msg("%s: cannot open (run from the repository root)", f->path);
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, "#include \"", 10)) continue;
        p += 10;
        size_t len = strcspn(p, "\"");
        if (f->n_inc == MAX_INCLUDES) fail_msg("%s: more than %d includes", f->path, MAX_INCLUDES);
        snprintf(f->inc[f->n_inc++], sizeof f->inc[0], "%.*s", (int)len, p);
    }
    fclose(in);
}

static void read_folder(const char *folder)
{
    DIR *d = opendir(folder);
    if (!d) fail_msg("%s: cannot open (run from the repository root)", folder);
    struct dirent *e;
    while ((e = readdir(d)))
        if (has_suffix(e->d_name, ".c") || has_suffix(e->d_name, ".h") || has_suffix(e->d_name, ".inc"))
            read_file(folder, e->d_name);
    closedir(d);
}

/* Every folder of the tree that holds sources: the parts, each
 * pipeline/X, the programs, the tests. */
static void read_tree(void)
{
    if (n_files) return;
    static const char *const top[] = {"tensor", "layers", "optim", "audio", "video", "benchmarks", "tests"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) read_folder(top[i]);
    DIR *d = opendir("pipeline");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char sub[300];
        struct stat st;
        snprintf(sub, sizeof sub, "pipeline/%s", e->d_name);
        if (e->d_name[0] != '.' && stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) read_folder(sub);
    }
    closedir(d);
    for (int i = 0; i < n_files; i++)
        for (int k = 0; k < files[i].n_inc; k++) {
            int to = -1;
            for (int j = 0; j < n_files && to < 0; j++)
                if (!strcmp(files[j].path, files[i].inc[k])) to = j;
            files[i].to[k] = to;
        }
}

static void every_include_names_a_file(void **state)
{
    (void)state;
    read_tree();
    int bad = 0;
    for (int i = 0; i < n_files; i++)
        for (int k = 0; k < files[i].n_inc; k++) {
            if (files[i].to[k] >= 0) continue;
            bool generated = false;
            for (size_t g = 0; g < sizeof GENERATED / sizeof GENERATED[0]; g++)
                generated |= !strcmp(files[i].inc[k], GENERATED[g]);
            if (!generated) printf("  %s includes \"%s\", which is not a file of the tree\n", files[i].path, files[i].inc[k]), bad++;
        }
    assert_int_equal(bad, 0);
}

static void nothing_includes_upward(void **state)
{
    (void)state;
    read_tree();
    int bad = 0;
    for (int i = 0; i < n_files; i++) {
        const File *f = &files[i];
        int from = level_of(f->folder);
        if (from < 0) {
            printf("  %s: folder %s has no place in the layer order (LEVELS)\n", f->path, f->folder);
            bad++;
            continue;
        }
        for (int k = 0; k < f->n_inc; k++) {
            if (f->to[k] < 0) continue;
            const File *t = &files[f->to[k]];
            if (!strcmp(t->folder, f->folder)) continue;
            int to = level_of(t->folder);
            bool ok = to >= 0 && to < from;
            for (size_t p = 0; p < sizeof ONLY_PROGRAMS / sizeof ONLY_PROGRAMS[0]; p++)
                if (!strcmp(t->folder, ONLY_PROGRAMS[p]) && from < PROGRAMS) ok = false;
            if (!ok) printf("  %s (%s) includes %s (%s): against the layer order\n", f->path, f->folder, t->path, t->folder), bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Depth-first search; a file met again while it is on the current path
 * closes a cycle. */
static int find_cycle(int i, int *color, int *stack, int depth)
{
    color[i] = 1;
    stack[depth] = i;
    for (int k = 0; k < files[i].n_inc; k++) {
        int j = files[i].to[k];
        if (j < 0 || color[j] == 2) continue;
        if (color[j] == 1) {
            printf("  include cycle:");
            int s = depth;
            while (stack[s] != j) s--;
            for (; s <= depth; s++) printf(" %s ->", files[stack[s]].path);
            printf(" %s\n", files[j].path);
            return 1;
        }
        if (find_cycle(j, color, stack, depth + 1)) return 1;
    }
    color[i] = 2;
    return 0;
}

static void no_file_includes_itself(void **state)
{
    (void)state;
    read_tree();
    int color[MAX_FILES] = {0}, stack[MAX_FILES], cycles = 0;
    for (int i = 0; i < n_files && !cycles; i++)   /* the first cycle is enough */
        if (!color[i]) cycles += find_cycle(i, color, stack, 0);
    assert_int_equal(cycles, 0);
    assert_true(n_files > 100);   /* the tree was read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_include_names_a_file),
        cmocka_unit_test(nothing_includes_upward),
        cmocka_unit_test(no_file_includes_itself),
    };
    return cmocka_run_group_tests_name("layout: the include graph", tests, NULL, NULL);
}
