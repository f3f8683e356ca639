/* Named network namespaces under /run/netns, made as iproute2's `ip netns add`
 * makes them: an empty file with the namespace bind-mounted on it. */
#include "netnsfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= NAME_MAX || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

static int ns_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Make /run/netns exist and be a shared mount point, so the bind mounts made in
 * it propagate into mount namespaces created later (as `ip netns exec` does). */
static int prepare_run_dir(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* Not a mount point yet: bind it onto itself, then make it shared. */
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

int netnsfs_create(const char *name)
{
	char path[PATH_MAX];
	int fd, saved, err;

	err = name_ok(name);
	if (err)
		return err;
	err = ns_path(path, sizeof(path), name);
	if (err)
		return err;
	err = prepare_run_dir();
	if (err)
		return err;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		err = -errno;
		goto out_unlink;
	}
	/* unshare() moves only this thread; the bind mount keeps the new namespace
	 * alive after we switch back. */
	if (unshare(CLONE_NEWNET) < 0) {
		err = -errno;
		goto out_close;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		err = -errno;
	if (setns(saved, CLONE_NEWNET) < 0)
		abort(); /* never return in the wrong namespace */
	if (err)
		goto out_close;
	close(saved);
	return 0;

out_close:
	close(saved);
out_unlink:
	unlink(path);
	return err;
}

int netnsfs_open(const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	err = name_ok(name);
	if (err)
		return err;
	err = ns_path(path, sizeof(path), name);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Collect (up to max) pids whose network namespace is the one mounted at path.
 * Returns the number found (which may exceed max), or -errno. */
static int ns_pids(const char *name, pid_t *pids, int max)
{
	char path[PATH_MAX];
	struct stat ns, st;
	struct dirent *de;
	pid_t self = getpid();
	DIR *proc;
	int n = 0, err;

	err = ns_path(path, sizeof(path), name);
	if (err)
		return err;
	if (stat(path, &ns) < 0)
		return -errno;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		char link[64];
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		snprintf(link, sizeof(link), "/proc/%ld/ns/net", pid);
		if (stat(link, &st) < 0)
			continue; /* gone, or a kernel thread */
		if (st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		if (n < max)
			pids[n] = (pid_t)pid;
		n++;
	}
	closedir(proc);
	return n;
}

int netnsfs_count_procs(const char *name)
{
	int err = name_ok(name);

	return err ? err : ns_pids(name, NULL, 0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#define KILL_MAX 1024

static int kill_all(const char *name, int grace_ms)
{
	pid_t *pids;
	int n, i, waited = 0;

	pids = calloc(KILL_MAX, sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	n = ns_pids(name, pids, KILL_MAX);
	if (n <= 0)
		goto out;
	for (i = 0; i < n && i < KILL_MAX; i++)
		kill(pids[i], SIGTERM);
	while (waited < grace_ms) {
		sleep_ms(10);
		waited += 10;
		n = ns_pids(name, NULL, 0);
		if (n <= 0)
			goto out;
	}
	/* Repeat: a process may have forked while we were killing its parent. */
	for (int round = 0; round < 10; round++) {
		n = ns_pids(name, pids, KILL_MAX);
		if (n <= 0)
			break;
		for (i = 0; i < n && i < KILL_MAX; i++)
			kill(pids[i], SIGKILL);
		sleep_ms(10);
	}
out:
	free(pids);
	return n < 0 ? n : 0;
}

int netnsfs_delete(const char *name, int grace_ms)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	err = name_ok(name);
	if (err)
		return err;
	err = ns_path(path, sizeof(path), name);
	if (err)
		return err;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	err = kill_all(name, grace_ms);
	if (err && err != -ENOENT)
		return err;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int netnsfs_list(const char *prefix, int (*fn)(const char *name, void *arg), void *arg)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(NETNS_RUN_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (plen && strncmp(de->d_name, prefix, plen))
			continue;
		ret = fn(de->d_name, arg);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

int netnsfs_enter(int nsfd, int *saved)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*saved = fd;
	return 0;
}

int netnsfs_leave(int saved)
{
	int err = 0;

	if (setns(saved, CLONE_NEWNET) < 0)
		err = -errno;
	close(saved);
	return err;
}

int netnsfs_sysctl(int nsfd, const char *key, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	int saved = -1, fd, err = 0, n;
	ssize_t w;

	if (!*key || strstr(key, ".."))
		return -EINVAL;
	n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (!strchr(key, '/')) /* "net.ipv4.ip_forward", as sysctl(8) writes it */
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
	if (nsfd >= 0) {
		err = netnsfs_enter(nsfd, &saved);
		if (err)
			return err;
	}
	/* /proc/sys/net follows the namespace of the opener, at open time. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	if (saved >= 0 && netnsfs_leave(saved) < 0)
		abort(); /* never continue in the wrong namespace */
	if (fd < 0)
		return err;
	w = write(fd, value, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}
