/* The preload shim's rules: socket options the socket layer refuses, and which
 * addresses go to the kernel (pl.h). */
#include "pl.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>

#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif

/* Tuning knobs that change how the kernel's TCP behaves, never what bytes the
 * application reads or when a call returns.  curl sets the keepalive ones on every
 * connection, iperf3 -S sets IP_TOS; failing them would stop those programs for
 * nothing.  Values: what a get reads (Linux's defaults). */
static const struct {
	int level, name, dflt;
} ignored[] = {
	{SOL_SOCKET, SO_PRIORITY, 0},
	{SOL_SOCKET, SO_OOBINLINE, 0},
	{SOL_SOCKET, SO_BUSY_POLL, 0},
	{SOL_SOCKET, SO_INCOMING_CPU, -1},
	{IPPROTO_IP, IP_TOS, 0},
	{IPPROTO_IP, IP_RECVERR, 0},
	{IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0},
	{IPPROTO_IPV6, IPV6_TCLASS, 0},
	{IPPROTO_IPV6, IPV6_RECVERR, 0},
	{IPPROTO_TCP, TCP_KEEPIDLE, 7200},
	{IPPROTO_TCP, TCP_KEEPINTVL, 75},
	{IPPROTO_TCP, TCP_KEEPCNT, 9},
	{IPPROTO_TCP, TCP_USER_TIMEOUT, 0},
	{IPPROTO_TCP, TCP_QUICKACK, 1},
	{IPPROTO_TCP, TCP_CORK, 0},
	{IPPROTO_TCP, TCP_DEFER_ACCEPT, 0},
	{IPPROTO_TCP, TCP_SYNCNT, 6},
	{IPPROTO_TCP, TCP_LINGER2, 60},
	{IPPROTO_TCP, TCP_FASTOPEN, 0},
	{IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 0},
};

enum pl_opt_way pl_opt_fallback(int level, int name, int *dflt)
{
	if (dflt)
		*dflt = 0;
	if (level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO || name == SO_SNDTIMEO || name == SO_RCVTIMEO_NEW ||
	     name == SO_SNDTIMEO_NEW || name == SO_RCVLOWAT))
		return PL_OPT_NATIVE;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (ignored[i].level == level && ignored[i].name == name) {
			if (dflt)
				*dflt = ignored[i].dflt;
			return PL_OPT_IGNORE;
		}
	return PL_OPT_REFUSE;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The IP of sa as 16 bytes (IPv4 v4-mapped); false for anything else. */
static bool ip16(const struct sockaddr *sa, socklen_t len, uint8_t out[16])
{
	if (!sa || len < sizeof(sa_family_t))
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memcpy(out, v4mapped, 12);
		memcpy(out + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool pl_addr_loopback(const struct sockaddr *sa, socklen_t len)
{
	static const uint8_t one[16] = {[15] = 1};
	uint8_t ip[16];

	if (!ip16(sa, len, ip))
		return false;
	if (!memcmp(ip, one, 16))
		return true;
	return !memcmp(ip, v4mapped, 12) && ip[12] == 127;
}

bool pl_addr_same_ip(const struct sockaddr *sa, socklen_t len, const struct sockaddr *b)
{
	uint8_t x[16], y[16];

	if (!b || !ip16(sa, len, x) ||
	    !ip16(b,
		  b->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6),
		  y))
		return false;
	return !memcmp(x, y, 16);
}
