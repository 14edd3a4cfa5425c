/*
 * blend.h: .blend files from current Blender versions.
 *
 * assimp 5.2.5 reads .blend only up to Blender 2.7x, so a .blend it cannot
 * read is converted to GLB by Debian's `blender`, run headless with
 * --factory-startup and --disable-autoexec (scripts inside the file never
 * run), images not exported (a .blend may point its textures at any file),
 * inside a bubblewrap jail (sandbox.h, sandbox_exec_jail): new user, mount,
 * PID, network, IPC, UTS and cgroup namespaces, only /usr (plus Blender's
 * own directory when it lives elsewhere), a few loader files of /etc, a
 * minimal /dev and /proc and a per-conversion work directory holding a
 * copy of the .blend; no capabilities, no new privileges, no network, a
 * seccomp denylist, resource limits, killed with the server, uid 65534
 * (when the server runs as root, also outside the namespace); a wall-clock
 * limit.  Then the GLB is analysed like any other model.
 *
 * Before each conversion the same jail is built around /usr/bin/true.  If
 * that fails (bubblewrap missing, user namespaces disabled), the
 * conversion is refused and Blender never runs.
 *
 * Settings: BLENDER_PATH (default /usr/bin/blender; outside /usr its
 * directory is bound read-only and must not contain DATA_DIR), BWRAP_PATH
 * (default /usr/bin/bwrap), BLEND_TIMEOUT_S (default 120; also the CPU
 * seconds), BLEND_SLOT_WAIT_S (default BLEND_TIMEOUT_S).  At most two
 * conversions run at once; a third waits for a slot at most
 * BLEND_SLOT_WAIT_S, then fails as unavailable (503, try later).  Thread
 * safe.
 */
#ifndef HWC_BLEND_H
#define HWC_BLEND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The analysis of the model in the .blend at path (file_format "BLEND",
 * converted_with "blender"), or NULL with a one-line reason in err; then
 * *unavailable tells that the server cannot convert at all right now
 * (Blender or its sandbox missing: a 503, not the file's fault). */
json_t *blend_analyze(const char *path, bool *unavailable, char *err, size_t errlen);

/* The same, keeping the GLB Blender made: copied to glb_out (a new file)
 * when the analysis of it succeeded. */
json_t *blend_convert(const char *path, const char *glb_out, bool *unavailable, char *err, size_t errlen);

/* Builds the jail once and logs whether .blend conversion is available
 * (at start-up). */
void blend_init(void);

/* `hwc3d blend-convert [--probe] [--nobody] BWRAP WORKDIR PROGRAM
 * PROGRAM_DIR|- PARENT_PID CPU_S`: the child, which locks itself down and
 * becomes bubblewrap running Blender on WORKDIR/in.blend (out.glb). */
int blend_child_main(int argc, char **argv);

#endif
