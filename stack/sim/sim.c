/* Virtual-time simulator and scripted-segment helpers (see mpt_sim.h). */
#include "mpt_sim.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG ---- */
uint64_t mpt_sim_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

double mpt_sim_rand01(uint64_t *s)
{
	return (double)(mpt_sim_rand(s) >> 11) / 9007199254740992.0;
}

/* ---- crypto ---- */
static int ossl_sha256(void *ctx, const uint8_t *msg, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	return EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int ossl_hmac(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		     uint8_t out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n) ? 0 : -1;
}

static int ossl_random(void *ctx, uint8_t *out, size_t len)
{
	if (!ctx)
		return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(mpt_sim_rand(ctx) >> 56);
	return 0;
}

struct mpt_crypto mpt_crypto_openssl(uint64_t *rng)
{
	struct mpt_crypto c = {
		.ctx = rng,
		.sha256 = ossl_sha256,
		.hmac_sha256 = ossl_hmac,
		.random_bytes = ossl_random,
	};
	return c;
}

/* env.route_source: the table in sim->route[ep] (the path is in the address) */
static int sim_route_source(void *ctx, const struct mpt_sockaddr *remote, uint32_t *path)
{
	struct mpt_sim_route *r = ctx;
	uint32_t q = remote->family == MPT_AF_INET6 ? remote->ip[13] : remote->ip[2];

	r->asked++;
	if (remote->family != r->sim->family || q >= MPT_SIM_MAX_PATHS || !r->via[q])
		return MPT_ENOENT;
	*path = r->via[q] - 1u;
	return 0;
}

/* ---- addresses ---- */
struct mpt_sockaddr mpt_sim_addr(const struct mpt_sim *sim, int ep, uint32_t path, uint16_t port)
{
	struct mpt_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)sim->family;
	a.port = port;
	if (sim->family == MPT_AF_INET6) {
		a.ip[0] = 0xfd;
		a.ip[13] = (uint8_t)path;
		a.ip[15] = (uint8_t)(ep + 1);
	} else {
		a.ip[0] = 10;
		a.ip[2] = (uint8_t)path;
		a.ip[3] = (uint8_t)(ep + 1);
	}
	return a;
}

int mpt_sim_init(struct mpt_sim *sim, uint64_t seed, const struct mpt_config *cfg,
		 const struct mpt_config *cfg_server, int family, uint32_t npaths,
		 const struct mpt_sim_link_cfg *link)
{
	struct mpt_sim_link_cfg def = {.rate_bps = 100000000, .delay_ns = 10000000};
	int i, rv;
	uint32_t p;

	memset(sim, 0, sizeof(*sim));
	if (!npaths || npaths > MPT_SIM_MAX_PATHS)
		return MPT_EINVAL;
	sim->family = family ? family : MPT_AF_INET;
	sim->npaths = npaths;
	sim->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	sim->trace_hash = 0xcbf29ce484222325ull;
	for (i = 0; i < 2; i++) {
		struct mpt_env env;

		sim->ep_rng[i] = seed * 0x9e3779b97f4a7c15ull + 7 + (uint64_t)i;
		memset(&env, 0, sizeof(env));
		env.crypto = mpt_crypto_openssl(&sim->ep_rng[i]);
		sim->route[i].sim = sim;
		env.route_source = sim_route_source;
		env.route_ctx = &sim->route[i];
		rv = mpt_stack_new(&sim->ep[i], &env, i == 1 && cfg_server ? cfg_server : cfg);
		if (rv < 0) {
			mpt_sim_free(sim);
			return rv;
		}
		for (p = 0; p < npaths; p++) {
			struct mpt_sockaddr a = mpt_sim_addr(sim, i, p, 0);

			mpt_stack_add_path(sim->ep[i], p, &a);
			sim->link[i][p].cfg = link ? *link : def;
		}
	}
	return 0;
}

void mpt_sim_free(struct mpt_sim *sim)
{
	int i;
	uint32_t p;

	for (i = 0; i < 2; i++) {
		mpt_stack_free(sim->ep[i]);
		sim->ep[i] = NULL;
		for (p = 0; p < MPT_SIM_MAX_PATHS; p++) {
			struct mpt_sim_pkt *k = sim->link[i][p].head;

			while (k) {
				struct mpt_sim_pkt *n = k->next;

				free(k);
				k = n;
			}
			sim->link[i][p].head = NULL;
		}
	}
}

static void trace(struct mpt_sim *sim, int from, uint32_t path, const uint8_t *pkt, size_t len)
{
	uint64_t h = sim->trace_hash;
	uint8_t hdr[13];
	size_t i;

	memcpy(hdr, &sim->now, 8);
	hdr[8] = (uint8_t)from;
	memcpy(hdr + 9, &path, 4);
	for (i = 0; i < sizeof(hdr); i++)
		h = (h ^ hdr[i]) * 0x100000001b3ull;
	for (i = 0; i < len; i++)
		h = (h ^ pkt[i]) * 0x100000001b3ull;
	sim->trace_hash = h;
	sim->trace_pkts++;
}

static void link_insert(struct mpt_sim *sim, struct mpt_sim_link *l, uint64_t at, uint32_t path,
			const uint8_t *pkt, size_t len)
{
	struct mpt_sim_pkt *k = malloc(sizeof(*k) + len), **pp;

	if (!k)
		return;
	k->at = at;
	k->order = sim->order++;
	k->path = path;
	k->len = (uint32_t)len;
	memcpy(k->data, pkt, len);
	pp = &l->head;
	while (*pp && (*pp)->at <= at)
		pp = &(*pp)->next;
	k->next = *pp;
	*pp = k;
}

/* Flip one payload byte and re-emit the packet with valid IP and TCP checksums. */
static bool rewrite_payload(uint8_t *pkt, size_t len)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr tcp;
	uint8_t body[65536];

	if (wire_packet_parse(&ip, &tcp, pkt, len) < 0 || !tcp.payload_len)
		return false;
	memcpy(body, tcp.payload, tcp.payload_len);
	body[tcp.payload_len / 2] ^= 0x5a;
	tcp.payload = body;
	return wire_packet_emit(&ip, &tcp, pkt, len) == (ptrdiff_t)len;
}

/* Flip one payload byte without fixing any checksum. */
static bool corrupt_payload(uint8_t *pkt, size_t len)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr tcp;
	ptrdiff_t n = wire_packet_parse(&ip, &tcp, pkt, len);

	if (n <= 0)
		return false;
	pkt[len - (size_t)n + (size_t)n / 2] ^= 0x5a;
	return true;
}

/* Make the segment a bare RST (its ACK flag kept, no options, no payload); *len shrinks. */
static bool reset_segment(uint8_t *pkt, size_t *len)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr tcp;
	ptrdiff_t n;

	if (wire_packet_parse(&ip, &tcp, pkt, *len) < 0 ||
	    (tcp.flags & (WIRE_TCP_SYN | WIRE_TCP_RST)))
		return false;
	tcp.flags = (uint8_t)(WIRE_TCP_RST | (tcp.flags & WIRE_TCP_ACK));
	tcp.payload_len = 0;
	memset(&tcp.opt, 0, sizeof(tcp.opt));
	n = wire_packet_emit(&ip, &tcp, pkt, *len);
	if (n <= 0)
		return false;
	*len = (size_t)n;
	return true;
}

/* A packet of `len` bytes offered to shared queue q at sim->now: false if the
 * drop-tail buffer is full; else true and *at, when it leaves q plus q's delay. */
static bool queue_offer(struct mpt_sim *sim, struct mpt_sim_queue *q, size_t len, uint64_t *at)
{
	uint32_t limit = q->limit_pkts && q->limit_pkts < MPT_SIM_QUEUE_MAX ? q->limit_pkts
									    : MPT_SIM_QUEUE_MAX;
	uint64_t start, tx = 0;

	while (q->len && q->depart[q->head] <= sim->now) {
		q->head = (q->head + 1) % MPT_SIM_QUEUE_MAX;
		q->len--;
	}
	if (q->len >= limit) {
		q->dropped++;
		return false;
	}
	if (q->rate_bps)
		tx = (uint64_t)len * 8 * 1000000000ull / q->rate_bps;
	start = q->busy_until > sim->now ? q->busy_until : sim->now;
	q->busy_until = start + tx;
	q->depart[(q->head + q->len) % MPT_SIM_QUEUE_MAX] = q->busy_until;
	q->len++;
	if (q->len > q->max_len)
		q->max_len = q->len;
	q->enqueued++;
	q->bytes += len;
	*at = q->busy_until + q->delay_ns;
	return true;
}

static void link_offer(struct mpt_sim *sim, int from, uint32_t path, const uint8_t *pkt, size_t len)
{
	struct mpt_sim_link *l = &sim->link[from][path];
	const struct mpt_sim_link_cfg *c = &l->cfg;
	uint64_t idx = l->count++, start, tx = 0, at, fdelay = 0;
	uint32_t fault = 0;
	uint8_t copy[65536];

	if (sim->fault)
		fault = sim->fault(sim->fault_ctx, from, path, pkt, len, sim->now, &fdelay);
	if (fault & MPT_SIM_FAULT_DROP) {
		l->dropped_loss++;
		return;
	}
	if (((c->corrupt_count && idx >= c->corrupt_from && l->corrupted < c->corrupt_count) ||
	     (fault & (MPT_SIM_FAULT_REWRITE | MPT_SIM_FAULT_CORRUPT))) &&
	    len <= sizeof(copy)) {
		memcpy(copy, pkt, len);
		if ((fault & MPT_SIM_FAULT_CORRUPT) ? corrupt_payload(copy, len)
						    : rewrite_payload(copy, len)) {
			l->corrupted++;
			pkt = copy;
		}
	}
	if ((fault & MPT_SIM_FAULT_RESET) && len <= sizeof(copy)) {
		if (pkt != copy)
			memcpy(copy, pkt, len);
		if (reset_segment(copy, &len))
			pkt = copy;
	}
	if (idx < 64 && (c->loss_mask >> idx) & 1) {
		l->dropped_mask++;
		return;
	}
	if (l->shared) {
		if (!queue_offer(sim, l->shared, len, &at)) {
			l->dropped_queue++;
			return;
		}
	} else {
		if (c->rate_bps)
			tx = (uint64_t)len * 8 * 1000000000ull / c->rate_bps;
		start = l->busy_until > sim->now ? l->busy_until : sim->now;
		if (c->queue_bytes && c->rate_bps &&
		    (start - sim->now) * c->rate_bps / 8000000000ull + len > c->queue_bytes) {
			l->dropped_queue++;
			return;
		}
		l->busy_until = start + tx;
		at = l->busy_until;
	}
	if (c->loss > 0 && mpt_sim_rand01(&sim->rng) < c->loss) {
		l->dropped_loss++;
		return;
	}
	at += c->delay_ns;
	if (c->jitter_ns) {
		at += (uint64_t)(mpt_sim_rand01(&sim->rng) * (double)c->jitter_ns);
		if (at < l->last_at)
			at = l->last_at;
		l->last_at = at;
	}
	if (fault & MPT_SIM_FAULT_DELAY) {
		at += fdelay;
		l->reordered++;
	}
	if (c->reorder > 0 && mpt_sim_rand01(&sim->rng) < c->reorder) {
		at += c->reorder_ns;
		l->reordered++;
	}
	link_insert(sim, l, at, path, pkt, len);
	if ((fault & MPT_SIM_FAULT_DUP) || (c->dup > 0 && mpt_sim_rand01(&sim->rng) < c->dup)) {
		l->duplicated++;
		link_insert(sim, l, at + 1000, path, pkt, len);
	}
}

/* Which path of endpoint `ep` owns the address at pkt[off..], or npaths. */
static uint32_t path_of(const struct mpt_sim *sim, int ep, const uint8_t *pkt, size_t len, bool src)
{
	size_t alen = sim->family == MPT_AF_INET ? 4 : 16;
	size_t off = sim->family == MPT_AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);

	if (len < off + alen)
		return sim->npaths;
	for (uint32_t p = 0; p < sim->npaths; p++) {
		struct mpt_sockaddr a = mpt_sim_addr(sim, ep, p, 0);

		if (!memcmp(a.ip, pkt + off, alen))
			return p;
	}
	return sim->npaths;
}

/* The link a packet travels on.  Paths are the client's (ep 0's) access links meeting
 * the server behind them as at a router: a packet between the two addresses of one
 * path uses that path; a packet across paths (a join from the client's second
 * address to the server's first) uses the path of the client's address, in both
 * directions. */
static uint32_t tx_path(const struct mpt_sim *sim, int from, uint32_t path, const uint8_t *pkt,
			size_t len)
{
	uint32_t ps = path_of(sim, from, pkt, len, true),
		 pd = path_of(sim, 1 - from, pkt, len, false);

	if (ps == sim->npaths || pd == sim->npaths || ps == pd)
		return path;
	return from == 0 ? ps : pd;
}

/* The receiving path: the one whose address the packet is for. */
static uint32_t rx_path(const struct mpt_sim *sim, int ep, const struct mpt_sim_pkt *k)
{
	uint32_t p = path_of(sim, ep, k->data, k->len, false);

	return p < sim->npaths ? p : k->path;
}

/* Every timer a stack reports must be consumed or re-armed by its expiry handler:
 * a time <= now after mpt_stack_handle_expiry makes a runtime spin (epoll_wait with
 * a zero timeout, issue 11).  Checked after every expiry call, so every simulation
 * checks it. */
static void expire(struct mpt_stack *st, uint64_t now)
{
	uint64_t next;

	mpt_stack_handle_expiry(st, now);
	next = mpt_stack_next_timeout(st);
	if (next <= now) {
		fprintf(stderr, "mpt_sim: timer at %llu not consumed by the expiry at %llu\n",
			(unsigned long long)next, (unsigned long long)now);
		abort();
	}
}

/* Segments one stack may emit at one instant without any input: more is an output
 * livelock (mpt_stack_send never returning 0), not a burst. */
#define SIM_DRAIN_MAX 200000

static void drain(struct mpt_sim *sim)
{
	uint8_t buf[65536];
	int i, progress = 1;
	uint64_t rounds = 0;

	while (progress && !sim->halt) {
		progress = 0;
		if (++rounds > SIM_DRAIN_MAX) {
			fprintf(stderr, "mpt_sim: output livelock at %llu\n",
				(unsigned long long)sim->now);
			abort();
		}
		for (i = 0; i < 2; i++) {
			uint32_t path = 0;
			ptrdiff_t n = mpt_stack_send(sim->ep[i], buf, sizeof(buf), &path, sim->now);

			if (n <= 0)
				continue;
			progress = 1;
			trace(sim, i, path, buf, (size_t)n);
			if (sim->tap)
				sim->tap(sim->tap_ctx, i, path, buf, (size_t)n, sim->now);
			path = tx_path(sim, i, path, buf, (size_t)n);
			if (path < sim->npaths)
				link_offer(sim, i, path, buf, (size_t)n);
		}
	}
}

uint64_t mpt_sim_in_flight(const struct mpt_sim *sim)
{
	uint64_t n = 0;
	int i;
	uint32_t p;

	for (i = 0; i < 2; i++)
		for (p = 0; p < sim->npaths; p++)
			for (const struct mpt_sim_pkt *k = sim->link[i][p].head; k; k = k->next)
				n++;
	return n;
}

/* The earliest event of sim: a stack's timer or a packet's arrival. */
static uint64_t sim_next(const struct mpt_sim *sim)
{
	uint64_t next = UINT64_MAX, t;

	for (int i = 0; i < 2; i++) {
		t = mpt_stack_next_timeout(sim->ep[i]);
		if (t < next)
			next = t;
		for (uint32_t p = 0; p < sim->npaths; p++)
			if (sim->link[i][p].head && sim->link[i][p].head->at < next)
				next = sim->link[i][p].head->at;
	}
	return next;
}

/* Deliver what arrived by sim->now, run the timers that are due, drain. */
static void sim_run(struct mpt_sim *sim)
{
	int i;

	sim->steps++;
	for (i = 0; i < 2; i++) {
		for (uint32_t p = 0; p < sim->npaths; p++) {
			struct mpt_sim_link *l = &sim->link[i][p];

			while (l->head && l->head->at <= sim->now) {
				struct mpt_sim_pkt *k = l->head;

				l->head = k->next;
				l->delivered++;
				l->bytes_delivered += k->len;
				mpt_stack_recv(sim->ep[1 - i], k->data, k->len,
					       rx_path(sim, 1 - i, k), sim->now);
				free(k);
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (mpt_stack_next_timeout(sim->ep[i]) <= sim->now)
			expire(sim->ep[i], sim->now);
	drain(sim);
}

int mpt_sim_step_many(struct mpt_sim *const *sims, size_t n, uint64_t until)
{
	uint64_t next = UINT64_MAX;
	size_t k;

	for (k = 0; k < n; k++) {
		drain(sims[k]);
		if (sims[k]->halt)
			return 0;
	}
	for (k = 0; k < n; k++) {
		uint64_t t = sim_next(sims[k]);

		if (t < next)
			next = t;
	}
	if (next > until) {
		for (k = 0; k < n; k++)
			if (until > sims[k]->now)
				sims[k]->now = until;
		return 0;
	}
	for (k = 0; k < n; k++) {
		if (next > sims[k]->now)
			sims[k]->now = next;
		sim_run(sims[k]);
	}
	return 1;
}

int mpt_sim_step(struct mpt_sim *sim, uint64_t until)
{
	return mpt_sim_step_many(&sim, 1, until);
}

/* ---- scripts ---- */

int mpt_script_init(struct mpt_script *s, const struct mpt_config *cfg, int family,
		    uint16_t local_port, uint16_t remote_port)
{
	struct mpt_env env;
	int rv;

	memset(s, 0, sizeof(*s));
	s->rng = 42;
	s->now = 1000000000ull;
	memset(&env, 0, sizeof(env));
	env.crypto = mpt_crypto_openssl(&s->rng);
	rv = mpt_stack_new(&s->st, &env, cfg);
	if (rv < 0)
		return rv;
	s->local.family = s->remote.family = (uint8_t)(family ? family : MPT_AF_INET);
	if (s->local.family == MPT_AF_INET6) {
		s->local.ip[0] = s->remote.ip[0] = 0xfd;
		s->local.ip[15] = 1;
		s->remote.ip[15] = 2;
	} else {
		s->local.ip[0] = s->remote.ip[0] = 10;
		s->local.ip[3] = 1;
		s->remote.ip[3] = 2;
	}
	s->local.port = local_port;
	s->remote.port = remote_port;
	return mpt_stack_add_path(s->st, 0, &s->local);
}

void mpt_script_free(struct mpt_script *s)
{
	mpt_stack_free(s->st);
	s->st = NULL;
}

int mpt_script_inject(struct mpt_script *s, const struct wire_tcp_repr *seg)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr t = *seg;
	ptrdiff_t n;

	memset(&ip, 0, sizeof(ip));
	ip.family = s->local.family;
	ip.ttl = 64;
	memcpy(ip.src, s->remote.ip, 16);
	memcpy(ip.dst, s->local.ip, 16);
	if (!t.sport)
		t.sport = s->remote.port;
	if (!t.dport)
		t.dport = s->local.port;
	n = wire_packet_emit(&ip, &t, s->pkt, sizeof(s->pkt));
	if (n < 0)
		return (int)n;
	s->last_recv_rv = mpt_stack_recv(s->st, s->pkt, (size_t)n, 0, s->now);
	return s->last_recv_rv;
}

int mpt_script_pull(struct mpt_script *s, struct wire_tcp_repr *seg)
{
	struct wire_ip_repr ip;
	uint32_t path;
	ptrdiff_t n = mpt_stack_send(s->st, s->pkt, sizeof(s->pkt), &path, s->now);

	if (n <= 0)
		return 0;
	if (wire_packet_parse(&ip, seg, s->pkt, (size_t)n) < 0)
		return MPT_EMALFORMED;
	s->payload_len = seg->payload_len;
	memcpy(s->payload, seg->payload, seg->payload_len);
	seg->payload = s->payload;
	return 1;
}

void mpt_script_advance(struct mpt_script *s, uint64_t ns)
{
	s->now += ns;
	if (mpt_stack_next_timeout(s->st) <= s->now)
		expire(s->st, s->now);
}

/* ---- bulk transfer ---- */

int mpt_sim_xfer_start(struct mpt_sim *sim, struct mpt_sim_xfer *x)
{
	struct mpt_sockaddr cl = mpt_sim_addr(sim, 0, 0, 0);
	struct mpt_sockaddr sv = mpt_sim_addr(sim, 1, 0, x->port ? x->port : 5001);
	int rv;

	x->data_ok = true;
	x->started = true;
	rv = mpt_listen(sim->ep[1], &sv, 16, &x->lid);
	if (rv < 0)
		return rv;
	rv = mpt_connect(sim->ep[0], &cl, &sv, sim->now, &x->client_id);
	return rv < 0 ? rv : 0;
}

int mpt_sim_xfer_poll(struct mpt_sim *sim, struct mpt_sim_xfer *x)
{
	uint8_t buf[16384];
	uint32_t cid = x->client_id, sid = x->server_id;
	struct mpt_event ev;

	while (mpt_stack_poll_event(sim->ep[0], &ev) == 1) {
		if (ev.type == MPT_EV_ERROR)
			x->client_err = ev.err;
		if (ev.type == MPT_EV_CLOSED)
			x->client_closed = true;
	}
	while (mpt_stack_poll_event(sim->ep[1], &ev) == 1) {
		if (ev.type == MPT_EV_ACCEPTABLE && !x->have_server &&
		    mpt_accept(sim->ep[1], x->lid, &sid) == 0) {
			x->have_server = true;
			x->server_id = sid;
		}
		if (ev.type == MPT_EV_ERROR && ev.id == sid)
			x->server_err = ev.err;
	}
	if (x->client_err || x->server_err)
		return 1;
	/* client: keep the send buffer full */
	while (x->sent < x->bytes) {
		size_t n = sizeof(buf), i;
		ptrdiff_t w;

		if (n > x->bytes - x->sent)
			n = (size_t)(x->bytes - x->sent);
		for (i = 0; i < n; i++)
			buf[i] = mpt_sim_pattern(x->sent + i);
		w = mpt_send(sim->ep[0], cid, buf, n, sim->now);
		if (w <= 0)
			break;
		x->sent += (uint64_t)w;
	}
	if (x->sent >= x->bytes && !x->shut) {
		mpt_shutdown(sim->ep[0], cid, MPT_SHUT_WR, sim->now);
		x->shut = true;
	}
	/* server: drain and verify */
	while (x->have_server && !x->closed_server) {
		ptrdiff_t r = mpt_recv(sim->ep[1], sid, buf, sizeof(buf), sim->now), i;

		if (r == 0) {
			x->eof = true;
			x->done_ns = sim->now;
			mpt_conn_info(sim->ep[0], cid, &x->client_info);
			mpt_conn_ofo_stats(sim->ep[1], sid, &x->server_ofo);
			mpt_close(sim->ep[1], sid, sim->now);
			x->closed_server = true;
			break;
		}
		if (r < 0)
			break;
		for (i = 0; i < r; i++)
			if (x->data_ok && buf[i] != mpt_sim_pattern(x->received + (uint64_t)i)) {
				x->data_ok = false;
				x->first_bad = x->received + (uint64_t)i;
			}
		x->received += (uint64_t)r;
	}
	return x->closed_server && x->client_closed;
}

int mpt_sim_xfer_result(const struct mpt_sim_xfer *x)
{
	if (x->client_err || x->server_err)
		return x->client_err ? x->client_err : x->server_err;
	if (!x->eof || !x->data_ok || x->received != x->bytes)
		return MPT_ETIMEDOUT;
	return 0;
}

int mpt_sim_transfer(struct mpt_sim *sim, struct mpt_sim_xfer *x)
{
	int rv = mpt_sim_xfer_start(sim, x);

	if (rv < 0)
		return rv;
	while (sim->now < x->deadline_ns) {
		if (mpt_sim_xfer_poll(sim, x))
			break;
		if (!mpt_sim_step(sim, x->deadline_ns))
			break;
	}
	return mpt_sim_xfer_result(x);
}
