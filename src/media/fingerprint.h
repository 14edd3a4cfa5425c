/*
 * fingerprint.h: a geometry fingerprint that survives re-export,
 * translation and uniform scale, for duplicate detection (issue 13).
 *
 * The vector is three soft-binned histograms of FP_BINS bins each, plus the
 * bounding box's extents:
 *   - triangle areas / diagonal^2 (log10 over [-9, 0]), by count;
 *   - edge lengths / diagonal (log10 over [-5, 0]), by count;
 *   - distance of each triangle's centroid from the area-weighted centroid,
 *     / diagonal (linear over [0, 1]), weighted by area;
 *   - the three extents / diagonal, sorted (axis order does not matter).
 * Every value is a ratio of lengths, so translation and uniform scale
 * leave it alone; triangles rather than vertices, so a format that splits
 * vertices per face corner (OBJ, FBX) gives the same vector as one that
 * shares them (glTF).  Soft binning (each value split between its two
 * nearest bins) keeps float noise from moving whole spikes across a bin
 * edge.  Each histogram sums to 1.
 *
 * The coarse key (fingerprint_key) is a quarter-octave bucket of the
 * triangle count: a lookup compares only the models in the key and its two
 * neighbours, then fingerprint_similarity on those.
 *
 * Pure functions, thread safe.  fingerprint_describe runs in the analysis
 * child (model_child.c) on the imported scene.
 */
#ifndef HWC_FINGERPRINT_H
#define HWC_FINGERPRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP_BINS 32
#define FP_DIM (3 * FP_BINS + 3)
/* Similarity from which two fingerprints name the same geometry. */
#define FP_DUPLICATE 0.95

typedef struct {
	float v[FP_DIM];
	uint64_t triangles; /* triangles that went into it */
} fingerprint_t;

/* From ntri triangles given as 9 floats each (x0 y0 z0 x1 ... z2), in one
 * coordinate space.  Triangles with a non-finite coordinate are skipped.
 * False when nothing measurable is left (no area, no extent). */
bool fingerprint_triangles(const float *xyz, size_t ntri, fingerprint_t *out);

/* 1 for the same geometry, down to 0. */
double fingerprint_similarity(const fingerprint_t *a, const fingerprint_t *b);

/* The coarse key of a triangle count. */
int fingerprint_key(uint64_t triangles);

/* {"key": K, "triangles": N, "v": [...]} and back (strict: NULL / false
 * on any other shape, a value out of [0, 1], or a wrong length). */
json_t *fingerprint_json(const fingerprint_t *fp);
bool fingerprint_from_json(json_t *j, fingerprint_t *out);

/* The vector as text for the database ("TRIANGLES:" then 4 hex digits
 * per value) and back (strict).  fingerprint_encode returns malloc'd text
 * (free it). */
char *fingerprint_encode(const fingerprint_t *fp);
bool fingerprint_decode(const char *text, fingerprint_t *out);

struct aiScene;
/* In the analysis child: adds to out "fingerprint" (when measurable),
 * "nonfinite_vertices" (vertex positions that are NaN or infinite),
 * "node_names" and "mesh_names" (for the tagger; at most 64 each).  The
 * scene's triangles in world space (node transforms applied); beyond
 * FP_MAX_TRIANGLES an even sample of them. */
void fingerprint_describe(json_t *out, const struct aiScene *sc);

/* In the parent (analyze.c): copies those keys from the child's output in
 * to the checked result out, each only when well formed. */
void fingerprint_keep(json_t *out, json_t *in);

#endif
