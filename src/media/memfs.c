/* memfs.c: the one-file memory file system of the sandboxed children (memfs.h). */
#include <string.h>
#include "media/memfs.h"
#include "core/util.h"

struct memfile {
	const unsigned char *data;
	size_t len, pos;
};

static size_t mf_read(struct aiFile *f, char *buf, size_t size, size_t count)
{
	struct memfile *m = (struct memfile *)f->UserData;
	if (size == 0 || count == 0)
		return 0;
	size_t avail = m->len - m->pos;
	size_t items = MIN(count, avail / size);
	memcpy(buf, m->data + m->pos, items * size);
	m->pos += items * size;
	return items;
}

static size_t mf_write(struct aiFile *f, const char *buf, size_t size, size_t count)
{
	UNUSED(f);
	UNUSED(buf);
	UNUSED(size);
	UNUSED(count);
	return 0;
}

static size_t mf_tell(struct aiFile *f)
{
	return ((struct memfile *)f->UserData)->pos;
}

static size_t mf_size(struct aiFile *f)
{
	return ((struct memfile *)f->UserData)->len;
}

static void mf_flush(struct aiFile *f)
{
	UNUSED(f);
}

static enum aiReturn mf_seek(struct aiFile *f, size_t off, enum aiOrigin origin)
{
	struct memfile *m = (struct memfile *)f->UserData;
	size_t base = origin == aiOrigin_SET ? 0 : origin == aiOrigin_CUR ? m->pos : m->len;
	size_t to = base + off; /* a "negative" offset wraps around */
	if (to > m->len)
		return aiReturn_FAILURE;
	m->pos = to;
	return aiReturn_SUCCESS;
}

static struct aiFile *mf_open(struct aiFileIO *io, const char *name, const char *mode)
{
	struct memfs *fs = (struct memfs *)io->UserData;
	const char *n = name;
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	if (strcmp(n, fs->main_name) || strchr(mode, 'w') || strchr(mode, 'a')) {
		if (fs->refused)
			fs->refused(fs->ctx, name);
		return NULL;
	}
	struct memfile *m = xcalloc(1, sizeof(*m));
	m->data = fs->data;
	m->len = fs->len;
	struct aiFile *f = xcalloc(1, sizeof(*f));
	f->ReadProc = mf_read;
	f->WriteProc = mf_write;
	f->TellProc = mf_tell;
	f->FileSizeProc = mf_size;
	f->SeekProc = mf_seek;
	f->FlushProc = mf_flush;
	f->UserData = (aiUserData)m;
	return f;
}

static void mf_close(struct aiFileIO *io, struct aiFile *f)
{
	UNUSED(io);
	if (f) {
		free(f->UserData);
		free(f);
	}
}

struct aiFileIO memfs_io(struct memfs *fs)
{
	return (struct aiFileIO){ .OpenProc = mf_open, .CloseProc = mf_close, .UserData = (aiUserData)fs };
}
