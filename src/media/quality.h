/*
 * quality.h: the quality report of a model (issue 13, point 5) and its
 * badge.
 *
 * Two halves, both in this binary:
 *
 *  - quality_scan() runs in the sandboxed analysis child (model_child.c's
 *    describe()) on the imported aiScene: texture resolutions (embedded
 *    images: read from their PNG/JPEG/WebP header; external files:
 *    unknown), UV presence per mesh, topology (non-manifold edges: shared
 *    by more than two faces; open boundary edges: used by one face;
 *    degenerate faces: a repeated corner or zero area; duplicate faces:
 *    the same corners as another face of the mesh, in any order), and the
 *    file's unit (glTF: metres; FBX: its UnitScaleFactor, centimetres per
 *    unit; OBJ: none, metres assumed; .blend: converted to glTF, metres).
 *    Vertices are welded by exact position first, since the importers give
 *    each polygon corner its own vertex.  The work is bounded: hash tables
 *    sized by the mesh, topology skipped (topology_checked false) above
 *    QUALITY_MAX_CORNERS face corners in the whole scene, at most
 *    QUALITY_MAX_TEXTURES textures listed.
 *
 *  - quality_checked() and quality_finish() run in the server on what the
 *    child printed (untrusted: only known keys of the right type and
 *    range survive), adding the counts of the analysis (triangles,
 *    vertices, meshes, materials, animations, bones), the dimensions in
 *    metres, and the badge with the reasons that kept it from the next
 *    level (rules in docs/quality.md):
 *      gold    topology checked with no non-manifold edge, degenerate or
 *              duplicate face; UVs on every mesh; at least one texture;
 *              a sensible size (largest side from 1 cm to 1 km)
 *      silver  topology checked with defects on at most 1% of the
 *              triangles; UVs on at least one mesh; a sensible size
 *      bronze  viewable: anything the analysis accepted
 */
#ifndef HWC_QUALITY_H
#define HWC_QUALITY_H

#include <jansson.h>
#include <stdbool.h>

#define QUALITY_MAX_CORNERS 4000000 /* face corners for the topology pass */
#define QUALITY_MAX_TEXTURES 64
#define QUALITY_MAX_NGON 32         /* corners of a face checked for duplicates */

/* How a report is stored (models.quality): the text the server's replies
 * give (reply.c), so the model document can carry it as it is. */
#define QUALITY_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct aiScene;

/* Child side: the scan of a scene imported from a file of this format
 * ("GLB", "GLTF", "OBJ", "FBX", "BLEND").  A new object. */
json_t *quality_scan(const struct aiScene *sc, const char *format);

/* Server side: a checked copy of the child's "quality" object, or NULL
 * when it is missing or malformed. */
json_t *quality_checked(json_t *in);

/* Server side: replaces analysis["quality"] (the checked scan) by the full
 * report with its badge.  Idempotent (call again after changing the
 * analysis's counts).  False when the analysis has no scan. */
bool quality_finish(json_t *analysis);

/* "gold", "silver" or "bronze" for a finished report; NULL if none. */
const char *quality_badge(json_t *report);

#endif
