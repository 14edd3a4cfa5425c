/*
 * render.h: server-side rendering of 3D models without a GPU.
 *
 * The renderer is a sandboxed child, `hwc3d render-model FORMAT [options]`
 * (render_child.c), run like the analysis child (analyze.h): the model
 * arrives on stdin; the child sets up OpenGL ES 3 on Mesa's llvmpipe
 * through EGL surfaceless (which loads drivers and opens files) BEFORE it
 * locks itself down (sandbox.h: limits, no_new_privs, seccomp with threads
 * and JIT memory allowed for llvmpipe, no open, no socket, no exec), and
 * only then lets assimp look at the bytes.  It draws the model with
 * per-vertex normals, the material's base colour and its embedded base
 * colour texture (decoded by libvips in the child), a key, a fill and a
 * hemisphere ambient light (a lighting preset), 4x multisampling, the
 * camera on an orbit around the model's bounding sphere so that the model
 * is centred and fills the frame.
 *
 * One frame comes back as a PNG on stdout; a turntable (video) comes back
 * as raw RGBA frames on fd 3, a pipe the parent hands to the `ffmpeg`
 * program, which the parent starts with posix_spawn outside the sandbox.
 *
 * Settings (config_get): RENDER_TIMEOUT_S (1..3600, default 60: one child's
 * wall clock), RENDER_MEMORY_MB (128..16384, default 2048: its address
 * space above what EGL mapped), RENDER_CPU_S (1..3600, default 60),
 * RENDER_THREADS (0..16, default 2: llvmpipe's rasteriser threads); a
 * video segment's child gets 2 s more of each per 1280x720 frame,
 * FFMPEG_PATH (default /usr/bin/ffmpeg).  Children share the media slots
 * (sandbox_media_slots, ANALYZE_CONCURRENCY).  Thread safe.
 */
#ifndef HWC_RENDER_H
#define HWC_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDER_MIN_SIZE 16
#define RENDER_MAX_SIZE 2048
#define VIDEO_MAX_W 1920
#define VIDEO_MAX_H 1080

enum render_lighting { LIGHT_STUDIO, LIGHT_OUTDOOR, LIGHT_DARK, LIGHT_COUNT_ };

struct render_opts {
	int width, height;        /* RENDER_MIN_SIZE..RENDER_MAX_SIZE */
	double yaw, pitch;        /* degrees; pitch -89..89 */
	double distance;          /* 0.5..10: 1 frames the bounding sphere */
	bool transparent;         /* background alpha 0 (PNG only) */
	bool has_background;      /* else the preset's colour */
	uint8_t background[3];
	enum render_lighting lighting;
};

/* The lighting preset's name ("studio", "outdoor", "dark"), and back:
 * false for an unknown name. */
const char *render_lighting_name(enum render_lighting l);
bool render_lighting_parse(const char *name, enum render_lighting *out);
/* "#rrggbb" or "transparent" into o; false when malformed. */
bool render_background_parse(const char *s, struct render_opts *o);
/* Defaults: 800x600, yaw 30, pitch 20, distance 1, studio. */
void render_opts_default(struct render_opts *o);

/* Renders the model read from model_fd (a regular file, reread from its
 * start; the caller keeps it) (format "GLB", "GLTF", "OBJ", "FBX", "BLEND")
 * into a PNG: *png (malloc'd, free it) and *png_len.  False with a
 * one-line reason in err (a file the renderer refused, a timeout, the
 * memory limit).  Runs a child: call it off the poll thread. */
bool render_png(int model_fd, const char *format, const struct render_opts *o,
		unsigned char **png, size_t *png_len, char *err, size_t errlen);

struct render_video {
	int seconds;              /* 1..20 */
	int fps;                  /* 10..30 */
	bool mp4;                 /* H.264 in MP4; else VP9 in WebM */
	/* called after each segment with 0..100; may be NULL */
	void (*progress)(void *arg, int pct);
	void *progress_arg;
	/* polled between segments: true stops the work */
	bool (*cancelled)(void *arg);
};

/* Renders a turntable (one full turn of yaw over v->seconds, starting at
 * o->yaw) and encodes it with ffmpeg into out_path.  The frames are
 * rendered in segments, one child each, so that progress can be told.
 * False with a reason in err. */
bool render_video(int model_fd, const char *format, const struct render_opts *o,
		  const struct render_video *v, const char *out_path, char *err, size_t errlen);

/* The child: `hwc3d render-model FORMAT [options]` (see render_child.c),
 * called by main() with the arguments after "render-model".  Returns its
 * exit code: 0 rendered, 1 refused, 2 bad usage. */
int render_child_main(int argc, char **argv);

#endif
