#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int netaddr_parse(const char *s, struct netaddr *out)
{
	char buf[NETADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	long plen;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->bytes) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->bytes) == 1)
		out->family = AF_INET6;
	else
		return -1;
	plen = out->family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		long max = plen;

		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return -1;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen < 0 || plen > max)
			return -1;
	}
	out->prefixlen = (uint8_t)plen;
	return 0;
}

const char *netaddr_fmt(const struct netaddr *a, bool with_prefix, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!a->family || !inet_ntop(a->family, a->bytes, tmp, sizeof(tmp))) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (with_prefix)
		snprintf(buf, len, "%s/%u", tmp, a->prefixlen);
	else
		snprintf(buf, len, "%s", tmp);
	return buf;
}

size_t netaddr_len(const struct netaddr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

struct netaddr netaddr_network(const struct netaddr *a)
{
	struct netaddr n = *a;
	size_t len = netaddr_len(a);

	for (size_t i = 0; i < len; i++) {
		int bits = (int)a->prefixlen - (int)(i * 8);
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		n.bytes[i] &= mask;
	}
	return n;
}

bool netaddr_in_net(const struct netaddr *a, const struct netaddr *net)
{
	struct netaddr x = *a, y;

	if (a->family != net->family)
		return false;
	x.prefixlen = net->prefixlen;
	x = netaddr_network(&x);
	y = netaddr_network(net);
	return memcmp(x.bytes, y.bytes, netaddr_len(a)) == 0;
}

bool netaddr_eq(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, netaddr_len(a)) == 0;
}
