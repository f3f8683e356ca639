/* libmpt behind sockets: a POSIX-like socket layer over one libmpt stack.
 *
 * Every libmpt socket the application gets is a real descriptor: one end of an
 * AF_UNIX SOCK_STREAM socketpair whose other end the layer shuttles to and from the
 * libmpt connection.  So read/write/send/recv(msg)/poll/select/epoll/dup/fork work on
 * it natively; the layer implements only the calls below (socket ... setsockopt).
 * See docs/ARCHITECTURE.md, "Sockets over libmpt".
 *
 * The layer is a *socket table* driven by an explicit step (mpt_sk_step): no
 * thread, no clock of its own.  Whoever runs the stack (a runtime thread over real
 * packets, or a unit test over the virtual-time simulator) calls mpt_sk_step after
 * each round of the stack, and sleeps on mpt_sk_pollfds.  Calls from the
 * application lock the table; a blocking call waits through hooks.wait with the lock
 * released (the runtime keeps stepping meanwhile).
 *
 * Semantics, as TCP's:
 *  - blocking or not is the descriptor's O_NONBLOCK (SOCK_NONBLOCK, fcntl);
 *  - connect: EINPROGRESS when non-blocking; the descriptor becomes writable when the
 *    handshake completes or fails, SO_ERROR then says which (0, ECONNREFUSED,
 *    ETIMEDOUT...).  A write on a connecting blocking socket waits for the end of the
 *    handshake; a non-blocking one fails with EAGAIN;
 *  - a listener's descriptor is readable when a connection waits in accept;
 *  - backpressure: bytes are taken from the descriptor only as fast as the
 *    connection's send buffer accepts them, and delivered only as fast as the
 *    application reads (the socketpair's own buffers add to both);
 *  - shutdown(SHUT_WR) or close after writing: DATA_FIN (FIN) after the data; the
 *    peer's DATA_FIN: read returns 0 after the data;
 *  - close with unread received data (or SO_LINGER 0): the connection is reset;
 *  - a connection that fails (reset, timeout) ends the descriptor's stream: read
 *    returns 0 and write fails with EPIPE; SO_ERROR gives the reason (ECONNRESET,
 *    ETIMEDOUT): the one difference from a kernel socket, where read returns it.
 *
 * Every call returns as its POSIX namesake: >= 0, or -1 with errno.  EBADF: fd is
 * not a socket of this table.
 */
#ifndef MPT_SOCKET_H
#define MPT_SOCKET_H

#include "mpt.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

/* ---- Linux's SOL_MPTCP getsockopts, with the kernel's uapi layouts ---------------- *
 * (include/uapi/linux/mptcp.h of Linux 6.18; this machine's <linux/mptcp.h> may be
 * older and lack some: the layouts below are the kernel's, so a program built
 * against either header reads the same bytes.)  The kernel's size negotiation
 * holds: MPTCP_INFO copies min(optlen, sizeof) and sets optlen; MPTCP_TCPINFO and
 * MPTCP_SUBFLOW_ADDRS take a struct mpt_uapi_subflow_data header (size_subflow_data
 * >= 16 and <= optlen, num_subflows = size_kernel = 0 on input) followed by elements
 * of min(size_user, kernel size) bytes; num_subflows is the real count, elements are
 * written while they fit; MPTCP_FULL_INFO as mptcp_getsockopt_full_info(). */
#ifndef MPTCP_INFO
#define MPTCP_INFO 1
#endif
#ifndef MPTCP_TCPINFO
#define MPTCP_TCPINFO 2
#endif
#ifndef MPTCP_SUBFLOW_ADDRS
#define MPTCP_SUBFLOW_ADDRS 3
#endif
#ifndef MPTCP_FULL_INFO
#define MPTCP_FULL_INFO 4
#endif

#define MPT_UAPI_INFO_FLAG_FALLBACK	       0x1
#define MPT_UAPI_INFO_FLAG_REMOTE_KEY_RECEIVED 0x2

/* struct mptcp_info (96 bytes in 6.18) */
struct mpt_uapi_mptcp_info {
	uint8_t mptcpi_subflows;
	uint8_t mptcpi_add_addr_signal;
	uint8_t mptcpi_add_addr_accepted;
	uint8_t mptcpi_subflows_max;
	uint8_t mptcpi_add_addr_signal_max;
	uint8_t mptcpi_add_addr_accepted_max;
	uint32_t mptcpi_flags;
	uint32_t mptcpi_token;
	uint64_t mptcpi_write_seq;
	uint64_t mptcpi_snd_una;
	uint64_t mptcpi_rcv_nxt;
	uint8_t mptcpi_local_addr_used;
	uint8_t mptcpi_local_addr_max;
	uint8_t mptcpi_csum_enabled;
	uint32_t mptcpi_retransmits;
	uint64_t mptcpi_bytes_retrans;
	uint64_t mptcpi_bytes_sent;
	uint64_t mptcpi_bytes_received;
	uint64_t mptcpi_bytes_acked;
	uint8_t mptcpi_subflows_total;
	uint8_t reserved[3];
	uint32_t mptcpi_last_data_sent; /* ms ago; libmpt: 0 (not tracked) */
	uint32_t mptcpi_last_data_recv;
	uint32_t mptcpi_last_ack_recv;
};

/* struct mptcp_subflow_data */
struct mpt_uapi_subflow_data {
	uint32_t size_subflow_data; /* size of this structure in userspace */
	uint32_t num_subflows;	    /* must be 0, set by the layer */
	uint32_t size_kernel;	    /* must be 0, set by the layer */
	uint32_t size_user;	    /* size of one element in data[] */
} __attribute__((aligned(8)));

/* struct mptcp_subflow_addrs: local then remote, each a sockaddr_in / sockaddr_in6 in
 * a sockaddr_storage */
struct mpt_uapi_subflow_addrs {
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

/* struct mptcp_subflow_info */
struct mpt_uapi_subflow_info {
	uint32_t id; /* 1, 2, ... in subflow order */
	struct mpt_uapi_subflow_addrs addrs;
};

/* struct mptcp_full_info */
struct mpt_uapi_full_info {
	uint32_t size_tcpinfo_kernel; /* must be 0, set by the layer */
	uint32_t size_tcpinfo_user;
	uint32_t size_sfinfo_kernel; /* must be 0, set by the layer */
	uint32_t size_sfinfo_user;
	uint32_t num_subflows; /* must be 0, set by the layer (real subflow count) */
	uint32_t size_arrays_user;
	uint64_t subflow_info; /* pointer to size_arrays_user * size_sfinfo_user bytes */
	uint64_t tcp_info;     /* pointer to size_arrays_user * size_tcpinfo_user bytes */
	struct mpt_uapi_mptcp_info mptcp_info;
};

/* ---- RFC 6897 section 5.3: the MPTCP-aware API ------------------------------------ *
 * The RFC names the options and gives no numbers.  They are IPPROTO_TCP (SOL_TCP)
 * options here (SOL_MPTCP is accepted too), numbered 0x6897xxxx: Linux numbers its
 * TCP options below 64 and its SOL_MPTCP ones below 16, so these cannot collide.
 *
 *  TCP_MULTIPATH_ENABLE   get/set  int: set before connect or listen (0 = plain TCP); get: the
 *                                  wish before the handshake, after it whether MPTCP
 *                                  is in use (0 after a fallback)
 *  TCP_MULTIPATH_ADD      set      one or more sockaddr_in / sockaddr_in6 back to back
 *                                  (optlen their total): open a subflow from each
 *                                  local address to the peer's first address (port 0:
 *                                  ephemeral).  EADDRNOTAVAIL: not a local address;
 *                                  ENOTCONN: not established; EOPNOTSUPP: not MPTCP
 *  TCP_MULTIPATH_REMOVE   set      as ADD: close the subflows from each address (port
 *                                  0: any port).  EADDRNOTAVAIL: no subflow matched
 *  TCP_MULTIPATH_SUBFLOWS get      an array of struct mpt_uapi_subflow_addrs (local,
 *                                  remote), one per live subflow, as many as optlen
 *                                  holds; optlen is set to the bytes written
 *  TCP_MULTIPATH_CONNID   get      uint32_t: the connection's local token (RFC 8684)
 */
#define TCP_MULTIPATH_ENABLE   0x68970001
#define TCP_MULTIPATH_ADD      0x68970002
#define TCP_MULTIPATH_REMOVE   0x68970003
#define TCP_MULTIPATH_SUBFLOWS 0x68970004
#define TCP_MULTIPATH_CONNID   0x68970005

/* libmpt's own, at SOL_MPTCP: the connection's scheduler by name (a string, as
 * TCP_CONGESTION; mpt_scheduler_name lists them).  Set after connect/accept (before:
 * remembered and applied when the connection is established); get: its name.
 * ENOENT: no such scheduler; EOPNOTSUPP: not an MPTCP connection. */
#define MPT_SO_SCHEDULER 0x68970101

/* ---- the socket table --------------------------------------------------------------- */
struct mpt_sk_table;

/* What the table needs from whoever runs the stack.  now is required; the rest may
 * be NULL. */
struct mpt_sk_hooks {
	void *ctx;
	/* the stack's clock (monotonic ns) */
	uint64_t (*now)(void *ctx);
	/* a blocking call waits for `events` (POLLIN / POLLOUT) on the application's
	 * descriptor fd; called with the table unlocked.  Returns 0 when it may retry,
	 * or a negative errno (EINTR) to give up.  NULL: blocking calls fail with
	 * EAGAIN. */
	int (*wait)(void *ctx, int fd, short events);
	/* a call changed what mpt_sk_pollfds would return, or queued output: the
	 * runtime should step soon */
	void (*wake)(void *ctx);
	/* the local source toward dst (routing's choice) for a connect without bind;
	 * returns 0 or a negative MPT_E*.  NULL: connect needs a bound address. */
	int (*pick_source)(void *ctx, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src);
	/* a free local port for listen/bind port 0, reserved; 0 or negative MPT_E* */
	int (*pick_port)(void *ctx, uint16_t *port);
	/* segments for this local port are for this stack from now on */
	int (*claim_port)(void *ctx, uint16_t port);
};

/* Create a table over stack `st` (borrowed; all calls on it go through the table's
 * lock from now on) whose configuration is `cfg` (NULL: defaults; copied: SO_SNDBUF
 * and friends report it).  Returns 0 and *out, or a negative MPT_E*. */
int mpt_sk_table_new(struct mpt_sk_table **out, struct mpt_stack *st, const struct mpt_config *cfg,
		     const struct mpt_sk_hooks *hooks);

/* Close every descriptor of the table, abort every connection, free.  NULL: no-op. */
void mpt_sk_table_free(struct mpt_sk_table *t);

/* The table's lock, for a runtime that steps the stack itself: hold it around
 * every call into the stack (mpt_stack_recv, mpt_stack_send, expiry...). */
void mpt_sk_lock(struct mpt_sk_table *t);
void mpt_sk_unlock(struct mpt_sk_table *t);

/* Move bytes between descriptors and connections, complete connects, queue
 * accepted connections, finish closes.  Call with the lock held, after each round
 * of the stack (and after mpt_stack_send flushed: it may queue more output, so
 * flush again).  Returns how many sockets made progress. */
int mpt_sk_step(struct mpt_sk_table *t);

/* The runtime's ends the table waits on, with their events (the application wrote,
 * closed, or read room back); at most max.  Lock held.  Returns the count. */
int mpt_sk_pollfds(struct mpt_sk_table *t, struct pollfd *pfds, int max);

/* socket(2): domain AF_INET or AF_INET6 (EAFNOSUPPORT), type SOCK_STREAM with
 * SOCK_NONBLOCK / SOCK_CLOEXEC (else ESOCKTNOSUPPORT), protocol 0, IPPROTO_TCP or
 * IPPROTO_MPTCP (else EPROTONOSUPPORT).  Returns the descriptor; EMFILE/ENFILE/ENOMEM. */
int mpt_sk_socket(struct mpt_sk_table *t, int domain, int type, int protocol);

/* bind(2): the address (any, or one of the stack's; an AF_INET6 socket takes
 * v4-mapped addresses) and port (0: one is picked at listen/connect).  EINVAL
 * (already bound, or a bad length / family), EAFNOSUPPORT. */
int mpt_sk_bind(struct mpt_sk_table *t, int fd, const struct sockaddr *sa, socklen_t len);

/* listen(2): an unbound socket gets a free port.  An AF_INET6 socket on the any
 * address also takes IPv4 (unless IPV6_V6ONLY).  EADDRINUSE, EINVAL (connected). */
int mpt_sk_listen(struct mpt_sk_table *t, int fd, int backlog);

/* accept4(2) (flags: SOCK_NONBLOCK, SOCK_CLOEXEC): the new descriptor, the peer's
 * address in sa.  EAGAIN (non-blocking, none waits), EINVAL (not listening),
 * EINTR. */
int mpt_sk_accept(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len, int flags);

/* connect(2), with a source picked by hooks.pick_source unless bound.  0 (blocking:
 * established), EINPROGRESS (non-blocking), EALREADY, EISCONN, ECONNREFUSED,
 * ETIMEDOUT, ENETUNREACH / EADDRNOTAVAIL (no source), EAFNOSUPPORT, EINVAL. */
int mpt_sk_connect(struct mpt_sk_table *t, int fd, const struct sockaddr *sa, socklen_t len);

/* shutdown(2): SHUT_WR sends DATA_FIN after what was written; SHUT_RD discards what
 * arrives.  ENOTCONN, EINVAL. */
int mpt_sk_shutdown(struct mpt_sk_table *t, int fd, int how);

/* close(2): the descriptor is closed now; the connection finishes in the
 * background (FIN after the data written) or is reset (unread data, SO_LINGER 0).
 * Copies of the descriptor (dup, fork) keep the connection until they close. */
int mpt_sk_close(struct mpt_sk_table *t, int fd);

/* The descriptor number fd no longer refers to the socket: the caller replaced it
 * (dup2 over it) or closed it behind the table's back.  As mpt_sk_close, but fd is
 * not closed and unread data does not reset the connection.  EBADF. */
int mpt_sk_detach(struct mpt_sk_table *t, int fd);

/* The socket is known by newfd from now on instead of fd: newfd is another
 * descriptor of the same open socket (dup), and fd is about to be closed by the
 * caller.  EBADF (fd unknown), EINVAL (newfd negative or another socket's). */
int mpt_sk_rekey(struct mpt_sk_table *t, int fd, int newfd);

/* Sockets in the table plus the stack's unfinished connections
 * (mpt_stack_open_conns): once every socket is closed, the connections still
 * delivering their data and FIN. */
size_t mpt_sk_busy(struct mpt_sk_table *t);

/* getsockname(2) / getpeername(2) (ENOTCONN); the socket's family decides the form
 * (IPv4 peers of an AF_INET6 socket appear v4-mapped). */
int mpt_sk_getsockname(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len);
int mpt_sk_getpeername(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len);

/* getsockopt(2) / setsockopt(2):
 *  SOL_SOCKET:  SO_ERROR (get, clears), SO_TYPE, SO_DOMAIN, SO_PROTOCOL
 *               (IPPROTO_MPTCP or IPPROTO_TCP), SO_ACCEPTCONN, SO_SNDBUF / SO_RCVBUF
 *               (get: libmpt's fixed buffers; set: accepted, no effect),
 *               SO_REUSEADDR / SO_REUSEPORT / SO_KEEPALIVE (accepted, stored),
 *               SO_LINGER (l_onoff with l_linger 0: close resets)
 *  IPPROTO_TCP: TCP_NODELAY (stored; libmpt's Nagle is per stack), TCP_MAXSEG (get),
 *               TCP_INFO (struct tcp_info of the first subflow; for MPTCP bytes and
 *               segments are the connection's sums), TCP_CONGESTION (get: the
 *               algorithm; set: the stack's own name only, EOPNOTSUPP for any
 *               other: libmpt's congestion control is per stack, mpt_config.cc),
 *               TCP_NOTSENT_LOWAT (stored), and RFC 6897's above
 *  IPV6:        IPV6_V6ONLY
 *  SOL_MPTCP:   MPTCP_INFO, MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO (get;
 *               EOPNOTSUPP on a plain TCP or fallen-back connection, as Linux),
 *               MPT_SO_SCHEDULER
 * ENOPROTOOPT for anything else; EINVAL for a short optlen; ENOTCONN for connection
 * data before connect. */
int mpt_sk_getsockopt(struct mpt_sk_table *t, int fd, int level, int name, void *val,
		      socklen_t *len);
int mpt_sk_setsockopt(struct mpt_sk_table *t, int fd, int level, int name, const void *val,
		      socklen_t len);

/* Whether fd is a socket of this table. */
bool mpt_sk_is_socket(struct mpt_sk_table *t, int fd);

/* The libmpt connection id behind fd (0: none yet), for callers that also use mpt.h
 * (mpt_conn_info ...); the stack must be used under mpt_sk_lock. */
uint32_t mpt_sk_conn_id(struct mpt_sk_table *t, int fd);

/* A negative MPT_E* as an errno value (MPT_ECONNREFUSED -> ECONNREFUSED ...). */
int mpt_sk_errno(int mpt_err);

/* ---- the process's runtime: the table behind a thread ------------------------------ */
struct mpt_rt;

/* Open libmpt on the calling thread's network namespace (every address a path, as
 * mpt-perf does; the namespace's `ip mptcp` endpoints and limits followed) with cfg
 * (NULL: MPTCP on, 4 MiB buffers, defaults otherwise), create the socket table and
 * start the thread that runs both (stack/socket/sock_rt.c).  Returns 0, or a
 * negative errno with a one-line reason in err (EALREADY: started already). */
int mpt_socket_start(const struct mpt_config *cfg, char *err, size_t errlen);

/* One MPTCP endpoint for mpt_socket_start_opts (as `ip mptcp endpoint add`). */
struct mpt_socket_endpoint {
	struct mpt_sockaddr addr; /* a local address (port unused) */
	uint8_t id;		  /* 1..255 */
	uint32_t flags;		  /* MPT_EP_* */
};

/* What mpt_socket_start_opts starts. */
struct mpt_socket_opts {
	const struct mpt_config *cfg; /* NULL: as mpt_socket_start(NULL) */
	/* endpoints declared instead of following `ip mptcp endpoint` (nendpoints > 0) */
	const struct mpt_socket_endpoint *endpoints;
	int nendpoints;
	bool own_limits; /* cfg->max_subflows holds: do not follow `ip mptcp limits` */
	/* connections closed at mpt_socket_stop get this long to finish their FIN
	 * exchange (their data acknowledged); 0: 2 s */
	uint64_t linger_ns;
};

/* As mpt_socket_start, with endpoints and limits of the caller's.  Returns 0, or a
 * negative errno with a one-line reason in err (ENOENT: an endpoint's address is not
 * a local address here). */
int mpt_socket_start_opts(const struct mpt_socket_opts *o, char *err, size_t errlen);

/* Whether the calling thread is the runtime's own (a preload shim passes that
 * thread's calls straight to the C library). */
bool mpt_socket_on_runtime_thread(void);

/* The started table (NULL before mpt_socket_start): pass it to the mpt_sk_* calls. */
struct mpt_sk_table *mpt_socket_table(void);

/* The started runtime (NULL before), for mpt_rt.h's calls (endpoints, stats) under
 * mpt_sk_lock. */
struct mpt_rt *mpt_socket_runtime(void);

/* Let closed sockets hand their data and FIN to the stack and finish their FIN
 * exchange (at most the linger time, 2 s by default), stop the thread, abort what is
 * left, close the runtime.  No-op when not started. */
void mpt_socket_stop(void);

/* The same with a linger time of the caller's: 0 stops at once (a caller that waited
 * for the connections itself, as the preload's exit does, does not wait twice). */
void mpt_socket_stop_within(uint64_t linger_ns);

#endif
