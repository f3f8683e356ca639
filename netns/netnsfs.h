/* Named network namespaces, made the way `ip netns add` makes them (a bind mount of
 * the namespace on /run/netns/NAME), so `ip netns exec NAME` and `ip -n NAME` work
 * on everything mpnet builds.  All functions return 0 or -errno unless noted. */
#ifndef MPNET_NETNSFS_H
#define MPNET_NETNSFS_H

#include <stdbool.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"

/* Create namespace NAME (fails with -EEXIST if it exists).  The calling thread's
 * namespace is unchanged on return. */
int netnsfs_create(const char *name);

/* Open /run/netns/NAME read-only; returns an fd or -errno. */
int netnsfs_open(const char *name);

/* Kill every process whose network namespace is NAME (SIGTERM, then SIGKILL for
 * any that remain after grace_ms; the calling process is spared), unmount and
 * remove /run/netns/NAME.  A missing namespace is not an error.  The kernel frees
 * the namespace (and its veths) asynchronously once nothing holds it: open fds of
 * it and sockets opened in it keep it alive. */
int netnsfs_delete(const char *name, int grace_ms);

/* Call fn for every namespace under /run/netns whose name starts with prefix.
 * Stops early and returns fn's value if it returns non-zero. */
int netnsfs_list(const char *prefix, int (*fn)(const char *name, void *arg), void *arg);

/* Switch the calling thread into namespace fd; *saved receives an fd of the old
 * one (for netnsfs_leave).  */
int netnsfs_enter(int nsfd, int *saved);
int netnsfs_leave(int saved);

/* Number of processes whose network namespace is NAME (>= 0), or -errno. */
int netnsfs_count_procs(const char *name);

/* Write VALUE to /proc/sys/KEY (e.g. "net/ipv4/ip_forward", or with dots as
 * sysctl(8) writes it when the key has no '/') as seen from namespace nsfd (-1: the
 * caller's).  The calling thread's namespace is unchanged on return. */
int netnsfs_sysctl(int nsfd, const char *key, const char *value);

#endif
