/*
 * fuzz_model: the model-analysis child's parsing, in-process.
 *
 * Input: a model file (GLB, glTF, OBJ or FBX bytes; the format follows the
 * content: "glTF" magic is GLB, a leading '{' glTF, "Kaydara FBX" or
 * "; FBX" FBX, anything else OBJ).  The child's code after the sandbox
 * (src/media/model_child.c: the glTF pre-scan, assimp through the
 * in-memory file system, the scene walk, bounding box, materials, bones,
 * and the OBJ and FBX vertex-count passes, on every input)
 * runs here on it directly; that file's functions are static, so it is
 * compiled into this target (and model_child.o left out of the link).
 * The sandbox itself is not entered: in the server it bounds what assimp
 * may do; here the input size (-max_len), libFuzzer's -rss_limit_mb and
 * -timeout do.  The child's JSON goes to /dev/null.
 *
 * assimp 5.2.5 is Debian's, not instrumented: a crash inside it is
 * assimp's (the sandboxed child contains it in the server); a crash in
 * model_child.c's own code is ours.
 */
#include <fcntl.h>
#include "../../src/media/model_child.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	/* print_json writes the child's answer on fd 1. */
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
	json_object_seed(1);
	return 0;
}

static const char *format_of(const uint8_t *d, size_t n, const char **ext)
{
	if (n >= 4 && !memcmp(d, "glTF", 4)) {
		*ext = "glb";
		return "GLB";
	}
	size_t i = 0;
	while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
		i++;
	if (i < n && d[i] == '{') {
		*ext = "gltf";
		return "GLTF";
	}
	if ((n >= 11 && !memcmp(d, "Kaydara FBX", 11)) || (n >= 5 && !memcmp(d, "; FBX", 5))) {
		*ext = "fbx";
		return "FBX";
	}
	*ext = "obj";
	return "OBJ";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 262144)
		return 0;
	struct child c = { .memory_mb = 1024, .stored_vertices = -1 };
	c.format = format_of(data, size, &c.ext);
	snprintf(c.main_name, sizeof(c.main_name), MAIN_STEM ".%s", c.ext);
	/* a copy of exactly size bytes, so that ASan sees any overread */
	unsigned char *copy = xmalloc(size);
	memcpy(copy, data, size);
	c.data = copy;
	c.len = size;
	c.refs = json_array();
	c.warnings = json_array();
	/* The vertex-count passes run on every input, not only on what
	 * assimp accepted. */
	obj_used_vertices(copy, size);
	fbx_control_points(copy, size);
	char err[256];
	if (!((!strcmp(c.format, "GLB") || !strcmp(c.format, "GLTF")) && gltf_prescan(&c, err, sizeof(err))))
		run(&c);
	/* run() attached a log stream pointing at c: the child does this
	 * once per process, the fuzzer once per input. */
	aiDetachAllLogStreams();
	json_decref(c.buffer_ref);
	json_decref(c.refs);
	json_decref(c.warnings);
	free(copy);
	return 0;
}
