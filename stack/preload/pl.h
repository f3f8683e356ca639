/* The preload shim's pure parts (stack/preload/so/shim.c is the shim itself, built
 * only into build/lib/libmpt-preload.so): the descriptor table that follows dup and
 * close, the fallback for socket options the socket layer does not know, the
 * loopback rule, and the MPT_RUN_* environment mpt-run hands the shim.  Nothing here
 * makes a system call, so the unit tests drive it directly. */
#ifndef MPT_PL_H
#define MPT_PL_H

#include "mpt_socket.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- descriptors ---------------------------------------------------------------------- *
 * Every libmpt socket is one open AF_UNIX socketpair end that the application may
 * hold under several numbers (dup, dup2, dup3, F_DUPFD).  The socket table knows it by
 * one of them, the group's key; the other numbers are copies.  Closing a copy only
 * closes that number; closing the key while copies remain moves the key to one of
 * them (mpt_sk_rekey); closing the last number closes the socket (mpt_sk_close).
 *
 * grp[fd] is written under the caller's lock and read without it (atomic loads), so
 * the shim's hot paths (send, recv) take no lock. */
struct pl_fdtab {
	size_t cap;	/* descriptors 0 .. cap-1 can be tracked */
	int *grp;	/* grp[fd]: the group's key + 1; 0: not a libmpt socket */
	unsigned *refs; /* refs[key]: numbers in key's group */
	uint64_t *ino;	/* ino[key]: the socketpair end's inode, to tell a stale number */
};

/* What pl_fdtab_drop did. */
struct pl_drop {
	int key;    /* the group's key before the drop */
	bool last;  /* fd was the group's last number: the socket is to be closed */
	int newkey; /* >= 0: fd was the key and this copy is the key now (rekey) */
};

/* Allocate a table for descriptors below cap (> 0).  0, -EINVAL or -ENOMEM. */
int pl_fdtab_init(struct pl_fdtab *t, size_t cap);

/* Free the arrays.  NULL or never initialised (zeroed): no-op. */
void pl_fdtab_free(struct pl_fdtab *t);

/* Track fd as a new socket, its own key, with the inode ino.  0, -EBADF (fd < 0 or
 * >= cap), -EEXIST (fd is tracked already). */
int pl_fdtab_add(struct pl_fdtab *t, int fd, uint64_t ino);

/* The key of fd's group, or -1 when fd is not a tracked socket (or out of range). */
int pl_fdtab_key(const struct pl_fdtab *t, int fd);

/* How many numbers fd's group has (0: not tracked). */
unsigned pl_fdtab_refs(const struct pl_fdtab *t, int fd);

/* The inode recorded for fd's group (0: not tracked). */
uint64_t pl_fdtab_ino(const struct pl_fdtab *t, int fd);

/* newfd is now a copy of oldfd.  0, -ENOENT (oldfd not tracked), -EBADF (newfd out of
 * range), -EEXIST (newfd is tracked: drop it first).  oldfd == newfd: 0, no change. */
int pl_fdtab_dup(struct pl_fdtab *t, int oldfd, int newfd);

/* fd is closed (or replaced): forget the number and say what it means in *d.
 * 0, or -ENOENT when fd is not tracked. */
int pl_fdtab_drop(struct pl_fdtab *t, int fd, struct pl_drop *d);

/* The smallest tracked number >= from, or -1: for walking the table at exit. */
int pl_fdtab_next(const struct pl_fdtab *t, int from);

/* ---- socket options the socket layer answers ENOPROTOOPT ------------------------------ */
enum pl_opt_way {
	PL_OPT_REFUSE, /* ENOPROTOOPT, as the layer said */
	PL_OPT_NATIVE, /* the socketpair end honours it: SO_RCVTIMEO, SO_SNDTIMEO, SO_RCVLOWAT */
	PL_OPT_IGNORE, /* a tuning knob with no effect on what the application sees:
			* set succeeds and changes nothing, get reads the kernel's default */
};

/* How the shim answers (level, name) after the layer refused it; *dflt gets the
 * value a get of an ignored option reads. */
enum pl_opt_way pl_opt_fallback(int level, int name, int *dflt);

/* ---- where a connection goes ---------------------------------------------------------- */

/* Whether sa (len bytes, checked) is a loopback address: 127.0.0.0/8, ::1 or
 * ::ffff:127.x.y.z.  libmpt does not run on lo, so the shim gives such sockets to the
 * kernel. */
bool pl_addr_loopback(const struct sockaddr *sa, socklen_t len);

/* Whether the IP of sa (AF_INET, AF_INET6 or v4-mapped) equals the IP of b (either
 * family); ports are not compared. */
bool pl_addr_same_ip(const struct sockaddr *sa, socklen_t len, const struct sockaddr *b);

/* ---- MPT_RUN_*: what mpt-run tells the shim ------------------------------------------- *
 *  MPT_RUN_SCHEDULER     libmpt scheduler name (mpt_scheduler_name)
 *  MPT_RUN_PATH_MANAGER  NAME[:ARG] (mpt_path_manager_valid)
 *  MPT_RUN_CC            congestion control (mpt_cc_name); default cubic, as mpt-perf
 *  MPT_RUN_ENDPOINTS     space-separated ADDR[,id=N][,signal][,subflow][,backup][,fullmesh]
 *  MPT_RUN_MAX_SUBFLOWS  1..255, counting the first (default: ip mptcp limits)
 *  MPT_RUN_NO_MPTCP      1: libmpt speaks plain TCP
 *  MPT_RUN_LOG           a log file: the start, each listener's port, sockets given
 *                        to the kernel, and at exit libmpt's counters (nstat's form)
 *  MPT_RUN_LINGER        seconds a closed connection gets at exit to finish (default 10)
 */
#define PL_MAX_ENDPOINTS 16

struct pl_env {
	char scheduler[32];
	char path_manager[32];
	char cc[16];
	struct mpt_socket_endpoint endpoints[PL_MAX_ENDPOINTS];
	int nendpoints;
	uint8_t max_subflows; /* 0: follow the kernel's limits */
	bool no_mptcp;
	char log[256]; /* "" : none */
	uint64_t linger_ns;
};

/* Read the MPT_RUN_* variables through get (getenv, or a test's table) into *e.
 * Returns 0, or -1 with a one-line reason naming the variable in err. */
int pl_env_parse(struct pl_env *e, const char *(*get)(const char *name), char *err, size_t errlen);

/* Parse one endpoint, ADDR[,id=N][,signal][,subflow][,backup][,fullmesh] (id 0: none
 * given).  0, or -1 with a reason in err. */
int pl_endpoint_parse(const char *s, struct mpt_socket_endpoint *ep, char *err, size_t errlen);

/* Fill cfg for the shim's stack from e: MPTCP on (unless no_mptcp), 4 MiB buffers as
 * mpt-perf, e's scheduler / path manager / cc (pointers into e: keep e alive). */
void pl_env_config(const struct pl_env *e, struct mpt_config *cfg);

#endif
