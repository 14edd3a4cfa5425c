/*
 * fuzz_safety: the safety scan's byte-level checks (src/media/safety.c):
 * the .blend block and SDNA walk, the polyglot search (ZIP, PDF, ELF, PE,
 * markup), and the glTF uri and bounds checks, GLB and JSON, on every
 * input.  They read untrusted uploads in the server process itself (no
 * sandbox), so an out-of-bounds read here is a real one.
 */
#include "fuzz.h"
#include "media/safety.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so that ASan sees any read past it. */
	unsigned char *d = xmalloc(size ? size : 1);
	memcpy(d, data, size);
	json_t *f = json_array();
	safety_check_blend(f, d, size);
	safety_check_polyglot(f, d, size);
	safety_check_gltf(f, d, size, size >= 4 && !memcmp(d, "glTF", 4));
	const char *v = safety_verdict(f);
	if (!v)
		__builtin_trap();
	json_decref(f);
	free(d);
	return 0;
}
