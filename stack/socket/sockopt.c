/* Socket options of the socket table: SOL_SOCKET, TCP, Linux's SOL_MPTCP getsockopts
 * with the kernel's layouts and size negotiation (net/mptcp/sockopt.c), and RFC
 * 6897's MPTCP-aware API (mpt_socket.h). */
#include "sk.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct mpt_uapi_mptcp_info) == 96, "struct mptcp_info is 96 bytes");
_Static_assert(offsetof(struct mpt_uapi_mptcp_info, mptcpi_retransmits) == 44, "mptcp_info");
_Static_assert(offsetof(struct mpt_uapi_mptcp_info, mptcpi_subflows_total) == 80, "mptcp_info");
_Static_assert(sizeof(struct mpt_uapi_subflow_data) == 16, "mptcp_subflow_data");
_Static_assert(sizeof(struct mpt_uapi_subflow_addrs) == 256, "mptcp_subflow_addrs");
_Static_assert(sizeof(struct mpt_uapi_subflow_info) == 264, "mptcp_subflow_info");
_Static_assert(offsetof(struct mpt_uapi_full_info, mptcp_info) == 40, "mptcp_full_info");

static int fail(int err)
{
	errno = err;
	return -1;
}

static int put(void *val, socklen_t *len, const void *src, size_t n)
{
	if (!len || (int)*len < 0)
		return fail(EINVAL);
	if (*len < n)
		n = *len;
	memcpy(val, src, n);
	*len = (socklen_t)n;
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!len || *len < sizeof(int))
		return fail(EINVAL);
	return put(val, len, &v, sizeof(v));
}

static int get_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* Linux's tcp_info state numbers are RFC 793's order, ours the same but for LISTEN */
static uint8_t tcpi_state(enum mpt_state st)
{
	static const uint8_t m[MPT_NSTATES] = {
		[MPT_CLOSED] = 7,	[MPT_LISTEN] = 10,     [MPT_SYN_SENT] = 2,
		[MPT_SYN_RECEIVED] = 3, [MPT_ESTABLISHED] = 1, [MPT_FIN_WAIT_1] = 4,
		[MPT_FIN_WAIT_2] = 5,	[MPT_CLOSE_WAIT] = 8,  [MPT_CLOSING] = 11,
		[MPT_LAST_ACK] = 9,	[MPT_TIME_WAIT] = 6,
	};

	return (unsigned)st < MPT_NSTATES ? m[st] : 7;
}

static void tcp_info_conn(const struct mpt_conn_info *ci, struct tcp_info *ti)
{
	uint32_t mss = ci->snd_mss ? ci->snd_mss : 1;

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tcpi_state(ci->state);
	ti->tcpi_ca_state = ci->in_recovery ? 3 : 0; /* TCP_CA_Recovery */
	ti->tcpi_backoff = (uint8_t)ci->rto_backoff;
	ti->tcpi_options = (ci->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) |
			   (ci->sack_ok ? TCPI_OPT_SACK : 0) |
			   (ci->snd_wscale != 0xff ? TCPI_OPT_WSCALE : 0);
	if (ci->snd_wscale != 0xff) {
		ti->tcpi_snd_wscale = ci->snd_wscale & 0xf;
		ti->tcpi_rcv_wscale = ci->rcv_wscale & 0xf;
	}
	ti->tcpi_rto = (uint32_t)(ci->rto_ns / 1000);
	ti->tcpi_snd_mss = ci->snd_mss;
	ti->tcpi_rcv_mss = ci->rcv_mss;
	ti->tcpi_unacked = (ci->in_flight + mss - 1) / mss;
	ti->tcpi_rtt = (uint32_t)(ci->srtt_ns / 1000);
	ti->tcpi_rttvar = (uint32_t)(ci->rttvar_ns / 1000);
	ti->tcpi_snd_ssthresh = ci->ssthresh / mss;
	ti->tcpi_snd_cwnd = ci->cwnd / mss;
	ti->tcpi_advmss = ci->rcv_mss;
	ti->tcpi_total_retrans = (uint32_t)ci->retrans_segs;
	ti->tcpi_bytes_acked = ci->bytes_acked;
	ti->tcpi_bytes_received = ci->bytes_received;
	ti->tcpi_segs_out = (uint32_t)ci->segs_out;
	ti->tcpi_segs_in = (uint32_t)ci->segs_in;
	ti->tcpi_min_rtt = (uint32_t)(ci->min_rtt_ns / 1000);
	ti->tcpi_bytes_sent = ci->bytes_sent;
	ti->tcpi_bytes_retrans = ci->bytes_retrans;
	ti->tcpi_snd_wnd = ci->snd_wnd;
}

static void tcp_info_subflow(const struct mpt_subflow_info *sf, uint32_t mss, struct tcp_info *ti)
{
	if (!mss)
		mss = 1;
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tcpi_state(sf->state);
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rtt = (uint32_t)(sf->srtt_ns / 1000);
	ti->tcpi_snd_cwnd = sf->cwnd / mss;
	ti->tcpi_total_retrans = (uint32_t)sf->retrans_segs;
	ti->tcpi_bytes_acked = sf->bytes_acked;
	ti->tcpi_bytes_received = sf->bytes_received;
	ti->tcpi_bytes_sent = sf->bytes_sent;
	ti->tcpi_bytes_retrans = sf->bytes_retrans;
}

static void mptcp_info_fill(struct mpt_sk_table *t, uint32_t id, struct mpt_uapi_mptcp_info *m)
{
	struct mpt_mptcp_conn_info mi;
	struct mpt_conn_info ci;

	memset(m, 0, sizeof(*m));
	if (mpt_conn_mptcp_info(t->st, id, &mi) < 0 || mpt_conn_info(t->st, id, &ci) < 0)
		return;
	/* as Linux: the live joins, and with the first subflow if it is alive */
	m->mptcpi_subflows = (uint8_t)(mi.subflows - (mi.first_alive ? 1 : 0));
	m->mptcpi_add_addr_signal = mi.add_addr_signal;
	m->mptcpi_add_addr_accepted = mi.add_addr_accepted;
	m->mptcpi_subflows_max = mi.subflows_max;
	m->mptcpi_add_addr_signal_max = mi.add_addr_signal_max;
	m->mptcpi_add_addr_accepted_max = mi.add_addr_accepted_max;
	m->mptcpi_flags = (mi.fallback ? MPT_UAPI_INFO_FLAG_FALLBACK : 0) |
			  (mi.remote_key_known ? MPT_UAPI_INFO_FLAG_REMOTE_KEY_RECEIVED : 0);
	m->mptcpi_token = mi.token;
	m->mptcpi_write_seq = mi.write_seq;
	m->mptcpi_snd_una = mi.snd_una;
	m->mptcpi_rcv_nxt = mi.rcv_nxt;
	m->mptcpi_local_addr_used = mi.local_addr_used;
	m->mptcpi_local_addr_max = mi.local_addr_max;
	m->mptcpi_csum_enabled = mi.csum;
	m->mptcpi_retransmits = (uint32_t)ci.retrans_segs;
	m->mptcpi_bytes_retrans = ci.bytes_retrans;
	m->mptcpi_bytes_sent = ci.bytes_sent;
	m->mptcpi_bytes_received = mi.bytes_received; /* data level, as Linux */
	m->mptcpi_bytes_acked = ci.bytes_acked;
	m->mptcpi_subflows_total = mi.subflows;
}

/* The live subflows of id, at most MPTCP_SF_MAX. */
#define SF_MAX 16
static int live_subflows(struct mpt_sk_table *t, uint32_t id, struct mpt_subflow_info *out)
{
	struct mpt_subflow_info all[SF_MAX];
	int n = mpt_conn_subflows(t->st, id, all, SF_MAX), k = 0;

	if (n > SF_MAX)
		n = SF_MAX;
	for (int i = 0; i < n; i++)
		if (!all[i].dead)
			out[k++] = all[i];
	return k;
}

static void sf_addrs(const struct sk *s, const struct mpt_subflow_info *sf,
		     struct mpt_uapi_subflow_addrs *a)
{
	int fam = sf->local.family == MPT_AF_INET ? AF_INET : AF_INET6;

	(void)s;
	sk_to_sa(fam, &sf->local, &a->local);
	sk_to_sa(fam, &sf->remote, &a->remote);
}

/* MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS: mptcp_get_subflow_data + the loop + put */
static int subflow_data(struct mpt_sk_table *t, struct sk *s, int name, void *val, socklen_t *len)
{
	struct mpt_subflow_info sfs[SF_MAX];
	struct mpt_uapi_subflow_data sfd;
	struct mpt_conn_info ci;
	size_t ksize = name == MPTCP_TCPINFO ? sizeof(struct tcp_info)
					     : sizeof(struct mpt_uapi_subflow_addrs);
	uint8_t *p;
	int avail, n;
	uint32_t copied = 0;

	if ((int)*len < (int)sizeof(sfd))
		return fail(EINVAL);
	memset(&sfd, 0, sizeof(sfd));
	memcpy(&sfd, val, sizeof(sfd));
	if (sfd.size_subflow_data > INT32_MAX || sfd.size_user > INT32_MAX)
		return fail(EINVAL);
	if (sfd.size_subflow_data < sizeof(sfd) || sfd.size_subflow_data > *len)
		return fail(EINVAL);
	if (sfd.num_subflows || sfd.size_kernel)
		return fail(EINVAL);
	avail = (int)*len - (int)sfd.size_subflow_data;
	sfd.size_kernel = (uint32_t)ksize;
	if (sfd.size_user > ksize)
		sfd.size_user = (uint32_t)ksize;
	p = (uint8_t *)val + sfd.size_subflow_data;
	mpt_conn_info(t->st, s->id, &ci);
	n = live_subflows(t, s->id, sfs);
	for (int i = 0; i < n; i++) {
		sfd.num_subflows++;
		if (avail && avail >= (int)sfd.size_user) {
			struct tcp_info ti;
			struct mpt_uapi_subflow_addrs a;

			if (name == MPTCP_TCPINFO) {
				tcp_info_subflow(&sfs[i], ci.snd_mss, &ti);
				memcpy(p, &ti, sfd.size_user);
			} else {
				sf_addrs(s, &sfs[i], &a);
				memcpy(p, &a, sfd.size_user);
			}
			p += sfd.size_user;
			copied += sfd.size_user;
			avail -= (int)sfd.size_user;
		}
	}
	copied += sfd.size_subflow_data;
	*len = copied;
	memcpy(val, &sfd,
	       sfd.size_subflow_data < sizeof(sfd) ? sfd.size_subflow_data : sizeof(sfd));
	return 0;
}

static int full_info(struct mpt_sk_table *t, struct sk *s, void *val, socklen_t *len)
{
	struct mpt_subflow_info sfs[SF_MAX];
	struct mpt_uapi_full_info mfi;
	struct mpt_conn_info ci;
	const size_t min = offsetof(struct mpt_uapi_full_info, mptcp_info);
	uint8_t *sfp, *tip;
	uint32_t copylen = 0, count = 0;
	int avail, n;

	if ((int)*len < (int)min)
		return fail(EINVAL);
	memset(&mfi, 0, sizeof(mfi));
	memcpy(&mfi, val, min);
	if (mfi.size_tcpinfo_kernel || mfi.size_sfinfo_kernel || mfi.num_subflows)
		return fail(EINVAL);
	if (mfi.size_sfinfo_user > INT32_MAX || mfi.size_tcpinfo_user > INT32_MAX)
		return fail(EINVAL);
	avail = (int)*len - (int)min;
	if (avail > 0) {
		mptcp_info_fill(t, s->id, &mfi.mptcp_info);
		copylen += avail < (int)sizeof(mfi.mptcp_info) ? (uint32_t)avail
							       : (uint32_t)sizeof(mfi.mptcp_info);
	}
	mfi.size_tcpinfo_kernel = sizeof(struct tcp_info);
	if (mfi.size_tcpinfo_user > sizeof(struct tcp_info))
		mfi.size_tcpinfo_user = sizeof(struct tcp_info);
	mfi.size_sfinfo_kernel = sizeof(struct mpt_uapi_subflow_info);
	if (mfi.size_sfinfo_user > sizeof(struct mpt_uapi_subflow_info))
		mfi.size_sfinfo_user = sizeof(struct mpt_uapi_subflow_info);
	sfp = (uint8_t *)(uintptr_t)mfi.subflow_info;
	tip = (uint8_t *)(uintptr_t)mfi.tcp_info;
	mpt_conn_info(t->st, s->id, &ci);
	n = live_subflows(t, s->id, sfs);
	for (int i = 0; i < n; i++) {
		struct mpt_uapi_subflow_info si;
		struct tcp_info ti;

		if (count++ >= mfi.size_arrays_user)
			continue;
		memset(&si, 0, sizeof(si));
		si.id = (uint32_t)i + 1;
		if (mfi.size_sfinfo_user > offsetof(struct mpt_uapi_subflow_info, addrs))
			sf_addrs(s, &sfs[i], &si.addrs);
		if (mfi.size_sfinfo_user) {
			if (!sfp)
				return fail(EFAULT);
			memcpy(sfp, &si, mfi.size_sfinfo_user);
		}
		if (mfi.size_tcpinfo_user) {
			if (!tip)
				return fail(EFAULT);
			tcp_info_subflow(&sfs[i], ci.snd_mss, &ti);
			memcpy(tip, &ti, mfi.size_tcpinfo_user);
		}
		if (sfp)
			sfp += mfi.size_sfinfo_user;
		if (tip)
			tip += mfi.size_tcpinfo_user;
	}
	mfi.num_subflows = count;
	copylen += (uint32_t)min;
	*len = copylen;
	memcpy(val, &mfi, copylen);
	return 0;
}

/* The connection behind s for an option that needs one (-errno if none). */
static int need_conn(const struct sk *s)
{
	if (!s->id || s->state == SK_LISTEN || s->state == SK_NEW)
		return -ENOTCONN;
	return 0;
}

static int need_mptcp(struct mpt_sk_table *t, const struct sk *s)
{
	struct mpt_conn_info ci;
	int rv = need_conn(s);

	if (rv < 0)
		return rv;
	if (mpt_conn_info(t->st, s->id, &ci) < 0)
		return -ENOTCONN;
	return ci.mptcp ? 0 : -EOPNOTSUPP;
}

static int get_locked(struct mpt_sk_table *t, struct sk *s, int level, int name, void *val,
		      socklen_t *len)
{
	struct mpt_conn_info ci;
	int rv;

	if (!val || !len)
		return fail(EFAULT);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			rv = s->so_error;
			s->so_error = 0;
			return put_int(val, len, rv);
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_DOMAIN:
			return put_int(val, len, s->family);
		case SO_PROTOCOL:
			return put_int(val, len, s->protocol);
		case SO_ACCEPTCONN:
			return put_int(val, len, s->state == SK_LISTEN);
		case SO_SNDBUF:
			return put_int(val, len, (int)t->cfg.sndbuf);
		case SO_RCVBUF:
			return put_int(val, len, (int)t->cfg.rcvbuf);
		case SO_REUSEADDR:
			return put_int(val, len, s->reuseaddr);
		case SO_REUSEPORT:
			return put_int(val, len, s->reuseport);
		case SO_KEEPALIVE:
			return put_int(val, len, s->keepalive);
		case SO_LINGER: {
			struct linger l = {.l_onoff = s->linger0, .l_linger = 0};

			if (*len < sizeof(l))
				return fail(EINVAL);
			return put(val, len, &l, sizeof(l));
		}
		}
		return fail(ENOPROTOOPT);
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && s->family == AF_INET6)
		return put_int(val, len, s->v6only);
	if (level == IPPROTO_TCP || level == SOL_MPTCP) {
		switch (name) {
		case TCP_MULTIPATH_ENABLE:
			if (s->id && s->state != SK_LISTEN && s->state != SK_CONNECTING &&
			    mpt_conn_info(t->st, s->id, &ci) == 0)
				return put_int(val, len, ci.mptcp);
			return put_int(val, len, s->mptcp);
		case TCP_MULTIPATH_CONNID: {
			uint32_t tok;

			rv = need_mptcp(t, s);
			if (rv < 0)
				return fail(-rv);
			mpt_conn_info(t->st, s->id, &ci);
			tok = ci.token;
			if (*len < sizeof(tok))
				return fail(EINVAL);
			return put(val, len, &tok, sizeof(tok));
		}
		case TCP_MULTIPATH_SUBFLOWS: {
			struct mpt_subflow_info sfs[SF_MAX];
			size_t w = 0;
			int n;

			rv = need_mptcp(t, s);
			if (rv < 0)
				return fail(-rv);
			n = live_subflows(t, s->id, sfs);
			for (int i = 0; i < n; i++) {
				struct mpt_uapi_subflow_addrs a;

				if (w + sizeof(a) > *len)
					break;
				sf_addrs(s, &sfs[i], &a);
				memcpy((uint8_t *)val + w, &a, sizeof(a));
				w += sizeof(a);
			}
			*len = (socklen_t)w;
			return 0;
		}
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return put_int(val, len, s->nodelay || t->cfg.nodelay);
		case TCP_NOTSENT_LOWAT:
			return put_int(val, len, s->notsent_lowat);
		case TCP_MAXSEG:
			if (need_conn(s) == 0 && mpt_conn_info(t->st, s->id, &ci) == 0)
				return put_int(val, len, (int)ci.snd_mss);
			return put_int(val, len, (int)t->cfg.mtu - 40);
		case TCP_CONGESTION: {
			char name16[16] = {0};
			const char *cc = t->cfg.cc ? t->cfg.cc : "newreno";

			if (need_conn(s) == 0 && mpt_conn_info(t->st, s->id, &ci) == 0 && ci.cc[0])
				cc = ci.cc;
			snprintf(name16, sizeof(name16), "%s", cc);
			return put(val, len, name16, sizeof(name16));
		}
		case TCP_INFO: {
			struct tcp_info ti;

			memset(&ti, 0, sizeof(ti));
			if (need_conn(s) == 0 && mpt_conn_info(t->st, s->id, &ci) == 0)
				tcp_info_conn(&ci, &ti);
			else
				ti.tcpi_state = s->state == SK_LISTEN ? 10 : 7;
			return put(val, len, &ti, sizeof(ti));
		}
		}
		return fail(ENOPROTOOPT);
	}
	if (level == SOL_MPTCP) {
		if (name == MPT_SO_SCHEDULER) {
			char nm[16] = {0};
			const char *cur = NULL;

			if (need_conn(s) == 0)
				cur = mpt_conn_scheduler(t->st, s->id);
			if (!cur)
				cur = s->sched[0]
					      ? s->sched
					      : (t->cfg.scheduler ? t->cfg.scheduler : "default");
			snprintf(nm, sizeof(nm), "%s", cur);
			return put(val, len, nm, sizeof(nm));
		}
		if (name != MPTCP_INFO && name != MPTCP_TCPINFO && name != MPTCP_SUBFLOW_ADDRS &&
		    name != MPTCP_FULL_INFO)
			return fail(ENOPROTOOPT);
		rv = need_mptcp(t, s);
		if (rv < 0)
			return fail(-rv);
		switch (name) {
		case MPTCP_INFO: {
			struct mpt_uapi_mptcp_info m;

			if ((int)*len < 0)
				return fail(EINVAL);
			if (*len == 0)
				return 0;
			mptcp_info_fill(t, s->id, &m);
			return put(val, len, &m, sizeof(m));
		}
		case MPTCP_TCPINFO:
		case MPTCP_SUBFLOW_ADDRS:
			return subflow_data(t, s, name, val, len);
		case MPTCP_FULL_INFO:
			return full_info(t, s, val, len);
		}
	}
	return fail(ENOPROTOOPT);
}

int mpt_sk_getsockopt(struct mpt_sk_table *t, int fd, int level, int name, void *val,
		      socklen_t *len)
{
	struct sk *s;
	int rv;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	rv = s ? get_locked(t, s, level, name, val, len) : fail(EBADF);
	mpt_sk_unlock(t);
	return rv;
}

/* Walk the sockaddr_in / sockaddr_in6 list of TCP_MULTIPATH_ADD / _REMOVE. */
static int addr_list(struct mpt_sk_table *t, struct sk *s, int name, const void *val, socklen_t len)
{
	const uint8_t *p = val;
	uint64_t now = sk_now(t);
	int rv = need_mptcp(t, s);

	if (rv < 0)
		return fail(rv == -ENOTCONN ? ENOTCONN : EOPNOTSUPP);
	if (!val || !len)
		return fail(EINVAL);
	while (len) {
		sa_family_t fam;
		struct mpt_sockaddr a;
		size_t sz;

		if (len < sizeof(fam))
			return fail(EINVAL);
		memcpy(&fam, p, sizeof(fam));
		sz = fam == AF_INET    ? sizeof(struct sockaddr_in)
		     : fam == AF_INET6 ? sizeof(struct sockaddr_in6)
				       : 0;
		if (!sz)
			return fail(EAFNOSUPPORT);
		if (len < sz)
			return fail(EINVAL);
		{
			struct sk tmp = *s;
			struct sockaddr_storage ss;

			memcpy(&ss, p, sz);
			tmp.family = fam;
			tmp.v6only = false;
			rv = sk_from_sa(&tmp, (struct sockaddr *)&ss, (socklen_t)sz, &a);
			if (rv < 0)
				return fail(-rv);
		}
		if (name == TCP_MULTIPATH_ADD) {
			rv = mpt_conn_add_subflow(t->st, s->id, &a, NULL, false, now);
			if (rv == MPT_ESTATE)
				return fail(ENOTCONN);
			if (rv == MPT_ENOENT)
				return fail(EADDRNOTAVAIL);
			if (rv < 0)
				return fail(mpt_sk_errno(rv));
		} else {
			rv = mpt_conn_remove_subflows(t->st, s->id, &a, now);
			if (rv < 0)
				return fail(mpt_sk_errno(rv));
			if (rv == 0)
				return fail(EADDRNOTAVAIL);
		}
		p += sz;
		len -= (socklen_t)sz;
	}
	if (t->h.wake)
		t->h.wake(t->h.ctx);
	return 0;
}

static int set_locked(struct mpt_sk_table *t, struct sk *s, int level, int name, const void *val,
		      socklen_t len)
{
	struct mpt_conn_info ci;
	int v = 0, rv;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_KEEPALIVE:
		case SO_SNDBUF:
		case SO_RCVBUF:
			rv = get_int(val, len, &v);
			if (rv < 0)
				return fail(-rv);
			if (name == SO_REUSEADDR)
				s->reuseaddr = v != 0;
			else if (name == SO_REUSEPORT)
				s->reuseport = v != 0;
			else if (name == SO_KEEPALIVE)
				s->keepalive = v != 0;
			return 0; /* buffers: libmpt's are fixed per stack */
		case SO_LINGER: {
			struct linger l;

			if (!val || len < sizeof(l))
				return fail(EINVAL);
			memcpy(&l, val, sizeof(l));
			s->linger0 = l.l_onoff && !l.l_linger;
			return 0;
		}
		}
		return fail(ENOPROTOOPT);
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && s->family == AF_INET6) {
		rv = get_int(val, len, &v);
		if (rv < 0)
			return fail(-rv);
		if (s->state != SK_NEW)
			return fail(EINVAL);
		s->v6only = v != 0;
		return 0;
	}
	if (level == IPPROTO_TCP || level == SOL_MPTCP) {
		switch (name) {
		case TCP_MULTIPATH_ENABLE:
			rv = get_int(val, len, &v);
			if (rv < 0)
				return fail(-rv);
			if (s->state != SK_NEW)
				return fail(EISCONN);
			if (v && !t->cfg.mptcp)
				return fail(EOPNOTSUPP); /* the stack speaks plain TCP only */
			s->mptcp = v != 0;
			return 0;
		case TCP_MULTIPATH_ADD:
		case TCP_MULTIPATH_REMOVE:
			return addr_list(t, s, name, val, len);
		case TCP_MULTIPATH_SUBFLOWS:
		case TCP_MULTIPATH_CONNID:
			return fail(EOPNOTSUPP); /* get only */
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
		case TCP_NOTSENT_LOWAT:
			rv = get_int(val, len, &v);
			if (rv < 0)
				return fail(-rv);
			if (name == TCP_NODELAY)
				s->nodelay = v != 0;
			else
				s->notsent_lowat = v;
			return 0;
		case TCP_CONGESTION: {
			char want[16] = {0};
			const char *cur = t->cfg.cc ? t->cfg.cc : "newreno";

			if (!val || !len)
				return fail(EINVAL);
			memcpy(want, val, len < sizeof(want) - 1 ? len : sizeof(want) - 1);
			if (need_conn(s) == 0 && mpt_conn_info(t->st, s->id, &ci) == 0 && ci.cc[0])
				cur = ci.cc;
			/* libmpt's congestion control is per stack (mpt_config.cc) */
			return strcmp(want, cur) ? fail(EOPNOTSUPP) : 0;
		}
		}
		return fail(ENOPROTOOPT);
	}
	if (level == SOL_MPTCP && name == MPT_SO_SCHEDULER) {
		char want[16] = {0};
		bool known = false;

		if (!val || !len)
			return fail(EINVAL);
		memcpy(want, val, len < sizeof(want) - 1 ? len : sizeof(want) - 1);
		for (unsigned i = 0; mpt_scheduler_name(i, NULL); i++)
			if (!strcmp(mpt_scheduler_name(i, NULL), want))
				known = true;
		if (!known)
			return fail(ENOENT);
		if (need_conn(s) < 0 || s->state == SK_CONNECTING) {
			memcpy(s->sched, want, sizeof(s->sched));
			return 0;
		}
		rv = mpt_conn_set_scheduler(t->st, s->id, want);
		if (rv == MPT_EINVAL)
			return fail(EOPNOTSUPP);
		return rv < 0 ? fail(mpt_sk_errno(rv)) : 0;
	}
	return fail(ENOPROTOOPT);
}

int mpt_sk_setsockopt(struct mpt_sk_table *t, int fd, int level, int name, const void *val,
		      socklen_t len)
{
	struct sk *s;
	int rv;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	rv = s ? set_locked(t, s, level, name, val, len) : fail(EBADF);
	mpt_sk_unlock(t);
	return rv;
}
