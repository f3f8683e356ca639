/* The preload shim's descriptor table: which numbers are libmpt sockets, grouped by
 * the open socket they refer to (pl.h). */
#include "pl.h"

#include <errno.h>
#include <stdlib.h>

static int load(const struct pl_fdtab *t, int fd)
{
	return __atomic_load_n(&t->grp[fd], __ATOMIC_ACQUIRE);
}

static void store(struct pl_fdtab *t, int fd, int v)
{
	__atomic_store_n(&t->grp[fd], v, __ATOMIC_RELEASE);
}

static bool in_range(const struct pl_fdtab *t, int fd)
{
	return fd >= 0 && (size_t)fd < t->cap;
}

int pl_fdtab_init(struct pl_fdtab *t, size_t cap)
{
	if (!t || !cap || cap > (size_t)1 << 24)
		return -EINVAL;
	t->grp = calloc(cap, sizeof(*t->grp));
	t->refs = calloc(cap, sizeof(*t->refs));
	t->ino = calloc(cap, sizeof(*t->ino));
	if (!t->grp || !t->refs || !t->ino) {
		pl_fdtab_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	return 0;
}

void pl_fdtab_free(struct pl_fdtab *t)
{
	if (!t)
		return;
	free(t->grp);
	free(t->refs);
	free(t->ino);
	t->grp = NULL;
	t->refs = NULL;
	t->ino = NULL;
	t->cap = 0;
}

int pl_fdtab_add(struct pl_fdtab *t, int fd, uint64_t ino)
{
	if (!in_range(t, fd))
		return -EBADF;
	if (load(t, fd))
		return -EEXIST;
	t->refs[fd] = 1;
	t->ino[fd] = ino;
	store(t, fd, fd + 1);
	return 0;
}

int pl_fdtab_key(const struct pl_fdtab *t, int fd)
{
	if (!t || !in_range(t, fd))
		return -1;
	return load(t, fd) - 1;
}

unsigned pl_fdtab_refs(const struct pl_fdtab *t, int fd)
{
	int key = pl_fdtab_key(t, fd);

	return key < 0 ? 0 : t->refs[key];
}

uint64_t pl_fdtab_ino(const struct pl_fdtab *t, int fd)
{
	int key = pl_fdtab_key(t, fd);

	return key < 0 ? 0 : t->ino[key];
}

int pl_fdtab_dup(struct pl_fdtab *t, int oldfd, int newfd)
{
	int key = pl_fdtab_key(t, oldfd);

	if (key < 0)
		return -ENOENT;
	if (oldfd == newfd)
		return 0;
	if (!in_range(t, newfd))
		return -EBADF;
	if (load(t, newfd))
		return -EEXIST;
	t->refs[key]++;
	store(t, newfd, key + 1);
	return 0;
}

int pl_fdtab_drop(struct pl_fdtab *t, int fd, struct pl_drop *d)
{
	int key = pl_fdtab_key(t, fd);

	if (key < 0)
		return -ENOENT;
	d->key = key;
	d->newkey = -1;
	d->last = t->refs[key] == 1;
	store(t, fd, 0);
	if (d->last) {
		t->refs[key] = 0;
		t->ino[key] = 0;
		return 0;
	}
	t->refs[key]--;
	if (fd != key)
		return 0;
	/* the key goes: the lowest remaining copy takes over, the group is relabelled */
	for (size_t i = 0; i < t->cap; i++)
		if (load(t, (int)i) == key + 1) {
			d->newkey = (int)i;
			break;
		}
	if (d->newkey < 0)
		return 0; /* cannot happen: refs said a copy remains */
	t->refs[d->newkey] = t->refs[key];
	t->ino[d->newkey] = t->ino[key];
	t->refs[key] = 0;
	t->ino[key] = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (load(t, (int)i) == key + 1)
			store(t, (int)i, d->newkey + 1);
	return 0;
}

int pl_fdtab_next(const struct pl_fdtab *t, int from)
{
	if (!t || from < 0)
		return -1;
	for (size_t i = (size_t)from; i < t->cap; i++)
		if (load(t, (int)i))
			return (int)i;
	return -1;
}
