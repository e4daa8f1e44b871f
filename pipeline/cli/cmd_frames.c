/* meld frames: the face crops the CNN sees for one clip or image.
 *
 * Runs exactly the path used for training: K evenly spaced frames
 * (pipeline/features/clip.h), the largest face found by the Haar cascade or else a
 * centre crop (video/face.h), resized to N x N. Writes the crops as PNM
 * and prints one line per frame. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/features/clip.h"
#include "tensor/error.h"
#include "video/face.h"
#include "video/haar.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: meld frames CLIP|IMAGE [options]\n"
            "\n"
            "Shows what the frame CNN sees: K evenly spaced frames of the clip, each cut\n"
            "to the largest face (Haar cascade) or else a centre square, resized to NxN,\n"
            "written as PNM files, one line per frame on stdout.\n"
            "CLIP: .mp4 or anything ffmpeg decodes, .y4m, a folder of .pgm/.ppm frames;\n"
            "IMAGE: .pgm/.ppm (no ffmpeg needed), or .jpg/.png through ffmpeg.\n"
            "\n"
            "options:\n"
            "  --k K           frames to sample (default 4)\n"
            "  --size N        side of the crops in pixels (default 64)\n"
            "  --grey          grey crops (.pgm) instead of RGB (.ppm)\n"
            "  --out DIR       folder for the crops (default STEM_frames)\n"
            "  --cascade FILE  OpenCV Haar cascade XML, or none (default: opencv-data's\n"
            "                  haarcascade_frontalface_default.xml if installed)\n"
            "  --no-face       skip face detection: centre crops only\n"
            "  --margin F      border around the face, fraction of its size (default 0.2)\n"
            "  --timeout S     seconds allowed per ffmpeg run (default 120)\n");
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return meld_errorf("%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return meld_errorf("%s: cannot create: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return meld_errorf("%s: not a folder", path);
    return MELD_OK;
}

/* "dir/name.ext" -> "name" */
static void stem_of(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *start = path;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/') start = path + i + 1;
    size_t len = (size_t)(path + n - start);
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++)
        if (start[i] == '.' && i > 0) dot = start + i;
    if (dot) len = (size_t)(dot - start);
    snprintf(out, cap, "%.*s", (int)len, start);
}

typedef struct {
    const char *input, *out_dir, *cascade_path;
    int no_face;
    ClipOptions clip;
    FaceCropOptions face;
} FramesArgs;

static int parse_args(int argc, char **argv, FramesArgs *a)
{
    const char *cmd = "frames";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v;
        if (!strcmp(o, "--k")) {
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_int(cmd, o, v, 1, CLIP_MAX_K, &a->clip.k)) return 2;
        } else if (!strcmp(o, "--size")) {
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_int(cmd, o, v, 8, 1024, &a->face.size)) return 2;
        } else if (!strcmp(o, "--grey") || !strcmp(o, "--gray")) {
            a->face.channels = 1;
        } else if (!strcmp(o, "--out")) {
            if (!(a->out_dir = arg_value(argc, argv, &i, cmd))) return 2;
        } else if (!strcmp(o, "--cascade")) {
            if (!(a->cascade_path = arg_value(argc, argv, &i, cmd))) return 2;
            if (!strcmp(a->cascade_path, "none")) a->no_face = 1;   /* as in train / prepare */
        } else if (!strcmp(o, "--no-face")) {
            a->no_face = 1;
        } else if (!strcmp(o, "--margin")) {
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_float(cmd, o, v, 0.0, 2.0, &a->face.margin)) return 2;
        } else if (!strcmp(o, "--timeout")) {
            float t;
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_float(cmd, o, v, 0.1, 86400.0, &t)) return 2;
            a->clip.timeout_s = t;
        } else if (o[0] == '-' && o[1] == '-') {
            fprintf(stderr, "meld frames: unknown option '%s'\n", o);
            return 2;
        } else if (a->input) {
            fprintf(stderr, "meld frames: one input only (got '%s' and '%s')\n", a->input, o);
            return 2;
        } else {
            a->input = o;
        }
    }
    if (!a->input) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int cmd_frames(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    FramesArgs a = {0};
    a.clip = clip_default_options();
    a.clip.want_audio = 0;
    a.face = face_crop_default_options();
    int bad = parse_args(argc, argv, &a);
    if (bad) return bad;

    HaarCascade *cascade = NULL;
    const char *cpath = a.no_face ? NULL : a.cascade_path ? a.cascade_path : haar_default_cascade_path();
    if (cpath && !(cascade = haar_load(cpath))) return report_error("frames");
    if (!a.no_face && !cpath)
        fprintf(stderr, "meld frames: no Haar cascade found (apt-get install opencv-data, or --cascade FILE): "
                        "centre crops only\n");

    Clip clip;
    if (clip_load(a.input, &a.clip, &clip)) {
        haar_free(cascade);
        return report_error("frames");
    }
    report_warnings("frames");
    char stem[256], dir[1024];
    stem_of(a.input, stem, sizeof stem);
    if (a.out_dir) snprintf(dir, sizeof dir, "%s", a.out_dir);
    else snprintf(dir, sizeof dir, "%s_frames", stem);

    int rc = make_dirs(dir) ? 1 : 0;
    Image *crops = calloc((size_t)clip.n_frames, sizeof(Image));
    FaceCropInfo *info = calloc((size_t)clip.n_frames, sizeof(FaceCropInfo));
    int centre = 0;
    if (rc == 0 && (!crops || !info)) rc = (meld_errorf("out of memory"), 1);
    if (rc == 0 && (centre = clip_face_crops(&clip, cascade, &a.face, crops, info)) < 0) rc = 1;
    if (rc == 0) {
        printf("%s: %ld frames, %d sampled, %dx%d %s crops, %s\n", a.input, clip.total_frames, clip.n_frames,
               a.face.size, a.face.size, a.face.channels == 3 ? "RGB" : "grey",
               cascade ? cpath : "no face detection");
    }
    for (int i = 0; rc == 0 && i < clip.n_frames; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s_%d.%s", dir, stem, i, a.face.channels == 3 ? "ppm" : "pgm");
        if (pnm_write(path, &crops[i])) {
            rc = 1;
            break;
        }
        const FaceCropInfo *f = &info[i];
        if (f->face_found)
            printf("frame %ld: face %dx%d at %d,%d (%d found), crop %dx%d at %d,%d -> %s\n", clip.frame_index[i],
                   f->face.width, f->face.height, f->face.x, f->face.y, f->n_faces, f->crop.width, f->crop.height,
                   f->crop.x, f->crop.y, path);
        else
            printf("frame %ld: no face, centre crop %dx%d at %d,%d -> %s\n", clip.frame_index[i], f->crop.width,
                   f->crop.height, f->crop.x, f->crop.y, path);
    }
    if (rc == 0) printf("%d of %d frames without a face (centre crop)\n", centre, clip.n_frames);
    if (rc) report_error("frames");
    for (int i = 0; crops && i < clip.n_frames; i++) image_free(&crops[i]);
    free(crops);
    free(info);
    clip_free(&clip);
    haar_free(cascade);
    return rc;
}
