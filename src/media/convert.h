/*
 * convert.h: a model file to a GLB for the web viewer, in a sandboxed
 * child (issue 13, point 2).
 *
 * glb, gltf, obj and fbx go through `hwc3d convert-model FORMAT`
 * (convert_child.c): assimp imports the model from memory and exports
 * binary glTF 2, written to fd 3 (a temp file the parent opened; the
 * child's RLIMIT_FSIZE caps it at CONVERT_OUTPUT_MAX_MB).  A .blend goes
 * through Blender in its jail (blend.h, blend_convert), which already
 * makes a GLB.  The parent treats the result as untrusted: it must be a
 * GLB by its header (magic "glTF", version 2, the length the file has),
 * and it is analysed like an upload (model_analyze: the glTF pre-scan
 * refuses external URIs) before anyone stores it.
 *
 * Settings: CONVERT_TIMEOUT_S (default 120), CONVERT_MEMORY_MB (default
 * 2048), CONVERT_CPU_S (default 60).  The child takes one of the media
 * slots (sandbox_media_slots) like an analysis.  Thread safe.
 */
#ifndef HWC_CONVERT_H
#define HWC_CONVERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CONVERT_OUTPUT_MAX_MB 512

enum convert_result {
	CONVERT_OK,
	CONVERT_BAD_FILE,    /* the file cannot be converted: a reason for its owner */
	CONVERT_UNAVAILABLE, /* the server cannot convert now (no slot, no Blender): try later */
};

/* Converts the model at src_path (format "GLB", "GLTF", "OBJ", "FBX",
 * "BLEND") into a new file at out_path (which must not exist).  On
 * CONVERT_OK *analysis is the analysis of the GLB made (a new object:
 * poly_count and so on, for checks); otherwise err holds a one-line
 * reason and out_path does not exist. */
enum convert_result model_convert(const char *src_path, const char *format, const char *out_path,
				  json_t **analysis, char *err, size_t errlen);

/* True when the bytes of the file at path begin as a GLB 2 whose header
 * length is the file's size. */
bool glb_header_ok(const char *path);

/* The child: `hwc3d convert-model FORMAT [--memory-mb N] [--cpu-s N]
 * [--max-mb N]` with the model on stdin and the GLB file as fd 3. */
int convert_child_main(int argc, char **argv);

#endif
