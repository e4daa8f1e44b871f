#include "video/face_eval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/input_file.h"

double rect_iou(ImageRect a, ImageRect b)
{
    long x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    long x1 = (long)a.x + a.width < (long)b.x + b.width ? (long)a.x + a.width : (long)b.x + b.width;
    long y1 = (long)a.y + a.height < (long)b.y + b.height ? (long)a.y + a.height : (long)b.y + b.height;
    double inter = (x1 > x0 && y1 > y0) ? (double)(x1 - x0) * (double)(y1 - y0) : 0;
    double uni = (double)a.width * a.height + (double)b.width * b.height - inter;
    return uni > 0 ? inter / uni : 0;
}

int faces_found(const ImageRect *truth, int nt, const ImageRect *found, int nf, double min_iou)
{
    int k = 0;
    for (int i = 0; i < nt; i++) {
        int hit = 0;
        for (int j = 0; j < nf && !hit; j++) hit = rect_iou(truth[i], found[j]) >= min_iou;
        k += hit;
    }
    return k;
}

/* "FILE KIND COUNT x y w h ..." into *r; MELD_ERR with a message. */
static int parse_record(char *line, BoxRecord *r, const char *path, int lineno)
{
    char *save = NULL, *file = strtok_r(line, " \t\r\n", &save), *kind = strtok_r(NULL, " \t\r\n", &save);
    char *count = strtok_r(NULL, " \t\r\n", &save), *end;
    long n = count ? strtol(count, &end, 10) : -1;
    if (!file || !kind || !count || *end || n < 0 || n > 100000 || strlen(file) >= sizeof r->file ||
        strlen(kind) >= sizeof r->kind)
        return meld_errorf("%s:%d: expected FILE KIND COUNT x y w h ...", path, lineno);
    *r = (BoxRecord){.n = (int)n};
    snprintf(r->file, sizeof r->file, "%s", file);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    r->boxes = meld_calloc(n ? (size_t)n : 1, sizeof(ImageRect), "boxes");
    if (!r->boxes) return MELD_ERR;
    for (long b = 0; b < n; b++) {
        long v[4];
        for (int k = 0; k < 4; k++) {
            char *tok = strtok_r(NULL, " \t\r\n", &save);
            v[k] = tok ? strtol(tok, &end, 10) : -1;
            if (!tok || *end || v[k] < 0 || v[k] > 1000000) {
                free(r->boxes);
                return meld_errorf("%s:%d: %s: expected %ld boxes of 4 non-negative integers", path, lineno, r->file,
                                   n);
            }
        }
        r->boxes[b] = (ImageRect){(int)v[0], (int)v[1], (int)v[2], (int)v[3]};
    }
    if (strtok_r(NULL, " \t\r\n", &save)) {
        free(r->boxes);
        return meld_errorf("%s:%d: %s: more numbers than %ld boxes", path, lineno, r->file, n);
    }
    return MELD_OK;
}

int box_list_read(const char *path, BoxList *out)
{
    *out = (BoxList){0};
    FILE *f = input_file_fopen(path);
    if (!f) return MELD_ERR;
    char line[65536];
    int lineno = 0, rc = MELD_OK, cap = 0;
    while (rc == MELD_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) rc = meld_errorf("%s:%d: line too long", path, lineno);
        const char *p = line + strspn(line, " \t\r\n");
        if (rc != MELD_OK || *p == '#' || *p == '\0') continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 32;
            BoxRecord *g = realloc(out->r, sizeof(BoxRecord) * (size_t)cap);
            if (!g) rc = meld_errorf("%s: out of memory", path);
            else out->r = g;
        }
        if (rc == MELD_OK && (rc = parse_record(line, &out->r[out->n], path, lineno)) == MELD_OK) out->n++;
    }
    if (rc == MELD_OK && ferror(f)) rc = meld_errorf("%s: read error", path);
    fclose(f);
    if (rc != MELD_OK) box_list_free(out);
    return rc;
}

void box_list_free(BoxList *l)
{
    for (int i = 0; i < l->n; i++) free(l->r[i].boxes);
    free(l->r);
    *l = (BoxList){0};
}

const BoxRecord *box_list_find(const BoxList *l, const char *file, const char *kind)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->r[i].file, file) && !strcmp(l->r[i].kind, kind)) return &l->r[i];
    return NULL;
}
