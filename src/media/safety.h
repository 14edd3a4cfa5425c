/*
 * safety.h: the safety scan of an uploaded model (issue 13, point 4).
 *
 * Each check adds findings {check, severity, message} to a JSON array;
 * severities are info, low, medium, high, critical.  The verdict is
 * "unsafe" with any critical finding, "warning" with a high or medium one,
 * "safe" otherwise.  Checks:
 *   malware    ClamAV signatures (clam.h); "skipped" (info) without a
 *              signature database
 *   format     the bytes are the format the upload claims (sniff.h)
 *   gltf_uri   glTF uris that are not data: (http:, file:, absolute, ..):
 *              critical; a plain relative file of a .gltf: low
 *   gltf_bounds  buffers, buffer views and accessors that declare more
 *              bytes than the file (or their buffer) holds: high
 *   blend_script  .blend Text datablocks (Python: critical), Python
 *              controllers, drivers (medium); from the block headers and
 *              the file's own SDNA, bounded, no Blender run
 *   polyglot   another file inside: ZIP local or end headers, PDF, ELF,
 *              PE, HTML/script/PHP markup: critical
 *   geometry   over 50 million triangles, NaN or infinite coordinates
 *              (from the analysis): high
 * The duplicate check needs the database and lives in the API
 * (src/api/safety.c); it adds its finding to the same array.
 *
 * Everything here reads memory or one file and is thread safe; none of it
 * runs on the poll thread (the handler uses the worker pool).  The buffer
 * checks take untrusted bytes and never read outside [d, d + n).
 */
#ifndef HWC_SAFETY_H
#define HWC_SAFETY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SAFETY_MAX_TRIANGLES 50000000LL

enum safety_sev { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

void safety_add(json_t *findings, const char *check, enum safety_sev sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *safety_sev_name(enum safety_sev s);

void safety_check_gltf(json_t *findings, const unsigned char *d, size_t n, bool glb);
void safety_check_blend(json_t *findings, const unsigned char *d, size_t n);
void safety_check_polyglot(json_t *findings, const unsigned char *d, size_t n);
void safety_check_geometry(json_t *findings, json_t *analysis);

/* All file checks on the stored model at path, claimed to be format
 * ("GLB", ...), with its analysis (may be NULL).  Returns the findings
 * array (new reference), or NULL with a reason when the file cannot be
 * read. */
json_t *safety_scan_file(const char *path, const char *format, json_t *analysis, char *err, size_t errlen);

/* "safe", "warning" or "unsafe" for a findings array. */
const char *safety_verdict(json_t *findings);

#endif
