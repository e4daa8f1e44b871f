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

#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
#include "pipeline/features/clip.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "video/face.h"
#include "video/haar.h"

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
    int k, size;
    float margin, timeout;
    bool grey, no_face;
} FramesArgs;

#define A(f, T) OPT_AT(FramesArgs, f, T)
static const Option OPTIONS[] = {
    {"--k", OPT_INT, A(k, int), "K", .help = "frames to sample", .lo = 1, .hi = CLIP_MAX_K},
    {"--size", OPT_INT, A(size, int), "N", .help = "side of the crops in pixels", .lo = 8, .hi = 1024},
    {"--grey", OPT_FLAG, A(grey, bool), .help = "grey crops, .pgm instead of RGB .ppm", .alias = "--gray"},
    {"--out", OPT_TEXT, A(out_dir, const char *), "DIR", .help = "folder for the crops (created with its parents)", .def_text = "runs/frames/STEM, beside meld train's runs"},
    {"--cascade", OPT_TEXT, A(cascade_path, const char *), "FILE|none", .help = "OpenCV Haar cascade XML, or none as --no-face", .def_text = "opencv-data's haarcascade_frontalface_default.xml if installed"},
    {"--no-face", OPT_FLAG, A(no_face, bool), .help = "skip face detection: centre crops only"},
    {"--margin", OPT_REAL, A(margin, float), "F", .help = "border around the face, fraction of its size", .lo = 0.0, .hi = 2.0},
    {"--timeout", OPT_REAL, A(timeout, float), "S", .help = "seconds allowed per ffmpeg run", .lo = 0.1, .hi = 86400.0},
};
static const Positional ARGUMENTS[] = {
    {"CLIP|IMAGE", A(input, const char *), .help = "a clip (.mp4 or anything ffmpeg decodes, .y4m, a folder of .pgm/.ppm frames) or an image (.pgm/.ppm; .jpg/.png through ffmpeg)"},
};
#undef A

static int run_frames(int argc, char **argv);

const CommandSpec CMD_FRAMES = {
    .name = "frames",
    .summary = "the face crops the CNN sees for one clip or image",
    .about = "Shows what the frame CNN sees: K evenly spaced frames of the clip, each cut\n"
             "to the largest face (Haar cascade) or else a centre square, resized to NxN,\n"
             "written as PNM files, one line per frame on stdout.\n",
    .run = run_frames,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .args_size = sizeof(FramesArgs),
};

static int run_frames(int argc, char **argv)
{
    ClipOptions clip_opt = clip_default_options();
    FaceCropOptions face = face_crop_default_options();
    FramesArgs a = {.k = clip_opt.k, .size = face.size, .margin = face.margin, .timeout = (float)clip_opt.timeout_s};
    int rc = options_exit_status(options_parse(&CMD_FRAMES, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.input) {
        fprintf(stderr, "meld frames: no CLIP or IMAGE given (meld frames --help)\n");
        return 2;
    }
    if (a.cascade_path && !strcmp(a.cascade_path, "none")) a.no_face = true;   /* as in train / prepare */
    clip_opt.want_audio = 0;
    clip_opt.k = a.k;
    clip_opt.timeout_s = a.timeout;
    face.size = a.size;
    face.margin = a.margin;
    if (a.grey) face.channels = 1;

    HaarCascade *cascade = NULL;
    const char *cpath = a.no_face ? NULL : a.cascade_path ? a.cascade_path : haar_default_cascade_path();
    if (cpath && !(cascade = haar_load(cpath))) return report_error("frames");
    if (!a.no_face && !cpath)
        fprintf(stderr, "meld frames: no Haar cascade found (apt-get install opencv-data, or --cascade FILE): "
                        "centre crops only\n");

    Clip clip;
    if (clip_load(a.input, &clip_opt, &clip)) {
        haar_free(cascade);
        return report_error("frames");
    }
    report_warnings("frames");
    char stem[256], dir[1024];
    stem_of(a.input, stem, sizeof stem);
    if (a.out_dir) snprintf(dir, sizeof dir, "%s", a.out_dir);
    else snprintf(dir, sizeof dir, "runs/frames/%s", stem);

    rc = make_dirs(dir) ? 1 : 0;
    if (rc == 0) atomic_file_sweep_folder(dir);
    Image *crops = calloc((size_t)clip.n_frames, sizeof(Image));
    FaceCropInfo *info = calloc((size_t)clip.n_frames, sizeof(FaceCropInfo));
    int centre = 0;
    if (rc == 0 && (!crops || !info)) rc = (meld_errorf("out of memory"), 1);
    if (rc == 0 && (centre = clip_face_crops(&clip, cascade, &face, crops, info)) < 0) rc = 1;
    if (rc == 0) {
        char input[4096], cascade_shown[4096];
        printf("%s: %ld frames, %d sampled, %dx%d %s crops, %s\n", cli_shown(a.input, input, sizeof input),
               clip.total_frames, clip.n_frames, face.size, face.size, face.channels == 3 ? "RGB" : "grey",
               cascade ? cli_shown(cpath, cascade_shown, sizeof cascade_shown) : "no face detection");
    }
    for (int i = 0; rc == 0 && i < clip.n_frames; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s_%d.%s", dir, stem, i, face.channels == 3 ? "ppm" : "pgm");
        if (pnm_write(path, &crops[i])) {
            rc = 1;
            break;
        }
        const FaceCropInfo *f = &info[i];
        char shown[4096];
        cli_shown(path, shown, sizeof shown);
        if (f->face_found)
            printf("frame %ld: face %dx%d at %d,%d (%d found), crop %dx%d at %d,%d -> %s\n", clip.frame_index[i],
                   f->face.width, f->face.height, f->face.x, f->face.y, f->n_faces, f->crop.width, f->crop.height,
                   f->crop.x, f->crop.y, shown);
        else
            printf("frame %ld: no face, centre crop %dx%d at %d,%d -> %s\n", clip.frame_index[i], f->crop.width,
                   f->crop.height, f->crop.x, f->crop.y, shown);
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
