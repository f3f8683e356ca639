/* The socket table's internals, shared by sock.c (calls, shuttling) and sockopt.c. */
#ifndef MPT_SK_H
#define MPT_SK_H

#include "mpt_socket.h"

#include <pthread.h>

#define SK_STAGE   65536 /* bytes between the descriptor and the connection, each way */
#define SK_PENDING 128	 /* accepted connections waiting per listener */

enum sk_state { SK_NEW, SK_LISTEN, SK_CONNECTING, SK_CONNECTED, SK_FAILED };

struct sk {
	int app_fd; /* the application's end; -1 once it closed it through the table */
	int rt_fd;  /* ours */
	int family; /* AF_INET / AF_INET6 */
	int protocol;
	enum sk_state state;
	bool bound, v6only, mptcp; /* mptcp: TCP_MULTIPATH_ENABLE */
	struct mpt_sockaddr local, remote;
	uint32_t id, id4; /* connection or listener; id4: the IPv4 listener of a v6 any */
	int so_error;
	/* connecting: filler bytes written to app_fd (so it is not writable), sndbuf to
	 * give back */
	size_t filler;
	int app_sndbuf;
	/* listener: accepted connections not yet taken by mpt_sk_accept */
	uint32_t pending[SK_PENDING];
	unsigned npending;
	/* shuttling: net -> app in out[out_off, out_len), app -> net in in[in_off, in_len) */
	uint8_t *out, *in;
	size_t out_off, out_len, in_off, in_len;
	bool eof_out;	   /* the peer's EOF (or the failure) is passed to rt_fd */
	bool app_eof;	   /* read 0 from rt_fd: the application shut down writing */
	bool wr_shut_sent; /* mpt_shutdown(WR) done */
	bool rd_shut;
	bool closed;	  /* the application closed it through the table */
	bool hup;	  /* every copy of app_fd is closed (POLLHUP seen on rt_fd) */
	bool abort_close; /* unread data or SO_LINGER 0 at close */
	bool linger0, nodelay, reuseaddr, reuseport, keepalive;
	int notsent_lowat;
	char sched[16]; /* MPT_SO_SCHEDULER before the connection exists */
};

struct mpt_sk_table {
	pthread_mutex_t lock;
	struct mpt_stack *st;
	struct mpt_config cfg;
	struct mpt_sk_hooks h;
	struct sk **v;
	size_t n, cap;
};

struct sk *sk_find(struct mpt_sk_table *t, int fd);
uint64_t sk_now(struct mpt_sk_table *t);
/* sockaddr <-> mpt_sockaddr in the socket's family; 0 or -errno */
int sk_from_sa(const struct sk *s, const struct sockaddr *sa, socklen_t len,
	       struct mpt_sockaddr *out);
socklen_t sk_to_sa(int family, const struct mpt_sockaddr *a, struct sockaddr_storage *ss);

#endif
