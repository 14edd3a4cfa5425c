/*
 * sniff.h: what a file really is, decided by its bytes.
 *
 * Each format's own signature is checked (GLB header, glTF JSON with an
 * "asset", FBX binary or ASCII header, OBJ statements, BLENDER header, JPEG,
 * PNG, WebP, PDF, ZIP), libmagic is the second opinion for text, and the
 * file name's extension must agree with what the bytes say.
 */
#ifndef HWC_SNIFF_H
#define HWC_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

enum file_type {
	FT_UNKNOWN, FT_GLB, FT_GLTF, FT_FBX, FT_OBJ, FT_BLEND,
	FT_JPEG, FT_PNG, FT_WEBP, FT_PDF, FT_ZIP, FT_TXT,
};

/* Reads the head of the file at path and names its type. */
enum file_type sniff_file(const char *path);
/* "GLB", "JPEG", ... */
const char *file_type_name(enum file_type t);
const char *file_type_mime(enum file_type t);
/* The extension we store under ("glb", "jpg", ...). */
const char *file_type_ext(enum file_type t);
/* Does the client's file name's extension agree with t? */
bool file_ext_matches(const char *filename, enum file_type t);

#endif
