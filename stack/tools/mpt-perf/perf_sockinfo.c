#include "perf_sockinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS: a mptcp_subflow_data header, then an array
 * of size_user-byte elements; the kernel sets num_subflows to the total count. */
static int get_subflow_array(int fd, int optname, void *elems, uint32_t elem_size, int max)
{
	uint8_t buf[sizeof(struct mptcp_subflow_data) +
		    PERF_MAX_SUBFLOWS * sizeof(struct mptcp_subflow_addrs) +
		    PERF_MAX_SUBFLOWS * sizeof(struct tcp_info)];
	struct mptcp_subflow_data *d = (struct mptcp_subflow_data *)buf;
	socklen_t len = (socklen_t)(sizeof(*d) + (size_t)max * elem_size);
	uint32_t n;

	memset(buf, 0, sizeof(buf));
	d->size_subflow_data = sizeof(*d);
	d->size_user = elem_size;
	if (getsockopt(fd, SOL_MPTCP, optname, buf, &len) < 0)
		return -errno;
	n = d->num_subflows;
	if (len < sizeof(*d))
		return -EINVAL;
	/* the kernel copies min(size_user, size_kernel) bytes per element */
	if (d->size_user != elem_size) {
		uint32_t step = d->size_user;
		uint32_t copies = n < (uint32_t)max ? n : (uint32_t)max;

		if (step > elem_size)
			return -EINVAL;
		for (uint32_t i = 0; i < copies; i++)
			memcpy((uint8_t *)elems + (size_t)i * elem_size,
			       buf + sizeof(*d) + (size_t)i * step, step);
	} else {
		memcpy(elems, buf + sizeof(*d),
		       (size_t)(n < (uint32_t)max ? n : (uint32_t)max) * elem_size);
	}
	return (int)n;
}

int perf_sockinfo_subflows(int fd, struct perf_subflow *sub, int max, int *n_kernel)
{
	struct mptcp_subflow_addrs addrs[PERF_MAX_SUBFLOWS];
	struct tcp_info tis[PERF_MAX_SUBFLOWS];
	int na, nt, n;

	if (max > PERF_MAX_SUBFLOWS)
		max = PERF_MAX_SUBFLOWS;
	memset(addrs, 0, sizeof(addrs));
	memset(tis, 0, sizeof(tis));
	na = get_subflow_array(fd, MPTCP_SUBFLOW_ADDRS, addrs, sizeof(addrs[0]), max);
	if (na < 0)
		return na;
	nt = get_subflow_array(fd, MPTCP_TCPINFO, tis, sizeof(tis[0]), max);
	if (nt < 0)
		return nt;
	/* both walk the same list; if it changed in between, keep the overlap */
	n = na < nt ? na : nt;
	if (n_kernel)
		*n_kernel = n;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		memcpy(&sub[i].local, &addrs[i].ss_local, sizeof(sub[i].local));
		memcpy(&sub[i].remote, &addrs[i].ss_remote, sizeof(sub[i].remote));
		sub[i].ti = tis[i];
	}
	return n;
}

int perf_sockinfo_get(int fd, struct perf_sockinfo *si)
{
	socklen_t len;
	int proto = 0, n;

	memset(si, 0, sizeof(*si));
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0)
		si->is_mptcp = proto == IPPROTO_MPTCP;

	if (si->is_mptcp) {
		len = sizeof(si->mi);
		if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &si->mi, &len) == 0) {
			si->have_info = true;
			si->fallback = si->mi.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK;
		} else {
			/* a fallen-back socket passes SOL_MPTCP to TCP, which refuses it */
			si->fallback = true;
		}
	}
	if (si->is_mptcp && !si->fallback) {
		n = perf_sockinfo_subflows(fd, si->sub, PERF_MAX_SUBFLOWS, &si->n_sub_kernel);
		if (n >= 0)
			si->n_sub = n;
		return 0;
	}
	len = sizeof(si->ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &si->ti, &len) == 0)
		si->have_tcp = true;
	return 0;
}

json_t *perf_sockaddr_json(const struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, sizeof(buf));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf));
		port = ntohs(s6->sin6_port);
	} else {
		return json_null();
	}
	return json_pack("{s:s, s:i}", "addr", buf, "port", (json_int_t)port);
}

static json_t *tcp_info_json(const struct tcp_info *ti)
{
	return json_pack(
		"{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "bytes_sent",
		(json_int_t)ti->tcpi_bytes_sent, "bytes_acked", (json_int_t)ti->tcpi_bytes_acked,
		"bytes_received", (json_int_t)ti->tcpi_bytes_received, "rtt_ms",
		ti->tcpi_rtt / 1000.0, "rttvar_ms", ti->tcpi_rttvar / 1000.0, "retrans",
		(json_int_t)ti->tcpi_total_retrans, "snd_cwnd", (json_int_t)ti->tcpi_snd_cwnd,
		"pmtu", (json_int_t)ti->tcpi_pmtu, "state", (json_int_t)ti->tcpi_state);
}

void perf_sockinfo_json(const struct perf_sockinfo *si, json_t *obj)
{
	if (si->is_mptcp) {
		json_t *m = json_pack("{s:b, s:i}", "fallback", si->fallback, "subflows_count",
				      si->fallback ? 1 : si->n_sub_kernel);

		if (si->have_info) {
			const struct mptcp_info *mi = &si->mi;

			json_object_set_new(m, "extra_subflows", json_integer(mi->mptcpi_subflows));
			json_object_set_new(m, "subflows_max",
					    json_integer(mi->mptcpi_subflows_max));
			json_object_set_new(m, "add_addr_signal",
					    json_integer(mi->mptcpi_add_addr_signal));
			json_object_set_new(m, "add_addr_accepted",
					    json_integer(mi->mptcpi_add_addr_accepted));
			json_object_set_new(m, "local_addr_used",
					    json_integer(mi->mptcpi_local_addr_used));
			json_object_set_new(m, "csum_enabled",
					    json_boolean(mi->mptcpi_csum_enabled));
			json_object_set_new(m, "token", json_integer(mi->mptcpi_token));
		}
		json_object_set_new(obj, "mptcp", m);
	} else {
		json_object_set_new(obj, "mptcp", json_null());
	}
	if (si->is_mptcp && !si->fallback) {
		json_t *arr = json_array();

		for (int i = 0; i < si->n_sub; i++) {
			json_t *s = tcp_info_json(&si->sub[i].ti);

			json_object_set_new(s, "local", perf_sockaddr_json(&si->sub[i].local));
			json_object_set_new(s, "remote", perf_sockaddr_json(&si->sub[i].remote));
			json_array_append_new(arr, s);
		}
		json_object_set_new(obj, "subflows", arr);
	}
	if (si->have_tcp)
		json_object_set_new(obj, "tcp", tcp_info_json(&si->ti));
}

int perf_sockinfo_active_subflows(const struct perf_sockinfo *si)
{
	int n = 0;

	for (int i = 0; i < si->n_sub; i++)
		n += si->sub[i].ti.tcpi_bytes_sent > 0 || si->sub[i].ti.tcpi_bytes_received > 0;
	return n;
}
