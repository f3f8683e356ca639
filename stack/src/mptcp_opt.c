/* MPTCP option codec (RFC 8684 section 3).  See mptcp_opt.h. */
#include "mptcp_opt.h"

#include <string.h>

static uint64_t get64(const uint8_t *p)
{
	return ((uint64_t)wire_get32(p) << 32) | wire_get32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)(v >> 32));
	wire_put32(p + 4, (uint32_t)v);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Common header check: kind 30, the length byte within `len`, the subtype.  Returns
 * the option length (>= 3) or MPT_EMALFORMED. */
static ptrdiff_t hdr(const uint8_t *p, size_t len, unsigned subtype)
{
	if (len < 3 || p[0] != WIRE_OPT_MPTCP || p[1] < 3 || p[1] > len || (p[2] >> 4) != subtype)
		return MPT_EMALFORMED;
	return p[1];
}

/* Write kind, length and the subtype octet (subtype << 4 | low nibble). */
static void put_hdr(uint8_t *p, size_t olen, unsigned subtype, unsigned low)
{
	p[0] = WIRE_OPT_MPTCP;
	p[1] = (uint8_t)olen;
	p[2] = (uint8_t)((subtype << 4) | (low & 0xf));
}

/* ---- MP_CAPABLE (RFC 8684 3.1, figure 4) ----
 *   0 kind  1 len  2 subtype|version  3 flags A..H
 *   SYN      4: nothing more
 *   SYN-ACK 12: sender's key (64)
 *   ACK     20: sender's key, receiver's key
 *   ACK+data 22 / 24: both keys, data-level length (16) [, checksum (16)] */
ptrdiff_t mptcp_mpc_decode(struct mptcp_opt_mpc *m, uint32_t *form, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_CAPABLE);

	if (olen < 0)
		return olen;
	memset(m, 0, sizeof(*m));
	switch (olen) {
	case MPTCP_LEN_MPC_SYN:
		*form = MPTCP_OPT_MPC_SYN;
		break;
	case MPTCP_LEN_MPC_SYNACK:
		*form = MPTCP_OPT_MPC_SYNACK;
		break;
	case MPTCP_LEN_MPC_ACK:
	case MPTCP_LEN_MPC_ACK_DATA:
	case MPTCP_LEN_MPC_ACK_DATA_CSUM:
		*form = MPTCP_OPT_MPC_ACK;
		break;
	default:
		return MPT_EMALFORMED;
	}
	m->version = p[2] & 0xf;
	m->flags = p[3];
	/* Linux: "try to be gentle vs future versions on the initial syn" -- a SYN may
	 * offer a higher version, every later form must say 1 exactly.  Of the low five
	 * flag bits (D E F G H) only H may be set (mptcp_cap_flag_sha256), and B must be
	 * clear; A and C are free. */
	if (olen == MPTCP_LEN_MPC_SYN ? m->version < MPTCP_VERSION : m->version != MPTCP_VERSION)
		return MPT_EUNSUPP;
	if ((m->flags & MPTCP_MPC_FLAG_MASK) != MPTCP_MPC_H || (m->flags & MPTCP_MPC_B))
		return MPT_EUNSUPP;
	if (olen >= MPTCP_LEN_MPC_SYNACK)
		m->sndr_key = get64(p + 4);
	if (olen >= MPTCP_LEN_MPC_ACK)
		m->rcvr_key = get64(p + 12);
	if (olen >= MPTCP_LEN_MPC_ACK_DATA) {
		m->has_data_len = true;
		m->data_len = wire_get16(p + 20);
	}
	if (olen == MPTCP_LEN_MPC_ACK_DATA_CSUM) {
		m->has_csum = true;
		m->csum = wire_get16(p + 22);
	}
	return olen;
}

size_t mptcp_mpc_len(uint32_t form, const struct mptcp_opt_mpc *m)
{
	switch (form) {
	case MPTCP_OPT_MPC_SYN:
		return MPTCP_LEN_MPC_SYN;
	case MPTCP_OPT_MPC_SYNACK:
		return MPTCP_LEN_MPC_SYNACK;
	case MPTCP_OPT_MPC_ACK:
		if (!m->has_data_len)
			return m->has_csum ? 0 : MPTCP_LEN_MPC_ACK;
		return m->has_csum ? MPTCP_LEN_MPC_ACK_DATA_CSUM : MPTCP_LEN_MPC_ACK_DATA;
	default:
		return 0;
	}
}

ptrdiff_t mptcp_mpc_encode(uint8_t *p, size_t cap, uint32_t form, const struct mptcp_opt_mpc *m)
{
	size_t olen = mptcp_mpc_len(form, m);

	if (!olen)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	put_hdr(p, olen, MPTCP_SUB_CAPABLE, m->version);
	p[3] = m->flags;
	if (olen >= MPTCP_LEN_MPC_SYNACK)
		put64(p + 4, m->sndr_key);
	if (olen >= MPTCP_LEN_MPC_ACK)
		put64(p + 12, m->rcvr_key);
	if (olen >= MPTCP_LEN_MPC_ACK_DATA)
		wire_put16(p + 20, m->data_len);
	if (olen == MPTCP_LEN_MPC_ACK_DATA_CSUM)
		wire_put16(p + 22, m->csum);
	return (ptrdiff_t)olen;
}

/* ---- MP_JOIN (RFC 8684 3.2, figures 5-7) ----
 *   SYN     12: subtype|rsv|B, address id, token (32), nonce (32)
 *   SYN-ACK 16: subtype|rsv|B, address id, truncated HMAC (64), nonce (32)
 *   ACK     24: subtype|reserved (12 bits), HMAC (160) */
ptrdiff_t mptcp_mpj_decode(struct mptcp_opt_mpj *m, uint32_t *form, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_JOIN);

	if (olen < 0)
		return olen;
	memset(m, 0, sizeof(*m));
	switch (olen) {
	case MPTCP_LEN_MPJ_SYN:
		*form = MPTCP_OPT_MPJ_SYN;
		m->backup = p[2] & 1;
		m->addr_id = p[3];
		m->token = wire_get32(p + 4);
		m->nonce = wire_get32(p + 8);
		break;
	case MPTCP_LEN_MPJ_SYNACK:
		*form = MPTCP_OPT_MPJ_SYNACK;
		m->backup = p[2] & 1;
		m->addr_id = p[3];
		m->thmac = get64(p + 4);
		m->nonce = wire_get32(p + 12);
		break;
	case MPTCP_LEN_MPJ_ACK:
		*form = MPTCP_OPT_MPJ_ACK;
		memcpy(m->hmac, p + 4, sizeof(m->hmac));
		break;
	default:
		return MPT_EMALFORMED;
	}
	return olen;
}

size_t mptcp_mpj_len(uint32_t form)
{
	switch (form) {
	case MPTCP_OPT_MPJ_SYN:
		return MPTCP_LEN_MPJ_SYN;
	case MPTCP_OPT_MPJ_SYNACK:
		return MPTCP_LEN_MPJ_SYNACK;
	case MPTCP_OPT_MPJ_ACK:
		return MPTCP_LEN_MPJ_ACK;
	default:
		return 0;
	}
}

ptrdiff_t mptcp_mpj_encode(uint8_t *p, size_t cap, uint32_t form, const struct mptcp_opt_mpj *m)
{
	size_t olen = mptcp_mpj_len(form);

	if (!olen)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	switch (form) {
	case MPTCP_OPT_MPJ_SYN:
		put_hdr(p, olen, MPTCP_SUB_JOIN, m->backup ? 1 : 0);
		p[3] = m->addr_id;
		wire_put32(p + 4, m->token);
		wire_put32(p + 8, m->nonce);
		break;
	case MPTCP_OPT_MPJ_SYNACK:
		put_hdr(p, olen, MPTCP_SUB_JOIN, m->backup ? 1 : 0);
		p[3] = m->addr_id;
		put64(p + 4, m->thmac);
		wire_put32(p + 12, m->nonce);
		break;
	default:
		put_hdr(p, olen, MPTCP_SUB_JOIN, 0);
		p[3] = 0;
		memcpy(p + 4, m->hmac, sizeof(m->hmac));
		break;
	}
	return (ptrdiff_t)olen;
}

/* ---- DSS (RFC 8684 3.3, figure 9) ----
 *   0 kind 1 len 2 subtype|reserved 3 reserved(3) F m M a A
 *   [DATA_ACK 4 or 8] [DSN 4 or 8, subflow seq 4, data-level length 2 [, checksum 2]]
 * The checksum is there when the connection negotiated it; its presence is read off
 * the length, as Linux does. */
static size_t dss_base_len(uint8_t flags)
{
	size_t n = MPTCP_LEN_DSS_BASE;

	if (flags & MPTCP_DSS_A)
		n += (flags & MPTCP_DSS_a) ? 8 : 4;
	if (flags & MPTCP_DSS_M)
		n += ((flags & MPTCP_DSS_m) ? 8 : 4) + 4 + 2;
	return n;
}

ptrdiff_t mptcp_dss_decode(struct mptcp_opt_dss *d, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_DSS);
	size_t base, off = 4;

	if (olen < 0)
		return olen;
	if (olen < MPTCP_LEN_DSS_BASE)
		return MPT_EMALFORMED;
	memset(d, 0, sizeof(*d));
	d->flags = p[3] & 0x1f;
	base = dss_base_len(d->flags);
	if ((size_t)olen == base + 2 && (d->flags & MPTCP_DSS_M))
		d->has_csum = true;
	else if ((size_t)olen != base)
		return MPT_EMALFORMED;
	if (d->flags & MPTCP_DSS_A) {
		if (d->flags & MPTCP_DSS_a) {
			d->data_ack = get64(p + off);
			off += 8;
		} else {
			d->data_ack = wire_get32(p + off);
			off += 4;
		}
	}
	if (d->flags & MPTCP_DSS_M) {
		if (d->flags & MPTCP_DSS_m) {
			d->data_seq = get64(p + off);
			off += 8;
		} else {
			d->data_seq = wire_get32(p + off);
			off += 4;
		}
		d->subflow_seq = wire_get32(p + off);
		d->data_len = wire_get16(p + off + 4);
		off += 6;
		if (d->has_csum)
			d->csum = wire_get16(p + off);
	}
	return olen;
}

size_t mptcp_dss_len(const struct mptcp_opt_dss *d)
{
	return dss_base_len(d->flags) + ((d->flags & MPTCP_DSS_M) && d->has_csum ? 2 : 0);
}

ptrdiff_t mptcp_dss_encode(uint8_t *p, size_t cap, const struct mptcp_opt_dss *d)
{
	size_t olen = mptcp_dss_len(d), off = 4;

	if (d->flags & ~0x1f)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	put_hdr(p, olen, MPTCP_SUB_DSS, 0);
	p[3] = d->flags;
	if (d->flags & MPTCP_DSS_A) {
		if (d->flags & MPTCP_DSS_a) {
			put64(p + off, d->data_ack);
			off += 8;
		} else {
			wire_put32(p + off, (uint32_t)d->data_ack);
			off += 4;
		}
	}
	if (d->flags & MPTCP_DSS_M) {
		if (d->flags & MPTCP_DSS_m) {
			put64(p + off, d->data_seq);
			off += 8;
		} else {
			wire_put32(p + off, (uint32_t)d->data_seq);
			off += 4;
		}
		wire_put32(p + off, d->subflow_seq);
		wire_put16(p + off + 4, d->data_len);
		off += 6;
		if (d->has_csum)
			wire_put16(p + off, d->csum);
	}
	return (ptrdiff_t)olen;
}

/* ---- ADD_ADDR (RFC 8684 3.4.1, figure 15) ----
 *   0 kind 1 len 2 subtype|rsv|E 3 address id, address (4 or 16) [, port (2)]
 *   [, truncated HMAC (64) when E = 0]
 * Lengths: IPv4 8 / 10 (echo, [port]) and 16 / 18; IPv6 20 / 22 and 28 / 30 --
 * every combination has its own length, so decoding reads it all off the length. */
static size_t add_addr_len(bool v6, bool port, bool echo)
{
	return 4 + (v6 ? 16 : 4) + (port ? 2 : 0) + (echo ? 0 : 8);
}

ptrdiff_t mptcp_add_addr_decode(struct mptcp_opt_add_addr *a, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_ADD_ADDR);
	size_t alen, off = 4;
	int v6, port;

	if (olen < 0)
		return olen;
	memset(a, 0, sizeof(*a));
	a->echo = p[2] & 1;
	for (v6 = 0; v6 < 2; v6++)
		for (port = 0; port < 2; port++)
			if ((size_t)olen == add_addr_len(v6, port, a->echo))
				goto found;
	return MPT_EMALFORMED;
found:
	a->family = v6 ? MPT_AF_INET6 : MPT_AF_INET;
	a->has_port = port;
	a->id = p[3];
	alen = v6 ? 16 : 4;
	memcpy(a->addr, p + off, alen);
	off += alen;
	if (port) {
		a->port = wire_get16(p + off);
		off += 2;
	}
	if (!a->echo)
		a->hmac = get64(p + off);
	return olen;
}

size_t mptcp_add_addr_len(const struct mptcp_opt_add_addr *a)
{
	if (a->family != MPT_AF_INET && a->family != MPT_AF_INET6)
		return 0;
	return add_addr_len(a->family == MPT_AF_INET6, a->has_port, a->echo);
}

ptrdiff_t mptcp_add_addr_encode(uint8_t *p, size_t cap, const struct mptcp_opt_add_addr *a)
{
	size_t olen = mptcp_add_addr_len(a), alen, off = 4;

	if (!olen)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	put_hdr(p, olen, MPTCP_SUB_ADD_ADDR, a->echo ? 1 : 0);
	p[3] = a->id;
	alen = a->family == MPT_AF_INET6 ? 16 : 4;
	memcpy(p + off, a->addr, alen);
	off += alen;
	if (a->has_port) {
		wire_put16(p + off, a->port);
		off += 2;
	}
	if (!a->echo)
		put64(p + off, a->hmac);
	return (ptrdiff_t)olen;
}

/* ---- REMOVE_ADDR (RFC 8684 3.4.2, figure 16): subtype|rsv, then 1..8 ids ---- */
ptrdiff_t mptcp_rm_addr_decode(struct mptcp_opt_rm_addr *r, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_RM_ADDR);

	if (olen < 0)
		return olen;
	if (olen < MPTCP_LEN_RM_ADDR_BASE + 1 || olen > MPTCP_LEN_RM_ADDR_BASE + MPTCP_RM_IDS_MAX)
		return MPT_EMALFORMED;
	memset(r, 0, sizeof(*r));
	r->nids = (uint8_t)(olen - MPTCP_LEN_RM_ADDR_BASE);
	memcpy(r->ids, p + 3, r->nids);
	return olen;
}

size_t mptcp_rm_addr_len(const struct mptcp_opt_rm_addr *r)
{
	if (r->nids < 1 || r->nids > MPTCP_RM_IDS_MAX)
		return 0;
	return MPTCP_LEN_RM_ADDR_BASE + r->nids;
}

ptrdiff_t mptcp_rm_addr_encode(uint8_t *p, size_t cap, const struct mptcp_opt_rm_addr *r)
{
	size_t olen = mptcp_rm_addr_len(r);

	if (!olen)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	put_hdr(p, olen, MPTCP_SUB_RM_ADDR, 0);
	memcpy(p + 3, r->ids, r->nids);
	return (ptrdiff_t)olen;
}

/* ---- MP_PRIO (RFC 8684 3.3.8, figure 11): subtype|rsv|B, length 3 ---- */
ptrdiff_t mptcp_prio_decode(struct mptcp_opt_prio *pr, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_PRIO);

	if (olen < 0)
		return olen;
	if (olen != MPTCP_LEN_PRIO)
		return MPT_EMALFORMED;
	pr->backup = p[2] & 1;
	return olen;
}

size_t mptcp_prio_len(void)
{
	return MPTCP_LEN_PRIO;
}

ptrdiff_t mptcp_prio_encode(uint8_t *p, size_t cap, const struct mptcp_opt_prio *pr)
{
	if (cap < MPTCP_LEN_PRIO)
		return MPT_ENOBUFS;
	put_hdr(p, MPTCP_LEN_PRIO, MPTCP_SUB_PRIO, pr->backup ? 1 : 0);
	return MPTCP_LEN_PRIO;
}

/* ---- MP_FAIL (RFC 8684 3.7, figure 16): subtype|reserved (12 bits), DSN (64) ---- */
/* MP_FAIL and MP_FASTCLOSE share one layout: subtype|reserved (12 bits), one
 * 64-bit value (a DSN, a key).  Exact length `olen`. */
static ptrdiff_t u64_opt_decode(uint64_t *v, const uint8_t *p, size_t len, unsigned subtype,
				size_t olen_want)
{
	ptrdiff_t olen = hdr(p, len, subtype);

	if (olen < 0)
		return olen;
	if ((size_t)olen != olen_want)
		return MPT_EMALFORMED;
	*v = get64(p + 4);
	return olen;
}

static ptrdiff_t u64_opt_encode(uint8_t *p, size_t cap, unsigned subtype, size_t olen, uint64_t v)
{
	if (cap < olen)
		return MPT_ENOBUFS;
	put_hdr(p, olen, subtype, 0);
	p[3] = 0;
	put64(p + 4, v);
	return (ptrdiff_t)olen;
}

ptrdiff_t mptcp_fail_decode(struct mptcp_opt_fail *f, const uint8_t *p, size_t len)
{
	return u64_opt_decode(&f->dsn, p, len, MPTCP_SUB_FAIL, MPTCP_LEN_FAIL);
}

size_t mptcp_fail_len(void)
{
	return MPTCP_LEN_FAIL;
}

ptrdiff_t mptcp_fail_encode(uint8_t *p, size_t cap, const struct mptcp_opt_fail *f)
{
	return u64_opt_encode(p, cap, MPTCP_SUB_FAIL, MPTCP_LEN_FAIL, f->dsn);
}

/* ---- MP_FASTCLOSE (RFC 8684 3.5, figure 14): subtype|reserved, receiver's key ---- */
ptrdiff_t mptcp_fastclose_decode(struct mptcp_opt_fastclose *f, const uint8_t *p, size_t len)
{
	return u64_opt_decode(&f->rcvr_key, p, len, MPTCP_SUB_FASTCLOSE, MPTCP_LEN_FASTCLOSE);
}

size_t mptcp_fastclose_len(void)
{
	return MPTCP_LEN_FASTCLOSE;
}

ptrdiff_t mptcp_fastclose_encode(uint8_t *p, size_t cap, const struct mptcp_opt_fastclose *f)
{
	return u64_opt_encode(p, cap, MPTCP_SUB_FASTCLOSE, MPTCP_LEN_FASTCLOSE, f->rcvr_key);
}

/* ---- MP_TCPRST (RFC 8684 3.6, figure 15): subtype|U V W T, reason ---- */
ptrdiff_t mptcp_rst_decode(struct mptcp_opt_rst *r, const uint8_t *p, size_t len)
{
	ptrdiff_t olen = hdr(p, len, MPTCP_SUB_TCPRST);

	if (olen < 0)
		return olen;
	if (olen != MPTCP_LEN_TCPRST)
		return MPT_EMALFORMED;
	r->flags = p[2] & 0xf;
	r->reason = p[3];
	return olen;
}

size_t mptcp_rst_len(void)
{
	return MPTCP_LEN_TCPRST;
}

ptrdiff_t mptcp_rst_encode(uint8_t *p, size_t cap, const struct mptcp_opt_rst *r)
{
	if (cap < MPTCP_LEN_TCPRST)
		return MPT_ENOBUFS;
	put_hdr(p, MPTCP_LEN_TCPRST, MPTCP_SUB_TCPRST, r->flags);
	p[3] = r->reason;
	return MPTCP_LEN_TCPRST;
}

/* ---- dispatch ---- */
ptrdiff_t mptcp_subopt_decode(struct mptcp_opts *m, uint32_t *bit, const uint8_t *p, size_t len)
{
	if (len < 3 || p[0] != WIRE_OPT_MPTCP)
		return MPT_EMALFORMED;
	switch (p[2] >> 4) {
	case MPTCP_SUB_CAPABLE:
		return mptcp_mpc_decode(&m->mpc, bit, p, len);
	case MPTCP_SUB_JOIN:
		return mptcp_mpj_decode(&m->mpj, bit, p, len);
	case MPTCP_SUB_DSS:
		*bit = MPTCP_OPT_DSS;
		return mptcp_dss_decode(&m->dss, p, len);
	case MPTCP_SUB_ADD_ADDR:
		*bit = MPTCP_OPT_ADD_ADDR;
		return mptcp_add_addr_decode(&m->add_addr, p, len);
	case MPTCP_SUB_RM_ADDR:
		*bit = MPTCP_OPT_RM_ADDR;
		return mptcp_rm_addr_decode(&m->rm_addr, p, len);
	case MPTCP_SUB_PRIO:
		*bit = MPTCP_OPT_PRIO;
		return mptcp_prio_decode(&m->prio, p, len);
	case MPTCP_SUB_FAIL:
		*bit = MPTCP_OPT_FAIL;
		return mptcp_fail_decode(&m->fail, p, len);
	case MPTCP_SUB_FASTCLOSE:
		*bit = MPTCP_OPT_FASTCLOSE;
		return mptcp_fastclose_decode(&m->fastclose, p, len);
	case MPTCP_SUB_TCPRST:
		*bit = MPTCP_OPT_RST;
		return mptcp_rst_decode(&m->rst, p, len);
	default:
		return MPT_EUNSUPP;
	}
}

size_t mptcp_subopt_len(const struct mptcp_opts *m, uint32_t bit)
{
	switch (bit) {
	case MPTCP_OPT_MPC_SYN:
	case MPTCP_OPT_MPC_SYNACK:
	case MPTCP_OPT_MPC_ACK:
		return mptcp_mpc_len(bit, &m->mpc);
	case MPTCP_OPT_MPJ_SYN:
	case MPTCP_OPT_MPJ_SYNACK:
	case MPTCP_OPT_MPJ_ACK:
		return mptcp_mpj_len(bit);
	case MPTCP_OPT_DSS:
		return mptcp_dss_len(&m->dss);
	case MPTCP_OPT_ADD_ADDR:
		return mptcp_add_addr_len(&m->add_addr);
	case MPTCP_OPT_RM_ADDR:
		return mptcp_rm_addr_len(&m->rm_addr);
	case MPTCP_OPT_PRIO:
		return mptcp_prio_len();
	case MPTCP_OPT_FAIL:
		return mptcp_fail_len();
	case MPTCP_OPT_FASTCLOSE:
		return mptcp_fastclose_len();
	case MPTCP_OPT_RST:
		return mptcp_rst_len();
	default:
		return 0;
	}
}

ptrdiff_t mptcp_subopt_encode(uint8_t *p, size_t cap, const struct mptcp_opts *m, uint32_t bit)
{
	switch (bit) {
	case MPTCP_OPT_MPC_SYN:
	case MPTCP_OPT_MPC_SYNACK:
	case MPTCP_OPT_MPC_ACK:
		return mptcp_mpc_encode(p, cap, bit, &m->mpc);
	case MPTCP_OPT_MPJ_SYN:
	case MPTCP_OPT_MPJ_SYNACK:
	case MPTCP_OPT_MPJ_ACK:
		return mptcp_mpj_encode(p, cap, bit, &m->mpj);
	case MPTCP_OPT_DSS:
		return mptcp_dss_encode(p, cap, &m->dss);
	case MPTCP_OPT_ADD_ADDR:
		return mptcp_add_addr_encode(p, cap, &m->add_addr);
	case MPTCP_OPT_RM_ADDR:
		return mptcp_rm_addr_encode(p, cap, &m->rm_addr);
	case MPTCP_OPT_PRIO:
		return mptcp_prio_encode(p, cap, &m->prio);
	case MPTCP_OPT_FAIL:
		return mptcp_fail_encode(p, cap, &m->fail);
	case MPTCP_OPT_FASTCLOSE:
		return mptcp_fastclose_encode(p, cap, &m->fastclose);
	case MPTCP_OPT_RST:
		return mptcp_rst_encode(p, cap, &m->rst);
	default:
		return MPT_EINVAL;
	}
}

/* ---- which suboptions may share a segment ----
 *
 * Linux's matrix (net/mptcp/options.c, mptcp_write_options, and the receive-side
 * rule of "mptcp: avoid combining some incoming suboptions"):
 *
 *   X: mutually exclusive   O: often together   C: together in some cases
 *   P: could be together but Linux prefers not to (accepted on input)
 *
 *    Opt: | MPC | MPJ | DSS | ADD | RM  | PRIO| FAIL| FC  |
 *   ------|-----|-----|-----|-----|-----|-----|-----|-----|
 *    MPJ  |  X  |     |     |     |     |     |     |     |
 *    DSS  |  X  |  X  |     |     |     |     |     |     |
 *    ADD  |  X  |  X  |  P  |     |     |     |     |     |
 *    RM   |  C  |  C  |  C  |  P  |     |     |     |     |
 *    PRIO |  X  |  C  |  C  |  C  |  C  |     |     |     |
 *    FAIL |  X  |  X  |  C  |  X  |  X  |  X  |     |     |
 *    FC   |  X  |  X  |  P  |  X  |  X  |  X  |  X  |     |
 *    RST  |  X  |  X  |  X  |  X  |  X  |  X  |  O  |  O  |
 *
 * Our emitter treats ADD+DSS as allowed when it fits (Linux sends ADD_ADDR with a
 * DSS DATA_ACK when there is room), ADD+RM and FC+DSS as excluded.
 *
 * Sizes (octets, kind and length included; padded to 4 in the TCP header):
 *   MP_CAPABLE   SYN 4, SYN-ACK 12, ACK 20, ACK+data 22, +checksum 24
 *   MP_JOIN      SYN 12, SYN-ACK 16, ACK 24
 *   DSS          4 + DATA_ACK 0/4/8 + mapping 0/10/14 + checksum 0/2   (max 28)
 *   ADD_ADDR     v4 16 (+2 port), echo 8 (+2); v6 28 (+2), echo 20 (+2)
 *   REMOVE_ADDR  3 + n ids (n = 1..8)
 *   MP_PRIO      3          MP_FAIL 12          MP_FASTCLOSE 12          MP_TCPRST 4
 * So e.g. DSS (64-bit ACK + 64-bit mapping + checksum = 28) leaves 12 octets of 40:
 * room for MP_FAIL or a 4-address REMOVE_ADDR + ... but not an IPv4 ADD_ADDR; with
 * timestamps (12) taking their share first, a full DSS leaves nothing.
 */
enum { G_MPC, G_MPJ, G_DSS, G_ADD, G_RM, G_PRIO, G_FAIL, G_FC, G_RST, G_N };

/* 'X' exclusive, 'O' / 'C' allowed, 'P' allowed on input only, except the pairs
 * named above.  Symmetric; the diagonal (a duplicate) is exclusive. */
static const char compat[G_N][G_N + 1] = {
	/*           MPC  MPJ  DSS  ADD  RM  PRIO FAIL FC  RST */
	[G_MPC] = "XXXXCXXXX",	[G_MPJ] = "XXXXCCXXX", [G_DSS] = "XXXPCCCPX",
	[G_ADD] = "XXPXPCXXX",	[G_RM] = "CCCPXCXXX",  [G_PRIO] = "XCCCCXXXX",
	[G_FAIL] = "XXCXXXXXO", [G_FC] = "XXPXXXXXO",  [G_RST] = "XXXXXXOOX",
};

static int group(uint32_t bit)
{
	if (bit & MPTCP_OPT_MPC)
		return G_MPC;
	if (bit & MPTCP_OPT_MPJ)
		return G_MPJ;
	switch (bit) {
	case MPTCP_OPT_DSS:
		return G_DSS;
	case MPTCP_OPT_ADD_ADDR:
		return G_ADD;
	case MPTCP_OPT_RM_ADDR:
		return G_RM;
	case MPTCP_OPT_PRIO:
		return G_PRIO;
	case MPTCP_OPT_FAIL:
		return G_FAIL;
	case MPTCP_OPT_FASTCLOSE:
		return G_FC;
	case MPTCP_OPT_RST:
		return G_RST;
	default:
		return -1;
	}
}

bool mptcp_opts_compatible(uint32_t a, uint32_t b, bool input)
{
	int ga = group(a), gb = group(b);
	char c;

	if (ga < 0 || gb < 0)
		return false;
	c = compat[ga][gb];
	if (c == 'P') {
		if (input)
			return true;
		/* output: ADD_ADDR may ride with a DSS; ADD+RM and FC+DSS do not */
		return (ga == G_DSS && gb == G_ADD) || (ga == G_ADD && gb == G_DSS);
	}
	return c == 'O' || c == 'C';
}

static bool compatible_with_all(uint32_t set, uint32_t bit, bool input)
{
	uint32_t b;

	for (b = 1; b && b <= set; b <<= 1)
		if ((set & b) && !mptcp_opts_compatible(b, bit, input))
			return false;
	return true;
}

/* The MP_CAPABLE / MP_JOIN form the TCP flags allow (Linux's mptcp_parse_option). */
static bool form_ok(uint32_t bit, const struct mptcp_opts *t, uint8_t tcp_flags, size_t payload_len)
{
	bool syn = tcp_flags & WIRE_TCP_SYN, ack = tcp_flags & WIRE_TCP_ACK;

	switch (bit) {
	case MPTCP_OPT_MPC_SYN:
	case MPTCP_OPT_MPJ_SYN:
		return syn && !ack;
	case MPTCP_OPT_MPC_SYNACK:
	case MPTCP_OPT_MPJ_SYNACK:
		return syn && ack;
	case MPTCP_OPT_MPC_ACK:
		return !syn && t->mpc.has_data_len == (payload_len > 0);
	case MPTCP_OPT_MPJ_ACK:
		return !syn && ack;
	case MPTCP_OPT_RST:
		return tcp_flags & WIRE_TCP_RST; /* Linux ignores MP_TCPRST elsewhere */
	default:
		return true;
	}
}

static void copy_member(struct mptcp_opts *dst, const struct mptcp_opts *src, uint32_t bit)
{
	if (bit & MPTCP_OPT_MPC)
		dst->mpc = src->mpc;
	else if (bit & MPTCP_OPT_MPJ)
		dst->mpj = src->mpj;
	else if (bit == MPTCP_OPT_DSS)
		dst->dss = src->dss;
	else if (bit == MPTCP_OPT_ADD_ADDR)
		dst->add_addr = src->add_addr;
	else if (bit == MPTCP_OPT_RM_ADDR)
		dst->rm_addr = src->rm_addr;
	else if (bit == MPTCP_OPT_PRIO)
		dst->prio = src->prio;
	else if (bit == MPTCP_OPT_FAIL)
		dst->fail = src->fail;
	else if (bit == MPTCP_OPT_FASTCLOSE)
		dst->fastclose = src->fastclose;
	else if (bit == MPTCP_OPT_RST)
		dst->rst = src->rst;
}

int mptcp_opts_parse(struct mptcp_opts *m, const struct wire_tcp_opts *o, uint8_t tcp_flags,
		     size_t payload_len, struct mpt_counters *ctr)
{
	struct mptcp_opts t;
	int n = 0;
	uint8_t i;

	memset(m, 0, sizeof(*m));
	if (!(o->present & WIRE_HAS_MPTCP))
		return 0;
	for (i = 0; i < o->nmptcp && i < WIRE_OPT_MPTCP_MAX; i++) {
		const struct wire_mptcp_raw *raw = &o->mptcp[i];
		uint32_t bit = 0;
		ptrdiff_t rv;

		memset(&t, 0, sizeof(t));
		rv = mptcp_subopt_decode(&t, &bit, raw->data, raw->len);
		if (rv == MPT_EUNSUPP) {
			if (ctr)
				ctr->mptcp_opt_unknown++;
			continue;
		}
		if (rv < 0 || rv != raw->len || !form_ok(bit, &t, tcp_flags, payload_len)) {
			if (ctr)
				ctr->mptcp_opt_malformed++;
			continue;
		}
		if (!compatible_with_all(m->suboptions, bit, true)) {
			if (ctr)
				ctr->mptcp_opt_conflict++;
			continue;
		}
		copy_member(m, &t, bit);
		m->suboptions |= bit;
		n++;
	}
	return n;
}

/* ---- emitter ---- */
struct emit_state {
	const struct mptcp_opts *want;
	struct wire_tcp_opts *o;
	size_t space; /* padded bytes still free */
	uint32_t sent;
};

/* Append the suboption `bit` if wanted, compatible with what is chosen, and it fits. */
static bool try_emit(struct emit_state *es, uint32_t bit)
{
	struct wire_mptcp_raw *raw;
	size_t olen;
	ptrdiff_t rv;

	if (!(es->want->suboptions & bit) || !compatible_with_all(es->sent, bit, false))
		return false;
	olen = mptcp_subopt_len(es->want, bit);
	if (!olen || pad4(olen) > es->space || es->o->nmptcp >= WIRE_OPT_MPTCP_MAX)
		return false;
	raw = &es->o->mptcp[es->o->nmptcp];
	rv = mptcp_subopt_encode(raw->data, sizeof(raw->data), es->want, bit);
	if (rv != (ptrdiff_t)olen)
		return false;
	raw->len = (uint8_t)olen;
	es->o->nmptcp++;
	es->o->present |= WIRE_HAS_MPTCP;
	es->space -= pad4(olen);
	es->sent |= bit;
	return true;
}

uint32_t mptcp_opts_emit(const struct mptcp_opts *want, uint8_t tcp_flags, size_t space,
			 struct wire_tcp_opts *o)
{
	struct emit_state es = {want, o, space, 0};
	uint32_t b;

	if (tcp_flags & WIRE_TCP_RST) {
		/* RST: FASTCLOSE or FAIL, then MP_TCPRST if room */
		if (!try_emit(&es, MPTCP_OPT_FASTCLOSE))
			try_emit(&es, MPTCP_OPT_FAIL);
		try_emit(&es, MPTCP_OPT_RST);
		return es.sent;
	}
	if (try_emit(&es, MPTCP_OPT_FASTCLOSE))
		return es.sent; /* RFC 8684 3.5 option A: on an ACK, alone */
	for (b = MPTCP_OPT_MPC_SYN; b <= MPTCP_OPT_MPJ_ACK; b <<= 1)
		if (try_emit(&es, b))
			break;
	if (!(es.sent & (MPTCP_OPT_MPC | MPTCP_OPT_MPJ)) && try_emit(&es, MPTCP_OPT_DSS) &&
	    try_emit(&es, MPTCP_OPT_FAIL))
		return es.sent; /* Linux: DSS + MP_FAIL and nothing else */
	if (!try_emit(&es, MPTCP_OPT_ADD_ADDR))
		try_emit(&es, MPTCP_OPT_RM_ADDR);
	try_emit(&es, MPTCP_OPT_PRIO);
	return es.sent;
}

/* What mptcp_opts_emit would write of w, in padded bytes (the same order and
 * pairing rules, space unbounded). */
static size_t planned_len(const struct mptcp_opts *w)
{
	uint32_t want = w->suboptions, core = 0;
	size_t n = 0;

	if (want & MPTCP_OPT_FASTCLOSE)
		return pad4(mptcp_subopt_len(w, MPTCP_OPT_FASTCLOSE));
	for (uint32_t b = MPTCP_OPT_MPC_SYN; b <= MPTCP_OPT_MPJ_ACK; b <<= 1)
		if (want & b) {
			core = b;
			break;
		}
	if (!core && (want & MPTCP_OPT_DSS)) {
		n += pad4(mptcp_subopt_len(w, MPTCP_OPT_DSS));
		if (want & MPTCP_OPT_FAIL)
			return n + pad4(mptcp_subopt_len(w, MPTCP_OPT_FAIL));
	} else if (core) {
		n += pad4(mptcp_subopt_len(w, core));
	}
	if (want & MPTCP_OPT_ADD_ADDR)
		n += pad4(mptcp_subopt_len(w, MPTCP_OPT_ADD_ADDR));
	else if (want & MPTCP_OPT_RM_ADDR)
		n += pad4(mptcp_subopt_len(w, MPTCP_OPT_RM_ADDR));
	if (want & MPTCP_OPT_PRIO)
		n += pad4(mptcp_subopt_len(w, MPTCP_OPT_PRIO));
	return n;
}

static size_t space_left(const struct wire_tcp_opts *o)
{
	size_t used = wire_tcp_opts_len(o);

	return used < WIRE_TCP_MAX_OPT ? WIRE_TCP_MAX_OPT - used : 0;
}

size_t mptcp_opts_fit(struct mptcp_opts *w, uint8_t tcp_flags, size_t payload_len,
		      struct wire_tcp_opts *o, uint32_t *gave_up)
{
	const uint32_t signals = MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR | MPTCP_OPT_PRIO;

	*gave_up = 0;
	if (tcp_flags & (WIRE_TCP_RST | WIRE_TCP_SYN)) /* their own rules, no SACK */
		return space_left(o);
	/* MPTCP before SACK, as Linux's tcp_established_options: the SACK blocks get
	 * what the MPTCP options leave. */
	while (planned_len(w) > space_left(o) && (o->present & WIRE_HAS_SACK) && o->nsack) {
		o->nsack--;
		if (!o->nsack)
			o->present &= ~(uint32_t)WIRE_HAS_SACK;
		*gave_up |= MPTCP_FIT_SACK;
	}
	if (payload_len || !(w->suboptions & (signals | MPTCP_OPT_FAIL)) ||
	    planned_len(w) <= space_left(o))
		return space_left(o);
	if (!(w->suboptions & MPTCP_OPT_FAIL)) {
		struct mptcp_opts alone = *w;

		alone.suboptions &= signals;
		if (planned_len(&alone) > space_left(o))
			return space_left(o); /* fits nowhere: nothing waits for it */
	}
	/* A segment without payload carrying a signal or MP_FAIL that does not fit
	 * beside the DSS: the DATA_FIN mapping waits for a later ACK (its
	 * retransmission timer), the DATA_ACK stays. */
	if ((w->suboptions & MPTCP_OPT_DSS) && (w->dss.flags & MPTCP_DSS_F)) {
		w->dss.flags &= (uint8_t) ~(MPTCP_DSS_M | MPTCP_DSS_m | MPTCP_DSS_F);
		w->dss.data_seq = 0;
		w->dss.subflow_seq = 0;
		w->dss.data_len = 0;
		w->dss.has_csum = false;
		*gave_up |= MPTCP_FIT_DATA_FIN;
	}
	/* Still too long: the DSS waits for the next ACK, as Linux drops the other
	 * suboptions of a pure ACK for an ADD_ADDR (mptcp_established_options_add_addr). */
	if (planned_len(w) > space_left(o) && (w->suboptions & MPTCP_OPT_DSS) &&
	    !(w->dss.flags & MPTCP_DSS_M) && !(w->suboptions & MPTCP_OPT_FAIL)) {
		w->suboptions &= ~(uint32_t)MPTCP_OPT_DSS;
		*gave_up |= MPTCP_FIT_DSS;
	}
	return space_left(o);
}
