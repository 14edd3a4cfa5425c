/*
 * analyze.h: 3D model analysis with assimp, in a sandboxed child process.
 *
 * assimp 5.2.5 is not safe on hostile input (a 1.2 KB file can make it
 * allocate tens of gigabytes), so it never runs in the server: the server
 * spawns `hwc3d analyze-model FORMAT` (argv[0] of /proc/self/exe unless
 * analyze_set_exe() said otherwise) with the file as stdin; the child reads
 * it into memory, locks itself down (sandbox.h), imports it through an
 * in-memory file system that refuses every other file, and prints one JSON
 * object.  The parent enforces a wall-clock limit (ANALYZE_TIMEOUT_S,
 * default 30), caps the output at 1 MB, reaps the child, and checks the
 * JSON's shape before handing it out.
 *
 * Result object (see docs in model_child.c for the exact processing):
 *   poly_count       triangles after triangulation: a polygon of n
 *                    corners counts n - 2 (lines and points are not counted)
 *   vertex_count     the vertices as stored, as the authoring tool shows
 *                    them: OBJ `v` records that faces use, FBX control
 *                    points, glTF POSITION accessor counts (each accessor
 *                    once), .blend mesh vertices (blend.c); never more
 *                    than render_vertex_count
 *   render_vertex_count  assimp's vertices, without
 *                    aiProcess_JoinIdenticalVertices: what a renderer
 *                    uploads (OBJ and FBX give each polygon corner its own)
 *   face_count       polygons (n-gons) as stored; glTF: triangles
 *   file_format      "GLB", "GLTF", "OBJ", "FBX" or "BLEND"
 *   has_animations, has_rigging, has_textures   booleans
 *   materials        array of names
 *   textures         array of {"path": "..."} or {"embedded": N}, with
 *                    "type" ("diffuse", "normals", ...), one per path
 *   dimensions       {x, y, z}: the axis-aligned bounding box of all mesh
 *                    vertices in world space (node transforms applied)
 *   mesh_count, bone_count (distinct bone names), animation_count
 *   external_references  URIs and files the model refers to that were not
 *                    followed (glTF uris other than data:, OBJ mtllib,
 *                    texture files)
 *   warnings         array of strings
 *
 * Settings (config_get): ANALYZE_TIMEOUT_S (1..3600, default 30),
 * ANALYZE_MEMORY_MB (64..16384, default 1024: the child's address space),
 * ANALYZE_CPU_S (1..3600, default 10: the child's CPU seconds),
 * ANALYZE_CONCURRENCY (1..256, default the number of CPUs but at least 2:
 * children at once; callers beyond it wait, within their time limit).
 */
#ifndef HWC_ANALYZE_H
#define HWC_ANALYZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Analyses the model file at path (format: "GLB", "GLTF", "OBJ", "FBX",
 * "BLEND") in a sandboxed child.  assimp reads .blend files only up to
 * Blender 2.7x; for any .blend it cannot read the reason is exactly
 * "blend: needs conversion" (convert with Blender, analyse the GLB).  Returns a new JSON object, or NULL with a
 * one-line reason in err (hostile/broken file, timeout, memory limit,
 * unsupported).  Thread safe: called from HTTP worker threads; many may
 * run at once. */
json_t *model_analyze(const char *path, const char *format, char *err, size_t errlen);

/* Why a glTF "uri" must be refused, or NULL when it is acceptable.  A data:
 * URI always is; any other (http:, file:, an absolute path, a path with a
 * ".." segment or a backslash, percent-encoded or not) never is, so a model
 * can make neither a viewer nor any later processing fetch something from
 * elsewhere.  relative_ok (a .gltf uploaded alone) also accepts a plain
 * relative file name that stays in the model's folder ("tex/wood.png"):
 * it is reported in external_references, never followed.  A .glb carries
 * its data inside: only data: URIs.  Used by the child on every uri of the
 * document and again by the parent on what the child reported. */
const char *gltf_uri_problem(const char *uri, bool relative_ok);

/* The program the sandboxed children run (this binary unless set). */
const char *analyze_exe(void);

/* The program to run as the child (default "/proc/self/exe").  For tests,
 * whose own binary is not hwc3d.  Call before any model_analyze(); the
 * string must outlive them. */
void analyze_set_exe(const char *path);

/* The child: `hwc3d analyze-model FORMAT [--memory-mb N] [--cpu-s N]`,
 * called by main() with the arguments after "analyze-model".  Reads the
 * model on stdin, prints the result or {"error": "..."} on stdout.
 * Returns the exit code: 0 analysed, 1 refused, 2 bad usage. */
int analyze_child_main(int argc, char **argv);

#endif
