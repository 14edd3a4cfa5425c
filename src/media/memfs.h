/*
 * memfs.h: assimp reads one model from memory and nothing else.
 *
 * The sandboxed children (analysis, conversion, rendering) import the
 * model they were given on stdin through this file system: the model's
 * own name opens it, read-only; any other name (a texture, an .mtl, a
 * path anywhere) is refused, and told to `refused` when set, so the
 * analysis can list what the model refers to.
 */
#ifndef HWC_MEMFS_H
#define HWC_MEMFS_H

#include <assimp/cfileio.h>
#include <stddef.h>

struct memfs {
	const unsigned char *data;
	size_t len;
	const char *main_name; /* the one name that opens ("./" prefixes ignored) */
	void (*refused)(void *ctx, const char *name); /* any other name, as asked; may be NULL */
	void *ctx;
};

/* The aiFileIO over fs; fs must outlive the import. */
struct aiFileIO memfs_io(struct memfs *fs);

#endif
