/* Links, addresses, routes, rules and qdiscs over libnl-3-route.  The socket is
 * opened inside the target namespace and stays bound to it.  Kernel errors are
 * caught in an error callback so that callers get the kernel's errno (not a
 * libnl code) and the extended-ack message when the kernel sent one. */
#include "rtnl.h"
#include "netnsfs.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/if_ether.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; it clashes with net/if.h */
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NLR_ERR_MAX 256

/* The tc handles nlr_shape uses. */
#define SHAPE_HTB    TC_H_MAKE(1U << 16, 0)    /* 1:   HTB root */
#define SHAPE_CLASS  TC_H_MAKE(1U << 16, 1)    /* 1:1  its only class */
#define SHAPE_FIFO   TC_H_MAKE(0x10U << 16, 0) /* 10:  the fifo (child of 1:1, or root) */
#define ETH_OVERHEAD 14

struct nlr {
	struct nl_sock *sk;
	int kerr;		  /* errno the kernel reported for the last request */
	char extack[NLR_ERR_MAX]; /* its extended-ack message, or "" */
	char err[2 * NLR_ERR_MAX];
};

/* libnl's error callback: remember the kernel's errno and extack message. */
static int on_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlr *r = arg;
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	r->kerr = e->error < 0 ? -e->error : e->error;
	r->extack[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)((const char *)h + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			int len = a->nla_len - NLA_HDRLEN;

			snprintf(r->extack, sizeof(r->extack), "%.*s", len,
				 (const char *)a + NLA_HDRLEN);
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return NL_STOP;
}

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NODEV:
		return ENODEV;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_PERM:
		return EPERM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_AF_NOSUPPORT:
	case NLE_AF_MISMATCH:
		return EAFNOSUPPORT;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_AGAIN:
		return EAGAIN;
	default:
		return EIO;
	}
}

static void begin(struct nlr *r)
{
	r->kerr = 0;
	r->extack[0] = '\0';
}

/* Record a failure of `what` (nle: a libnl code, or 0 with the kernel's errno
 * already in r->kerr) and return a negative errno. */
static int fail(struct nlr *r, int nle, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct nlr *r, int nle, const char *fmt, ...)
{
	char what[128];
	int err = r->kerr ? r->kerr : nle_to_errno(nle), n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* Truncation is fine: the return values are only looked at to say so. */
	if (r->extack[0])
		n = snprintf(r->err, sizeof(r->err), "%s: %s (%s)", what, strerror(err), r->extack);
	else
		n = snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(err));
	(void)n;
	return -err;
}

/* A failure found before talking to the kernel. */
static int fail_local(struct nlr *r, int err, const char *what)
{
	snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(err));
	return -err;
}

struct nlr *nlr_open(int nsfd)
{
	struct nlr *r;
	int saved = -1, one = 1, err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (nsfd >= 0) {
		err = netnsfs_enter(nsfd, &saved);
		if (err) {
			free(r);
			errno = -err;
			return NULL;
		}
	}
	r->sk = nl_socket_alloc();
	if (!r->sk) {
		err = -ENOMEM;
		goto out;
	}
	err = nl_connect(r->sk, NETLINK_ROUTE);
	if (err < 0) {
		err = -nle_to_errno(err);
		goto out;
	}
	setsockopt(nl_socket_get_fd(r->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(r->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_modify_err_cb(r->sk, NL_CB_CUSTOM, on_nl_error, r);
	err = 0;
out:
	if (saved >= 0 && netnsfs_leave(saved) < 0)
		abort(); /* never continue in the wrong namespace */
	if (err) {
		if (r->sk)
			nl_socket_free(r->sk);
		free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void nlr_close(struct nlr *r)
{
	if (!r)
		return;
	nl_socket_free(r->sk);
	free(r);
}

const char *nlr_last_error(const struct nlr *r)
{
	return r->err;
}

static int get_link(struct nlr *r, const char *ifname, struct rtnl_link **out)
{
	int err;

	begin(r);
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return fail_local(r, EINVAL, "bad interface name");
	err = rtnl_link_get_kernel(r->sk, 0, ifname, out);
	if (err < 0)
		return fail(r, err, "link %s", ifname);
	return 0;
}

int nlr_ifindex(struct nlr *r, const char *ifname)
{
	struct rtnl_link *link;
	int err, idx;

	err = get_link(r, ifname, &link);
	if (err)
		return err;
	idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return idx;
}

int nlr_veth_create(struct nlr *r, const char *name_a, int nsfd_a, const char *name_b, int nsfd_b)
{
	struct rtnl_link *link, *peer;
	int err;

	begin(r);
	if (!name_a || !name_b || strlen(name_a) >= IFNAMSIZ || strlen(name_b) >= IFNAMSIZ)
		return fail_local(r, EINVAL, "veth: bad interface name");
	link = rtnl_link_veth_alloc();
	if (!link)
		return fail_local(r, ENOMEM, "veth");
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name_a);
	rtnl_link_set_name(peer, name_b);
	if (nsfd_a >= 0)
		rtnl_link_set_ns_fd(link, nsfd_a);
	if (nsfd_b >= 0)
		rtnl_link_set_ns_fd(peer, nsfd_b);
	err = rtnl_link_add(r->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(link);
	if (err < 0)
		return fail(r, err, "veth %s/%s", name_a, name_b);
	return 0;
}

/* tc's "qdisc add dev FROM ingress" and "filter add dev FROM ingress protocol all
 * u32 match u32 0 0 action mirred egress redirect dev TO", or, with on false, the
 * ingress qdisc deleted (its filter with it). */
int nlr_redirect(struct nlr *r, const char *from, const char *to, bool on)
{
	struct rtnl_qdisc *q;
	struct rtnl_cls *cls = NULL;
	struct rtnl_act *act = NULL;
	int from_idx = nlr_ifindex(r, from), to_idx = nlr_ifindex(r, to), err;

	begin(r);
	if (from_idx < 0 || to_idx < 0)
		return fail_local(r, ENODEV, "redirect: no such interface");
	q = rtnl_qdisc_alloc();
	if (!q)
		return fail_local(r, ENOMEM, "redirect");
	rtnl_tc_set_ifindex(TC_CAST(q), from_idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), 0xffff0000u /* ffff: */);
	if (rtnl_tc_set_kind(TC_CAST(q), "ingress") < 0) {
		rtnl_qdisc_put(q);
		return fail_local(r, EINVAL, "redirect: ingress qdisc");
	}
	if (!on) {
		err = rtnl_qdisc_delete(r->sk, q);
		rtnl_qdisc_put(q);
		/* none to delete: the kernel answers ENOENT or EINVAL ("Cannot find specified
		 * qdisc") */
		if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR && err != -NLE_INVAL)
			return fail(r, err, "redirect %s: ingress qdisc delete", from);
		return 0;
	}
	err = rtnl_qdisc_add(r->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (err < 0)
		return fail(r, err, "redirect %s: ingress qdisc", from);
	cls = rtnl_cls_alloc();
	act = rtnl_act_alloc();
	err = -NLE_NOMEM;
	if (!cls || !act)
		goto out;
	rtnl_tc_set_ifindex(TC_CAST(cls), from_idx);
	rtnl_tc_set_parent(TC_CAST(cls), 0xffff0000u /* ffff: */);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, 1);
	if ((err = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0 ||
	    (err = rtnl_u32_set_cls_terminal(cls)) < 0 ||
	    (err = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (err = rtnl_tc_set_kind(TC_CAST(act), "mirred")) < 0 ||
	    (err = rtnl_mirred_set_action(act, TCA_EGRESS_REDIR)) < 0 ||
	    (err = rtnl_mirred_set_policy(act, TC_ACT_STOLEN)) < 0 ||
	    (err = rtnl_mirred_set_ifindex(act, (uint32_t)to_idx)) < 0 ||
	    (err = rtnl_u32_add_action(cls, act)) < 0)
		goto out;
	err = rtnl_cls_add(r->sk, cls, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (err < 0)
		return fail(r, err, "redirect %s -> %s", from, to);
	return 0;
}

int nlr_link_delete(struct nlr *r, const char *ifname)
{
	struct rtnl_link *link;
	int err;

	begin(r);
	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return fail_local(r, EINVAL, "bad interface name");
	link = rtnl_link_alloc();
	if (!link)
		return fail_local(r, ENOMEM, "link delete");
	rtnl_link_set_name(link, ifname);
	err = rtnl_link_delete(r->sk, link);
	rtnl_link_put(link);
	if (err < 0)
		return fail(r, err, "delete link %s", ifname);
	return 0;
}

/* Apply the changes in `chg` (name set) to the existing link of that name:
 * RTM_NEWLINK without NLM_F_CREATE modifies in place. */
static int link_modify(struct nlr *r, struct rtnl_link *chg, const char *what, const char *ifname)
{
	int err;

	begin(r);
	err = rtnl_link_add(r->sk, chg, 0);
	rtnl_link_put(chg);
	if (err < 0)
		return fail(r, err, "%s %s", what, ifname);
	return 0;
}

static struct rtnl_link *link_changes(struct nlr *r, const char *ifname)
{
	struct rtnl_link *chg;

	if (!ifname || strlen(ifname) >= IFNAMSIZ) {
		fail_local(r, EINVAL, "bad interface name");
		return NULL;
	}
	chg = rtnl_link_alloc();
	if (!chg) {
		fail_local(r, ENOMEM, "link");
		return NULL;
	}
	rtnl_link_set_name(chg, ifname);
	return chg;
}

int nlr_link_set_up(struct nlr *r, const char *ifname, bool up)
{
	struct rtnl_link *chg = link_changes(r, ifname);

	if (!chg)
		return -EINVAL;
	if (up)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	return link_modify(r, chg, up ? "set up" : "set down", ifname);
}

int nlr_link_set_mtu(struct nlr *r, const char *ifname, unsigned mtu)
{
	struct rtnl_link *chg = link_changes(r, ifname);

	if (!chg)
		return -EINVAL;
	rtnl_link_set_mtu(chg, mtu);
	return link_modify(r, chg, "set mtu", ifname);
}

static struct nl_addr *to_nl_addr(const struct netaddr *a)
{
	struct nl_addr *n = nl_addr_build(a->family, a->bytes, netaddr_len(a));

	if (n)
		nl_addr_set_prefixlen(n, a->prefixlen);
	return n;
}

static int addr_op(struct nlr *r, const char *ifname, const struct netaddr *a, bool add)
{
	struct rtnl_addr *ra;
	struct nl_addr *local;
	char buf[NETADDR_STRLEN];
	int idx, err;

	if (!a || (a->family != AF_INET && a->family != AF_INET6))
		return fail_local(r, EAFNOSUPPORT, "address");
	idx = nlr_ifindex(r, ifname);
	if (idx < 0)
		return idx;
	ra = rtnl_addr_alloc();
	local = to_nl_addr(a);
	if (!ra || !local) {
		rtnl_addr_put(ra);
		nl_addr_put(local);
		return fail_local(r, ENOMEM, "address");
	}
	rtnl_addr_set_ifindex(ra, idx);
	rtnl_addr_set_family(ra, a->family);
	rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, a->prefixlen);
	if (add && a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	begin(r);
	err = add ? rtnl_addr_add(r->sk, ra, NLM_F_EXCL) : rtnl_addr_delete(r->sk, ra, 0);
	nl_addr_put(local);
	rtnl_addr_put(ra);
	if (err < 0)
		return fail(r, err, "%s address %s on %s", add ? "add" : "delete",
			    netaddr_fmt(a, true, buf, sizeof(buf)), ifname);
	return 0;
}

int nlr_addr_add(struct nlr *r, const char *ifname, const struct netaddr *a)
{
	return addr_op(r, ifname, a, true);
}

int nlr_addr_del(struct nlr *r, const char *ifname, const struct netaddr *a)
{
	return addr_op(r, ifname, a, false);
}

static int route_op(struct nlr *r, uint32_t table, const struct netaddr *dst,
		    const struct netaddr *gw, const char *ifname, const struct netaddr *src,
		    bool add)
{
	struct rtnl_route *rt = NULL;
	struct rtnl_nexthop *nh = NULL;
	struct nl_addr *d = NULL, *g = NULL, *s = NULL;
	char buf[NETADDR_STRLEN];
	int family, idx = 0, err;

	if (gw && !gw->family)
		gw = NULL;
	if (src && !src->family)
		src = NULL;
	if (!dst || (dst->family != AF_INET && dst->family != AF_INET6))
		return fail_local(r, EAFNOSUPPORT, "route destination");
	family = dst->family;
	if ((gw && gw->family != family) || (src && src->family != family))
		return fail_local(r, EAFNOSUPPORT, "route: mixed address families");
	if (ifname) {
		idx = nlr_ifindex(r, ifname);
		if (idx < 0)
			return idx;
	}
	if (add && !gw && !idx)
		return fail_local(r, EINVAL, "route: needs a gateway or an interface");

	err = -NLE_NOMEM;
	rt = rtnl_route_alloc();
	d = to_nl_addr(dst);
	if (!rt || !d)
		goto out;
	rtnl_route_set_family(rt, (uint8_t)family);
	rtnl_route_set_table(rt, table);
	if ((err = rtnl_route_set_dst(rt, d)) < 0)
		goto out;
	if (gw || idx) {
		nh = rtnl_route_nh_alloc();
		if (!nh)
			goto out;
		if (idx)
			rtnl_route_nh_set_ifindex(nh, idx);
		if (gw) {
			g = to_nl_addr(gw);
			if (!g)
				goto out;
			rtnl_route_nh_set_gateway(nh, g);
		}
		rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
		nh = NULL;
	}
	if (src) {
		s = to_nl_addr(src);
		if (!s)
			goto out;
		nl_addr_set_prefixlen(s, family == AF_INET ? 32 : 128);
		if ((err = rtnl_route_set_pref_src(rt, s)) < 0)
			goto out;
	}
	if (!add) {
		/* Match any scope and protocol (libnl would guess one of each). */
		rtnl_route_set_scope(rt, RT_SCOPE_NOWHERE);
		rtnl_route_set_protocol(rt, RTPROT_UNSPEC);
	}
	begin(r);
	err = add ? rtnl_route_add(r->sk, rt, NLM_F_EXCL) : rtnl_route_delete(r->sk, rt, 0);
out:
	nl_addr_put(d);
	nl_addr_put(g);
	nl_addr_put(s);
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	if (err < 0)
		return fail(r, err, "%s route %s table %u", add ? "add" : "delete",
			    netaddr_fmt(dst, true, buf, sizeof(buf)), table);
	return 0;
}

int nlr_route_add(struct nlr *r, uint32_t table, const struct netaddr *dst,
		  const struct netaddr *gw, const char *ifname, const struct netaddr *src)
{
	return route_op(r, table, dst, gw, ifname, src, true);
}

int nlr_route_del(struct nlr *r, uint32_t table, const struct netaddr *dst,
		  const struct netaddr *gw, const char *ifname)
{
	return route_op(r, table, dst, gw, ifname, NULL, false);
}

static int rule_op(struct nlr *r, const struct netaddr *src, uint32_t table, uint32_t prio,
		   bool add)
{
	struct rtnl_rule *rule;
	struct nl_addr *s;
	char buf[NETADDR_STRLEN];
	int err;

	if (!src || (src->family != AF_INET && src->family != AF_INET6))
		return fail_local(r, EAFNOSUPPORT, "rule source");
	rule = rtnl_rule_alloc();
	s = to_nl_addr(src);
	err = -NLE_NOMEM;
	if (!rule || !s)
		goto out;
	rtnl_rule_set_family(rule, src->family);
	if (src->prefixlen && (err = rtnl_rule_set_src(rule, s)) < 0)
		goto out;
	rtnl_rule_set_table(rule, table);
	rtnl_rule_set_prio(rule, prio);
	rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
	begin(r);
	err = add ? rtnl_rule_add(r->sk, rule, NLM_F_EXCL) : rtnl_rule_delete(r->sk, rule, 0);
out:
	nl_addr_put(s);
	rtnl_rule_put(rule);
	if (err < 0)
		return fail(r, err, "%s rule from %s lookup %u prio %u", add ? "add" : "delete",
			    netaddr_fmt(src, true, buf, sizeof(buf)), table, prio);
	return 0;
}

int nlr_rule_add(struct nlr *r, const struct netaddr *src, uint32_t table, uint32_t prio)
{
	return rule_op(r, src, table, prio, true);
}

int nlr_rule_del(struct nlr *r, const struct netaddr *src, uint32_t table, uint32_t prio)
{
	return rule_op(r, src, table, prio, false);
}

/* --- shaping ----------------------------------------------------------------- */

static struct rtnl_qdisc *qdisc_new(int idx, uint32_t parent, uint32_t handle, const char *kind)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

static int qdisc_del(struct nlr *r, int idx, uint32_t parent, uint32_t handle, const char *ifname)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int err;

	if (!q)
		return fail_local(r, ENOMEM, "qdisc");
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	begin(r);
	err = rtnl_qdisc_delete(r->sk, q);
	rtnl_qdisc_put(q);
	if (err < 0)
		return fail(r, err, "delete qdisc %x: on %s", handle >> 16, ifname);
	return 0;
}

/* Add (or change in place, when one with this handle and kind is there) a
 * pfifo/bfifo qdisc. */
static int fifo_set(struct nlr *r, int idx, uint32_t parent, const char *kind, uint32_t limit,
		    const char *ifname)
{
	struct rtnl_qdisc *q = qdisc_new(idx, parent, SHAPE_FIFO, kind);
	int err;

	if (!q)
		return fail_local(r, ENOMEM, "qdisc");
	rtnl_qdisc_fifo_set_limit(q, (int)limit);
	begin(r);
	err = rtnl_qdisc_add(r->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (err < 0)
		return fail(r, err, "%s limit %u on %s", kind, limit, ifname);
	return 0;
}

static int htb_root_add(struct nlr *r, int idx, const char *ifname)
{
	struct rtnl_qdisc *q = qdisc_new(idx, TC_H_ROOT, SHAPE_HTB, "htb");
	int err;

	if (!q)
		return fail_local(r, ENOMEM, "qdisc");
	rtnl_htb_set_defcls(q, TC_H_MIN(SHAPE_CLASS));
	begin(r);
	err = rtnl_qdisc_add(r->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (err < 0)
		return fail(r, err, "htb root on %s", ifname);
	return 0;
}

/* Class 1:1, created or changed in place (RTM_NEWTCLASS without NLM_F_EXCL on an
 * existing class changes it; its queue is kept).  burst = cburst = one
 * millisecond at the rate plus one MTU (what tc picks by default with a 1 kHz
 * clock); quantum = one MTU-sized frame, so HTB never computes one from r2q. */
static int htb_class_set(struct nlr *r, int idx, uint64_t rate_bps, unsigned mtu,
			 const char *ifname)
{
	struct rtnl_class *c = rtnl_class_alloc();
	uint64_t bytes_per_s = rate_bps / 8, burst;
	int err;

	if (!c)
		return fail_local(r, ENOMEM, "class");
	if (bytes_per_s == 0)
		bytes_per_s = 1;
	burst = bytes_per_s / 1000 + mtu + ETH_OVERHEAD;
	if (burst > UINT32_MAX / 2)
		burst = UINT32_MAX / 2;
	rtnl_tc_set_ifindex(TC_CAST(c), idx);
	rtnl_tc_set_parent(TC_CAST(c), SHAPE_HTB);
	rtnl_tc_set_handle(TC_CAST(c), SHAPE_CLASS);
	rtnl_tc_set_mtu(TC_CAST(c), mtu + ETH_OVERHEAD);
	err = rtnl_tc_set_kind(TC_CAST(c), "htb");
	if (err >= 0)
		err = rtnl_htb_set_rate64(c, bytes_per_s);
	if (err >= 0)
		err = rtnl_htb_set_ceil64(c, bytes_per_s);
	if (err >= 0)
		err = rtnl_htb_set_rbuffer(c, (uint32_t)burst);
	if (err >= 0)
		err = rtnl_htb_set_cbuffer(c, (uint32_t)burst);
	if (err >= 0)
		err = rtnl_htb_set_quantum(c, mtu + ETH_OVERHEAD);
	if (err >= 0) {
		begin(r);
		err = rtnl_class_add(r->sk, c, NLM_F_CREATE);
	}
	rtnl_class_put(c);
	if (err < 0)
		return fail(r, err, "htb class rate %llu on %s", (unsigned long long)rate_bps,
			    ifname);
	return 0;
}

struct tree {
	uint32_t root_handle; /* 0: none of ours (the device's default) */
	char root_kind[16];
	bool child; /* a qdisc with handle 10: under class 1:1 */
	char child_kind[16];
	uint64_t drops, backlog;
};

static int tree_read(struct nlr *r, int idx, struct tree *t, const char *ifname)
{
	struct nl_cache *cache;
	struct rtnl_qdisc *q;
	int err;

	memset(t, 0, sizeof(*t));
	begin(r);
	err = rtnl_qdisc_alloc_cache(r->sk, &cache);
	if (err < 0)
		return fail(r, err, "dump qdiscs of %s", ifname);
	q = rtnl_qdisc_get_by_parent(cache, idx, TC_H_ROOT);
	if (q) {
		const char *kind = rtnl_tc_get_kind(TC_CAST(q));

		t->root_handle = rtnl_tc_get_handle(TC_CAST(q));
		snprintf(t->root_kind, sizeof(t->root_kind), "%s", kind ? kind : "");
		/* The root accounts what its children queue and drop (HTB and the
		 * fifos do; so does mq), so its counters are the tree's. */
		t->drops = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
		t->backlog = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BACKLOG);
		rtnl_qdisc_put(q);
	}
	q = rtnl_qdisc_get(cache, idx, SHAPE_FIFO);
	if (q) {
		const char *kind = rtnl_tc_get_kind(TC_CAST(q));

		t->child = rtnl_tc_get_parent(TC_CAST(q)) == SHAPE_CLASS;
		snprintf(t->child_kind, sizeof(t->child_kind), "%s", kind ? kind : "");
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return 0;
}

int nlr_shape(struct nlr *r, const char *ifname, uint64_t rate_bps, enum nlr_queue_kind kind,
	      uint32_t limit)
{
	const char *fifo = kind == NLR_QUEUE_BYTES ? "bfifo" : "pfifo";
	struct rtnl_link *link;
	struct tree t;
	unsigned mtu;
	int idx, err;

	err = get_link(r, ifname, &link);
	if (err)
		return err;
	idx = rtnl_link_get_ifindex(link);
	mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	if (mtu == 0)
		mtu = 1500;
	err = tree_read(r, idx, &t, ifname);
	if (err)
		return err;

	if (rate_bps == 0) {
		if (limit && t.root_handle == SHAPE_FIFO && !strcmp(t.root_kind, fifo))
			return fifo_set(r, idx, TC_H_ROOT, fifo, limit, ifname);
		if (t.root_handle) {
			err = qdisc_del(r, idx, TC_H_ROOT, t.root_handle, ifname);
			if (err)
				return err;
		}
		return limit ? fifo_set(r, idx, TC_H_ROOT, fifo, limit, ifname) : 0;
	}

	if (t.root_handle != SHAPE_HTB || strcmp(t.root_kind, "htb")) {
		if (t.root_handle) {
			err = qdisc_del(r, idx, TC_H_ROOT, t.root_handle, ifname);
			if (err)
				return err;
		}
		err = htb_root_add(r, idx, ifname);
		if (err)
			return err;
		t.child = false;
	}
	err = htb_class_set(r, idx, rate_bps, mtu, ifname);
	if (err)
		return err;
	if (t.child && (!limit || strcmp(t.child_kind, fifo))) {
		/* A different kind cannot be changed in place: replace it.  Without a
		 * limit, HTB's default leaf (pfifo, txqueuelen) takes over. */
		err = qdisc_del(r, idx, SHAPE_CLASS, SHAPE_FIFO, ifname);
		if (err)
			return err;
	}
	return limit ? fifo_set(r, idx, SHAPE_CLASS, fifo, limit, ifname) : 0;
}

int nlr_qdisc_put(struct nlr *r, struct rtnl_qdisc *q, const char *what)
{
	int err;

	begin(r);
	err = rtnl_qdisc_add(r->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (err < 0)
		return fail(r, err, "%s", what);
	return 0;
}

int nlr_class_put(struct nlr *r, struct rtnl_class *c, const char *what)
{
	int err;

	begin(r);
	err = rtnl_class_add(r->sk, c, NLM_F_CREATE | NLM_F_REPLACE);
	if (err < 0)
		return fail(r, err, "%s", what);
	return 0;
}

int nlr_root_qdisc_delete(struct nlr *r, const char *ifname)
{
	struct tree t;
	int idx = nlr_ifindex(r, ifname), err;

	if (idx < 0)
		return idx;
	err = tree_read(r, idx, &t, ifname);
	if (err || !t.root_handle)
		return err;
	return qdisc_del(r, idx, TC_H_ROOT, t.root_handle, ifname);
}

int nlr_qdisc_stats(struct nlr *r, const char *ifname, uint32_t handle, struct nlr_qdisc_stats *out)
{
	struct nl_cache *cache;
	struct rtnl_qdisc *q;
	int idx = nlr_ifindex(r, ifname), err;

	memset(out, 0, sizeof(*out));
	if (idx < 0)
		return idx;
	begin(r);
	err = rtnl_qdisc_alloc_cache(r->sk, &cache);
	if (err < 0)
		return fail(r, err, "dump qdiscs of %s", ifname);
	q = handle ? rtnl_qdisc_get(cache, idx, handle)
		   : rtnl_qdisc_get_by_parent(cache, idx, TC_H_ROOT);
	if (q) {
		const char *kind = rtnl_tc_get_kind(TC_CAST(q));

		out->found = true;
		snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
		out->packets = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_PACKETS);
		out->bytes = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BYTES);
		out->drops = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
		out->overlimits = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_OVERLIMITS);
		out->requeues = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_REQUEUES);
		out->qlen = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_QLEN);
		out->backlog = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BACKLOG);
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return 0;
}

int nlr_link_counters(struct nlr *r, const char *ifname, struct nlr_link_counters *out)
{
	struct rtnl_link *link;
	struct tree t;
	unsigned flags;
	int err;

	memset(out, 0, sizeof(*out));
	err = get_link(r, ifname, &link);
	if (err)
		return err;
	out->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
	out->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	out->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
	out->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	out->rx_dropped = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
	out->tx_dropped = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
	flags = rtnl_link_get_flags(link);
	out->up = flags & IFF_UP;
	out->carrier = flags & IFF_LOWER_UP;
	err = tree_read(r, rtnl_link_get_ifindex(link), &t, ifname);
	rtnl_link_put(link);
	if (err)
		return err;
	out->qdisc_drops = t.drops;
	out->qdisc_backlog = t.backlog;
	return 0;
}
