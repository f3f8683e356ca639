/* What the kernel knows about an mpt-perf connection: for an MPTCP socket the
 * connection-level MPTCP_INFO and, per subflow, addresses (MPTCP_SUBFLOW_ADDRS)
 * and tcp_info (MPTCP_TCPINFO); for TCP, or an MPTCP socket that fell back to
 * TCP, the one tcp_info.  Rendered as JSON for mpt-perf -J.
 */
#ifndef MPNET_PERF_SOCKINFO_H
#define MPNET_PERF_SOCKINFO_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/tcp.h>
#include <linux/mptcp.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

#define PERF_MAX_SUBFLOWS 16

struct perf_subflow {
	struct sockaddr_storage local, remote;
	struct tcp_info ti;
};

struct perf_sockinfo {
	bool is_mptcp;	/* SO_PROTOCOL says IPPROTO_MPTCP */
	bool fallback;	/* MPTCP socket running as plain TCP */
	bool have_info; /* mi is valid */
	struct mptcp_info mi;
	int n_sub;	  /* entries in sub[] */
	int n_sub_kernel; /* subflows the kernel reported (may exceed PERF_MAX_SUBFLOWS) */
	struct perf_subflow sub[PERF_MAX_SUBFLOWS];
	bool have_tcp; /* ti is valid (plain TCP or fallback) */
	struct tcp_info ti;
};

/* Fill si from the connected socket fd.  Returns 0; a failing getsockopt leaves
 * the matching part empty rather than failing the whole query. */
int perf_sockinfo_get(int fd, struct perf_sockinfo *si);

/* Per-subflow addresses and tcp_info of an MPTCP socket: one MPTCP_SUBFLOW_ADDRS
 * and one MPTCP_TCPINFO getsockopt, nothing else (cheap enough to call every 10 ms).
 * Fills up to max (<= PERF_MAX_SUBFLOWS) entries of sub and returns how many, with
 * the kernel's own count in *n_kernel (may be NULL); -errno when either call fails
 * (plain TCP, or an MPTCP socket that fell back). */
int perf_sockinfo_subflows(int fd, struct perf_subflow *sub, int max, int *n_kernel);

/* {"addr": "198.18.0.1", "port": 5201}; v4-mapped IPv6 shown as IPv4. */
json_t *perf_sockaddr_json(const struct sockaddr_storage *ss);

/* Add "mptcp" (object or null), "subflows" (array, MPTCP only) and "tcp" (object,
 * plain TCP or fallback only) to obj. */
void perf_sockinfo_json(const struct perf_sockinfo *si, json_t *obj);

/* Number of subflows with bytes_sent or bytes_received > 0. */
int perf_sockinfo_active_subflows(const struct perf_sockinfo *si);

#endif
