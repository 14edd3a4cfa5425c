/*
 * blend.h: .blend files from current Blender versions.
 *
 * assimp 5.2.5 reads .blend only up to Blender 2.7x, so a .blend it cannot
 * read is converted to GLB by Debian's `blender`, run headless with
 * --factory-startup and --disable-autoexec (scripts inside the file never
 * run), images not exported (a .blend may point its textures at any file on
 * the server), in a child with resource limits, no network (its own network
 * namespace where the kernel allows it), no new privileges and a wall-clock
 * limit; then the GLB is analysed like any other model.
 *
 * Settings: BLENDER_PATH (default /usr/bin/blender), BLEND_TIMEOUT_S
 * (default 120).  At most two conversions run at once.  Thread safe.
 */
#ifndef HWC_BLEND_H
#define HWC_BLEND_H

#include <jansson.h>
#include <stddef.h>

/* The analysis of the model in the .blend at path (file_format "BLEND",
 * converted_with "blender"), or NULL with a one-line reason in err. */
json_t *blend_analyze(const char *path, char *err, size_t errlen);

/* `hwc3d blend-convert WORKDIR BLENDER`: the child, which locks itself
 * down and becomes Blender converting WORKDIR/in.blend to WORKDIR/out.glb. */
int blend_child_main(int argc, char **argv);

#endif
