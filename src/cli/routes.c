/*
 * routes.c: `hwc3d routes`, the route table as JSON, for the tests and
 * scripts/check-openapi.py (which holds docs/openapi.yaml to it).
 *
 * Each route is printed with its handler's C name, the OpenAPI document's
 * operationId.  Handlers are static functions, so dladdr() cannot name them:
 * the names come from the program's own ELF symbol table (.symtab of
 * /proc/self/exe), which every build keeps (nothing strips it).  A handler
 * that cannot be named prints as null, and the check fails on it.
 */
#include <fcntl.h>
#include <jansson.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "../api/api.h"
#include "../core/util.h"

/* The executable mapped read-only, and where its symbol table lies in it. */
typedef struct symtab {
	const unsigned char *map;
	size_t size;
	const ElfW(Sym) *syms;
	size_t nsyms;
	const char *strs;
	size_t strs_size;
	uintptr_t bias; /* load address minus link address (PIE) */
} symtab_t;

static int main_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1; /* the first object is the program itself */
}

/* 0 when the program's symbol table is mapped into *t; -1 otherwise. */
static int symtab_load(symtab_t *t)
{
	memset(t, 0, sizeof(*t));
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		close(fd);
		return -1;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	t->map = map;
	t->size = (size_t)st.st_size;

	/* Our own file, but checked like any input: every offset in bounds. */
	const ElfW(Ehdr) *eh = map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff > t->size || eh->e_shnum > (t->size - eh->e_shoff) / sizeof(ElfW(Shdr)))
		goto fail;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(t->map + eh->e_shoff);
	for (size_t i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const ElfW(Shdr) *str = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > t->size || sh[i].sh_size > t->size - sh[i].sh_offset ||
		    str->sh_offset > t->size || str->sh_size > t->size - str->sh_offset || !str->sh_size)
			goto fail;
		t->syms = (const ElfW(Sym) *)(t->map + sh[i].sh_offset);
		t->nsyms = sh[i].sh_size / sizeof(ElfW(Sym));
		t->strs = (const char *)(t->map + str->sh_offset);
		t->strs_size = str->sh_size;
		break;
	}
	if (!t->syms)
		goto fail;
	dl_iterate_phdr(main_bias, &t->bias);
	return 0;
fail:
	munmap((void *)t->map, t->size);
	memset(t, 0, sizeof(*t));
	return -1;
}

static void symtab_release(symtab_t *t)
{
	if (t->map)
		munmap((void *)t->map, t->size);
}

/* The name of the function at fn, or NULL; it points into the mapping. */
static const char *symtab_name(const symtab_t *t, handler_fn fn)
{
	uintptr_t addr = (uintptr_t)fn - t->bias;
	for (size_t i = 0; i < t->nsyms; i++) {
		const ElfW(Sym) *s = &t->syms[i];
		if (ELF64_ST_TYPE(s->st_info) /* the same as ELF32_ST_TYPE */ != STT_FUNC || s->st_value != addr || s->st_name >= t->strs_size)
			continue;
		const char *name = t->strs + s->st_name;
		if (memchr(name, '\0', t->strs_size - s->st_name))
			return name;
	}
	return NULL;
}

int cli_routes(void)
{
	static const char *access[] = { "public", "optional", "user", "verified", "admin" };
	static const char *rl[] = { "none", "general", "auth", "upload", "admin", "session" };
	static const char *body[] = { "none", "json", "multipart", "raw" };
	symtab_t syms;
	int have_syms = symtab_load(&syms) == 0;
	router_t *r = routes_build();
	json_t *list = json_array();
	for (size_t i = 0; i < router_count(r); i++) {
		const route_t *rt = router_get(r, i);
		const char *handler = have_syms ? symtab_name(&syms, rt->handler) : NULL;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?}",
			"method", method_name(rt->method), "path", rt->pattern,
			"access", access[rt->access], "rate_limit", rl[rt->rl],
			"body", body[rt->body], "summary", rt->summary ? rt->summary : "",
			"handler", handler));
	}
	char *s = json_dumps(list, JSON_INDENT(1));
	puts(s);
	free(s);
	json_decref(list);
	router_free(r);
	if (have_syms)
		symtab_release(&syms);
	else
		fputs("hwc3d: no symbol table in /proc/self/exe: handler names are null\n", stderr);
	return 0;
}
