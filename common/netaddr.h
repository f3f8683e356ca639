/* IPv4/IPv6 addresses with a prefix length: the one address type every module
 * (topology, netlink, traffic tool) passes around. */
#ifndef MPNET_NETADDR_H
#define MPNET_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETADDR_STRLEN 64 /* enough for an IPv6 address with "/128" */

struct netaddr {
	int family;	   /* AF_INET or AF_INET6; 0 when unset */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 */
	uint8_t prefixlen; /* 32/128 for a host address */
};

/* Parse "198.18.0.1", "198.18.0.1/24", "2001:db8::1/64".  Without a "/len" the
 * prefix is the full length.  Returns 0, or -1 on any syntax error. */
int netaddr_parse(const char *s, struct netaddr *out);

/* Format as "addr" (with_prefix false) or "addr/len" into buf (NETADDR_STRLEN). */
const char *netaddr_fmt(const struct netaddr *a, bool with_prefix, char *buf, size_t len);

/* Length in bytes of the address (4 or 16), 0 for an unset one. */
size_t netaddr_len(const struct netaddr *a);

/* The network part (host bits cleared), same prefix length. */
struct netaddr netaddr_network(const struct netaddr *a);

/* True when both are the same family and a lies in the network of net. */
bool netaddr_in_net(const struct netaddr *a, const struct netaddr *net);

/* True when the address parts (not the prefix lengths) are equal. */
bool netaddr_eq(const struct netaddr *a, const struct netaddr *b);

#endif
