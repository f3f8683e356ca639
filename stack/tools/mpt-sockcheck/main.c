/* mpt-sockcheck: a small client written against the socket layer (mpt_socket.h),
 * as an application would use it: socket/connect/write/shutdown/read on the
 * descriptor, then Linux's SOL_MPTCP getsockopts and RFC 6897's options.
 *
 *   mpt-sockcheck -c ADDR -p PORT -n BYTES [--add LOCAL_ADDR] [--seed N]
 *   mpt-sockcheck -s [-B ADDR] -p PORT [--ready-fd FD]
 *
 * Sends BYTES of the deterministic pattern (common/pattern.c), shuts down writing,
 * reads the peer's answer (the hex SHA-256 of what it received, one line) and
 * compares it with its own.  With --add, TCP_MULTIPATH_ADD opens a subflow from
 * LOCAL_ADDR when half the bytes are written.  Before closing it prints one JSON
 * object: the transfer, MPTCP_INFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO and
 * TCP_MULTIPATH_SUBFLOWS / _CONNID as read from the socket.  Exit 0 when the
 * digests match, 1 otherwise, 2 on bad arguments.
 *
 * With -s it is the other end: listen (blocking accept), read to EOF, answer the
 * hex SHA-256 of what arrived, print the same JSON (bytes, sha256, the options)
 * and exit 0; --ready-fd FD gets "ready" once it listens. */
#include "mpt_socket.h"
#include "pattern.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static void print_sa(const struct sockaddr_storage *ss)
{
	char b[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, b, sizeof(b));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, b, sizeof(b));
		port = ntohs(in6->sin6_port);
	}
	printf("{\"addr\": \"%s\", \"port\": %u}", b, port);
}

static void print_pairs(const struct mpt_uapi_subflow_addrs *a, unsigned n)
{
	printf("[");
	for (unsigned i = 0; i < n; i++) {
		printf("%s{\"local\": ", i ? ", " : "");
		print_sa(&a[i].local);
		printf(", \"remote\": ");
		print_sa(&a[i].remote);
		printf("}");
	}
	printf("]");
}

static void print_info(const struct mpt_uapi_mptcp_info *m)
{
	printf("{\"subflows\": %u, \"subflows_total\": %u, \"token\": %u, \"flags\": %u, "
	       "\"bytes_sent\": %llu, \"bytes_acked\": %llu, \"bytes_received\": %llu, "
	       "\"bytes_retrans\": %llu, \"write_seq\": %llu, \"snd_una\": %llu, "
	       "\"subflows_max\": %u, \"local_addr_used\": %u, \"csum_enabled\": %u}",
	       m->mptcpi_subflows, m->mptcpi_subflows_total, m->mptcpi_token, m->mptcpi_flags,
	       (unsigned long long)m->mptcpi_bytes_sent, (unsigned long long)m->mptcpi_bytes_acked,
	       (unsigned long long)m->mptcpi_bytes_received,
	       (unsigned long long)m->mptcpi_bytes_retrans, (unsigned long long)m->mptcpi_write_seq,
	       (unsigned long long)m->mptcpi_snd_una, m->mptcpi_subflows_max,
	       m->mptcpi_local_addr_used, m->mptcpi_csum_enabled);
}

static int report(struct mpt_sk_table *t, int fd)
{
	struct mpt_uapi_mptcp_info mi;
	struct {
		struct mpt_uapi_subflow_data d;
		struct mpt_uapi_subflow_addrs a[8];
	} sa;
	struct mpt_uapi_full_info fi;
	struct mpt_uapi_subflow_info si[8];
	struct mpt_uapi_subflow_addrs pairs[8];
	uint32_t connid = 0;
	socklen_t l;

	l = sizeof(mi);
	if (mpt_sk_getsockopt(t, fd, SOL_MPTCP, MPTCP_INFO, &mi, &l))
		return -errno;
	printf(",\n \"mptcp_info\": ");
	print_info(&mi);

	memset(&sa, 0, sizeof(sa));
	sa.d.size_subflow_data = sizeof(sa.d);
	sa.d.size_user = sizeof(sa.a[0]);
	l = sizeof(sa);
	if (mpt_sk_getsockopt(t, fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l))
		return -errno;
	printf(",\n \"subflow_addrs\": {\"num_subflows\": %u, \"size_kernel\": %u, \"addrs\": ",
	       sa.d.num_subflows, sa.d.size_kernel);
	print_pairs(sa.a, (unsigned)((l - sizeof(sa.d)) / sizeof(sa.a[0])));
	printf("}");

	memset(&fi, 0, sizeof(fi));
	memset(si, 0, sizeof(si));
	fi.size_sfinfo_user = sizeof(si[0]);
	fi.size_arrays_user = 8;
	fi.subflow_info = (uint64_t)(uintptr_t)si;
	l = sizeof(fi);
	if (mpt_sk_getsockopt(t, fd, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l))
		return -errno;
	printf(",\n \"full_info\": {\"num_subflows\": %u, \"mptcp_info\": ", fi.num_subflows);
	print_info(&fi.mptcp_info);
	printf(", \"subflows\": [");
	for (unsigned i = 0; i < fi.num_subflows && i < 8; i++) {
		printf("%s{\"id\": %u, \"addrs\": ", i ? ", " : "", si[i].id);
		print_pairs(&si[i].addrs, 1);
		printf("}");
	}
	printf("]}");

	l = sizeof(pairs);
	if (mpt_sk_getsockopt(t, fd, IPPROTO_TCP, TCP_MULTIPATH_SUBFLOWS, pairs, &l))
		return -errno;
	printf(",\n \"rfc6897_subflows\": ");
	print_pairs(pairs, (unsigned)(l / sizeof(pairs[0])));
	l = sizeof(connid);
	if (mpt_sk_getsockopt(t, fd, IPPROTO_TCP, TCP_MULTIPATH_CONNID, &connid, &l))
		return -errno;
	printf(",\n \"rfc6897_connid\": %u", connid);
	return 0;
}

/* -s: one connection, read to EOF, answer the digest. */
static int serve(const char *bind_addr, uint16_t port, int ready_fd)
{
	static uint8_t buf[1 << 16];
	struct sockaddr_storage la, peer;
	socklen_t lalen, plen = sizeof(peer);
	struct mpt_sk_table *t;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dig[32];
	char hex[66], err[256];
	uint64_t got = 0;
	int lfd, fd, rv;

	if (parse(bind_addr ? bind_addr : "0.0.0.0", port, &la, &lalen)) {
		fprintf(stderr, "mpt-sockcheck: -B %s: not an IP address\n", bind_addr);
		return 2;
	}
	if (mpt_socket_start(NULL, err, sizeof(err))) {
		fprintf(stderr, "mpt-sockcheck: %s\n", err);
		return 1;
	}
	t = mpt_socket_table();
	lfd = mpt_sk_socket(t, la.ss_family, SOCK_STREAM, IPPROTO_MPTCP);
	if (lfd < 0 || mpt_sk_bind(t, lfd, (struct sockaddr *)&la, lalen) ||
	    mpt_sk_listen(t, lfd, 4)) {
		fprintf(stderr, "mpt-sockcheck: listen on port %u: %s\n", port, strerror(errno));
		return 1;
	}
	if (ready_fd >= 0 && (write(ready_fd, "ready\n", 6) != 6 || close(ready_fd))) {
		fprintf(stderr, "mpt-sockcheck: --ready-fd %d: %s\n", ready_fd, strerror(errno));
		return 1;
	}
	fd = mpt_sk_accept(t, lfd, (struct sockaddr *)&peer, &plen, 0);
	if (fd < 0) {
		fprintf(stderr, "mpt-sockcheck: accept: %s\n", strerror(errno));
		return 1;
	}
	mpt_sk_close(t, lfd);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0) {
			fprintf(stderr, "mpt-sockcheck: read: %s\n", strerror(errno));
			return 1;
		}
		if (!r)
			break;
		EVP_DigestUpdate(md, buf, (size_t)r);
		got += (uint64_t)r;
	}
	EVP_DigestFinal_ex(md, dig, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	printf("{\"bytes\": %llu, \"sha256\": \"%s\", \"peer\": ", (unsigned long long)got, hex);
	print_sa(&peer);
	rv = report(t, fd);
	printf("}\n");
	fflush(stdout);
	strcat(hex, "\n");
	if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex))
		rv = -errno;
	mpt_sk_close(t, fd);
	mpt_socket_stop();
	if (rv) {
		fprintf(stderr, "mpt-sockcheck: %s\n", strerror(-rv));
		return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mpt-sockcheck -c ADDR -p PORT -n BYTES [--add LOCAL_ADDR] "
			"[--seed N]\n       mpt-sockcheck -s [-B ADDR] -p PORT [--ready-fd FD]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	const char *host = NULL, *add = NULL, *bind_addr = NULL;
	bool server = false;
	int ready_fd = -1;
	struct sockaddr_storage dst, la;
	socklen_t dlen, lalen = 0;
	uint64_t bytes = 0, seed = 1, sent = 0;
	uint16_t port = 0;
	struct mpt_sk_table *t;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dig[32];
	char hex[65], answer[128] = "";
	size_t alen = 0;
	char err[256];
	bool added = false;
	int fd, rv, ok;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			host = argv[++i];
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			port = (uint16_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			if (units_parse_size(argv[++i], &bytes)) {
				fprintf(stderr, "mpt-sockcheck: -n %s: not a size (64MiB, 1000)\n",
					argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-s"))
			server = true;
		else if (!strcmp(argv[i], "-B") && i + 1 < argc)
			bind_addr = argv[++i];
		else if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc)
			ready_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--add") && i + 1 < argc)
			add = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else
			usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (server) {
		if (!port || host)
			usage();
		return serve(bind_addr, port, ready_fd);
	}
	if (!host || !port || !bytes)
		usage();
	if (parse(host, port, &dst, &dlen)) {
		fprintf(stderr, "mpt-sockcheck: -c %s: not an IP address\n", host);
		return 2;
	}
	if (add && parse(add, 0, &la, &lalen)) {
		fprintf(stderr, "mpt-sockcheck: --add %s: not an IP address\n", add);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mpt_socket_start(NULL, err, sizeof(err))) {
		fprintf(stderr, "mpt-sockcheck: %s\n", err);
		return 1;
	}
	t = mpt_socket_table();
	fd = mpt_sk_socket(t, dst.ss_family, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0 || mpt_sk_connect(t, fd, (struct sockaddr *)&dst, dlen)) {
		fprintf(stderr, "mpt-sockcheck: connect to %s port %u: %s\n", host, port,
			strerror(errno));
		return 1;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while (sent < bytes) {
		size_t n = bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
		ssize_t w;

		pattern_fill(seed, sent, buf, n);
		w = write(fd, buf, n);
		if (w < 0) {
			fprintf(stderr, "mpt-sockcheck: write: %s\n", strerror(errno));
			return 1;
		}
		EVP_DigestUpdate(md, buf, (size_t)w);
		sent += (uint64_t)w;
		if (add && !added && sent >= bytes / 2) {
			added = true;
			if (mpt_sk_setsockopt(t, fd, IPPROTO_TCP, TCP_MULTIPATH_ADD, &la, lalen)) {
				fprintf(stderr, "mpt-sockcheck: TCP_MULTIPATH_ADD %s: %s\n", add,
					strerror(errno));
				return 1;
			}
		}
	}
	EVP_DigestFinal_ex(md, dig, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	if (mpt_sk_shutdown(t, fd, SHUT_WR)) {
		fprintf(stderr, "mpt-sockcheck: shutdown: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t r = read(fd, answer + alen, sizeof(answer) - 1 - alen);

		if (r <= 0)
			break;
		alen += (size_t)r;
		if (alen == sizeof(answer) - 1)
			break;
	}
	answer[alen] = 0;
	answer[strcspn(answer, "\r\n")] = 0;
	ok = !strcmp(answer, hex);
	printf("{\"bytes\": %llu, \"sha256\": \"%s\", \"peer_sha256\": \"%s\", \"verified\": %s",
	       (unsigned long long)sent, hex, answer, ok ? "true" : "false");
	rv = report(t, fd);
	printf("}\n");
	fflush(stdout);
	if (rv) {
		fprintf(stderr, "mpt-sockcheck: getsockopt: %s\n", strerror(-rv));
		ok = 0;
	}
	mpt_sk_close(t, fd);
	mpt_socket_stop();
	if (!ok)
		fprintf(stderr, "mpt-sockcheck: the peer's digest %s differs from ours %s\n",
			answer[0] ? answer : "(none)", hex);
	return ok ? 0 : 1;
}
