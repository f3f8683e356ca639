/* An adversarial two-path transfer with an end-to-end check (see adv_sim.h). */
#include "adv_sim.h"

#include "mpt.h"
#include "mpt_sim.h"
#include "mptcp_opt.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define S  1000000000ull

#define MAX_EVENTS    24
#define BURST_LIMIT   20000 /* packets one stack may emit at one instant */
#define STEP_LIMIT    3000000
#define TAIL_NS	      (300 * S) /* virtual time allowed after the last event */
#define CLOSE_WAIT_NS (30 * S)	/* after the receiver's EOF, for the close to finish */
#define SERVER_PORT   5001
#define CLIENT_EP_ID  1
#define SERVER_EP_ID  7

enum adv_ev_type {
	EV_WRITE,      /* the application writes arg KiB more */
	EV_BLACKOUT,   /* path arg&1 drops everything for a while */
	EV_JOIN,       /* the client gets a subflow endpoint on path 1 */
	EV_SIGNAL,     /* the server announces its path-1 address (ADD_ADDR) */
	EV_REMOVE,     /* remove the client's (arg&1) or server's endpoint (REMOVE_ADDR) */
	EV_FLAP,       /* path 1's address goes away on one side and comes back */
	EV_PRIO,       /* toggle the backup flag of the client's endpoint (MP_PRIO) */
	EV_READ_PAUSE, /* the receiving application stops reading for a while */
	EV_NTYPES,     /* kinds drawn from the input */
	EV_FLAP_BACK = EV_NTYPES, /* internal: the flapped address returns */
	EV_READ_RESUME,		  /* internal: the receiver reads again */
};

struct adv_ev {
	uint64_t at;
	uint8_t type, arg;
};

struct adv {
	struct adv_src *src;
	struct adv_result *r;
	struct mpt_sim sim;
	struct adv_ev ev[2 * MAX_EVENTS];
	int nev, next_ev;
	uint64_t blackout_until[MPT_SIM_MAX_PATHS];
	uint64_t last_tx_ns;
	uint64_t burst;
	bool burst_hit;
	uint32_t cid, sid, lid;
	bool have_server;
	bool client_ep, server_ep, client_backup;
	bool path_gone[2];
	bool read_paused;
	uint32_t rewrite_budget;
	uint64_t rewrites_delivered;
	bool trace;
};

/* ---- the byte source ---- */

void adv_src_bytes(struct adv_src *s, const uint8_t *p, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->n = n;
}

void adv_src_seed(struct adv_src *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed * 0x2545f4914f6cdd1dull + 0x9e3779b97f4a7c15ull;
	/* each fault gets its own rate, often zero, so runs differ in kind */
	s->p_drop = (uint32_t)(mpt_sim_rand(&s->rng) % 5) * 100;      /* 0..4 % */
	s->p_dup = (uint32_t)(mpt_sim_rand(&s->rng) % 3) * 100;	      /* 0..2 % */
	s->p_delay = (uint32_t)(mpt_sim_rand(&s->rng) % 5) * 100;     /* 0..4 % */
	s->p_corrupt = (uint32_t)(mpt_sim_rand(&s->rng) % 3) * 50;    /* 0..1 % */
	s->p_rewrite = (uint32_t)(mpt_sim_rand(&s->rng) % 2) * 50;    /* 0 or 0.5 % */
	s->p_reset = (uint32_t)(mpt_sim_rand(&s->rng) % 3 == 0) * 10; /* 0 or 0.1 % */
}

uint32_t adv_ignore_parse(const char *s)
{
	uint32_t m = 0;

	if (s && strstr(s, "spin"))
		m |= ADV_IGNORE_SPIN;
	if (s && strstr(s, "livelock"))
		m |= ADV_IGNORE_LIVELOCK;
	if (s && strstr(s, "stall"))
		m |= ADV_IGNORE_STALL;
	return m;
}

static uint8_t take(struct adv_src *s)
{
	if (!s->p)
		return (uint8_t)(mpt_sim_rand(&s->rng) >> 56);
	return s->i < s->n ? s->p[s->i++] : 0;
}

/* The fault for one packet: MPT_SIM_FAULT_* and a delay. */
static uint32_t take_fault(struct adv_src *s, uint64_t *delay_ns)
{
	uint32_t f = 0;
	uint8_t v;

	if (!s->p) {
		uint32_t x = (uint32_t)(mpt_sim_rand(&s->rng) % 10000), edge = 0;

		if (x < (edge += s->p_drop))
			return MPT_SIM_FAULT_DROP;
		if (x < (edge += s->p_dup))
			return MPT_SIM_FAULT_DUP;
		if (x < (edge += s->p_delay)) {
			*delay_ns = (1 + mpt_sim_rand(&s->rng) % 40) * MS;
			return MPT_SIM_FAULT_DELAY;
		}
		if (x < (edge += s->p_corrupt))
			return MPT_SIM_FAULT_CORRUPT;
		if (x < (edge += s->p_rewrite))
			return MPT_SIM_FAULT_REWRITE;
		if (x < (edge += s->p_reset))
			return MPT_SIM_FAULT_RESET;
		return 0;
	}
	/* fuzzer: most byte values mean "deliver"; the top ones pick a fault */
	v = take(s);
	if (v < 0xa0)
		return 0;
	switch (v & 7) {
	case 0:
	case 1:
		return MPT_SIM_FAULT_DROP;
	case 2:
		return MPT_SIM_FAULT_DUP;
	case 3:
		*delay_ns = (uint64_t)(1 + ((v >> 3) & 3)) * 7 * MS;
		return MPT_SIM_FAULT_DELAY;
	case 4:
		*delay_ns = (uint64_t)(1 + ((v >> 3) & 3)) * 3 * MS;
		return MPT_SIM_FAULT_DELAY | MPT_SIM_FAULT_DUP;
	case 5:
		return MPT_SIM_FAULT_CORRUPT;
	case 6:
		return MPT_SIM_FAULT_REWRITE;
	default:
		f = MPT_SIM_FAULT_RESET;
	}
	return f;
}

static const char *fail(struct adv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *fail(struct adv *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(a->r->what, sizeof(a->r->what), "t=%.3fs: ", (double)a->sim.now / 1e9);
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(a->r->what + n, sizeof(a->r->what) - (size_t)n, fmt, ap);
	va_end(ap);
	return a->r->what;
}

/* ---- hooks ---- */

static void tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct adv *a = ctx;

	(void)from, (void)path, (void)pkt, (void)len;
	a->r->pkts++;
	if (now != a->last_tx_ns) {
		a->last_tx_ns = now;
		a->burst = 0;
	}
	if (++a->burst > BURST_LIMIT) {
		a->burst_hit = true;
		a->sim.halt = true;
	}
}

/* Whether a rewritten payload can be caught: both ends use DSS checksums and are
 * still MPTCP.  After a fallback (or an MP_FAIL under way) nothing above TCP checks
 * the bytes, so a rewrite then is undetectable by design and not tried. */
static bool rewrite_detectable(struct adv *a)
{
	struct mpt_conn_info ci, si;
	const struct mpt_counters *cc = mpt_stack_counters(a->sim.ep[0]),
				  *sc = mpt_stack_counters(a->sim.ep[1]);

	if (!a->have_server || mpt_conn_info(a->sim.ep[0], a->cid, &ci) < 0 ||
	    mpt_conn_info(a->sim.ep[1], a->sid, &si) < 0)
		return false;
	return ci.mptcp && si.mptcp && ci.mptcp_checksum && si.mptcp_checksum &&
	       !ci.mptcp_fallback && !si.mptcp_fallback &&
	       cc->mp_fail_tx + cc->mp_fail_rx + sc->mp_fail_tx + sc->mp_fail_rx == 0;
}

/* ADV_TRACE=1: one line per packet offered to a link, with its fate (debugging) */
static void trace(int from, uint32_t path, const uint8_t *pkt, size_t len, uint64_t now, uint32_t f)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr t;
	struct mptcp_opts m;
	struct mpt_counters c;
	ptrdiff_t h = wire_ip_parse(&ip, pkt, len);

	if (h < 0 || wire_tcp_parse(&t, pkt + h, len - (size_t)h, NULL) < 0)
		return;
	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	mptcp_opts_parse(&m, &t.opt, t.flags, t.payload_len, &c);
	fprintf(stderr, "%10.6f %s p%u %c%c%c%c seq %u ack %u win %u len %zu", (double)now / 1e9,
		from ? "S>C" : "C>S", path, t.flags & 0x02 ? 'S' : '.', t.flags & 0x01 ? 'F' : '.',
		t.flags & 0x04 ? 'R' : '.', t.flags & 0x10 ? 'A' : '.', t.seq, t.ack, t.window,
		t.payload_len);
	if (m.suboptions & MPTCP_OPT_DSS) {
		if (m.dss.flags & MPTCP_DSS_A)
			fprintf(stderr, " dack %llu",
				(unsigned long long)(m.dss.data_ack % 1000000));
		if (m.dss.flags & MPTCP_DSS_M)
			fprintf(stderr, " map %llu/%u+%u",
				(unsigned long long)(m.dss.data_seq % 1000000), m.dss.subflow_seq,
				m.dss.data_len);
		if (m.dss.flags & MPTCP_DSS_F)
			fprintf(stderr, " DFIN");
	}
	fprintf(stderr, " opts %#x%s\n", m.suboptions, f ? " FAULT" : "");
	if (f)
		fprintf(stderr, "           fault %#x\n", f);
}

static uint32_t fault(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		      uint64_t now, uint64_t *delay_ns)
{
	struct adv *a = ctx;
	uint32_t f;

	(void)from, (void)pkt, (void)len;
	if (path < MPT_SIM_MAX_PATHS && now < a->blackout_until[path]) {
		a->r->drops++;
		if (a->trace)
			trace(from, path, pkt, len, now, MPT_SIM_FAULT_DROP);
		return MPT_SIM_FAULT_DROP;
	}
	f = take_fault(a->src, delay_ns);
	if (f & MPT_SIM_FAULT_REWRITE) {
		if (a->rewrite_budget && rewrite_detectable(a)) {
			a->rewrite_budget--;
			a->r->rewrites++;
		} else {
			f = MPT_SIM_FAULT_CORRUPT;
		}
	}
	a->r->drops += !!(f & MPT_SIM_FAULT_DROP);
	a->r->dups += !!(f & MPT_SIM_FAULT_DUP);
	a->r->delays += !!(f & MPT_SIM_FAULT_DELAY);
	a->r->corrupts += !!(f & MPT_SIM_FAULT_CORRUPT);
	a->r->resets += !!(f & MPT_SIM_FAULT_RESET);
	if (a->trace)
		trace(from, path, pkt, len, now, f);
	return f;
}

/* A rewritten byte the receiver may deliver: on a single subflow a DSS checksum
 * failure sends MP_FAIL on an ACK and both ends go on as TCP with the failing
 * mapping delivered as it came (RFC 8684 3.7's retroactive infinite mapping; Linux
 * does the same).  Only the byte sim.c flipped (^ 0x5a), once per checksum failure
 * the receiver counted (its MP_FAIL may still be on the way: the application reads
 * before the ACK leaves). */
static bool rewrite_by_design(struct adv *a, uint8_t got, uint64_t off)
{
	const struct mpt_counters *sc = mpt_stack_counters(a->sim.ep[1]);

	if (got != (mpt_sim_pattern(off) ^ 0x5a) || a->rewrites_delivered >= sc->data_csum_err)
		return false;
	a->rewrites_delivered++;
	return true;
}

/* ---- the schedule ---- */

static void add_event(struct adv *a, uint64_t at, uint8_t type, uint8_t arg)
{
	int i;

	if (a->nev >= (int)(sizeof(a->ev) / sizeof(a->ev[0])))
		return;
	/* keep sorted by time, stable */
	for (i = a->nev; i > a->next_ev && a->ev[i - 1].at > at; i--)
		a->ev[i] = a->ev[i - 1];
	a->ev[i].at = at;
	a->ev[i].type = type;
	a->ev[i].arg = arg;
	a->nev++;
}

static const char *ev_name(uint8_t t)
{
	static const char *const n[] = {"write", "blackout", "join",  "signal",	   "remove",
					"flap",	 "prio",     "pause", "flap-back", "resume"};
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

static void run_event(struct adv *a, const struct adv_ev *e, uint64_t *pending)
{
	struct mpt_sim *sim = &a->sim;
	int side;

	a->r->events++;
	switch (e->type) {
	case EV_WRITE:
		*pending += ((uint64_t)e->arg + 1) * 1024;
		break;
	case EV_BLACKOUT:
		a->blackout_until[e->arg & 1] = sim->now + ((uint64_t)(e->arg >> 1) + 1) * 40 * MS;
		break;
	case EV_JOIN:
		if (!a->client_ep && !a->path_gone[0] &&
		    mpt_stack_add_endpoint(sim->ep[0], CLIENT_EP_ID, 1,
					   MPT_EP_SUBFLOW | ((e->arg & 1) ? MPT_EP_BACKUP : 0)) ==
			    0) {
			a->client_ep = true;
			a->client_backup = e->arg & 1;
		}
		break;
	case EV_SIGNAL:
		if (!a->server_ep && !a->path_gone[1] &&
		    mpt_stack_add_endpoint(sim->ep[1], SERVER_EP_ID, 1, MPT_EP_SIGNAL) == 0)
			a->server_ep = true;
		break;
	case EV_REMOVE:
		if ((e->arg & 1) && a->server_ep) {
			mpt_stack_del_endpoint(sim->ep[1], SERVER_EP_ID, sim->now);
			a->server_ep = false;
		} else if (!(e->arg & 1) && a->client_ep) {
			mpt_stack_del_endpoint(sim->ep[0], CLIENT_EP_ID, sim->now);
			a->client_ep = false;
		}
		break;
	case EV_FLAP:
		side = e->arg & 1;
		if (a->path_gone[side])
			break;
		mpt_stack_del_path(sim->ep[side], 1, sim->now);
		a->path_gone[side] = true;
		if (side)
			a->server_ep = false;
		else
			a->client_ep = false;
		add_event(a, sim->now + ((uint64_t)(e->arg >> 1) + 1) * 20 * MS, EV_FLAP_BACK,
			  (uint8_t)side);
		break;
	case EV_FLAP_BACK: {
		struct mpt_sockaddr addr;

		side = e->arg & 1;
		addr = mpt_sim_addr(sim, side, 1, 0);
		if (mpt_stack_add_path(sim->ep[side], 1, &addr) == 0)
			a->path_gone[side] = false;
		break;
	}
	case EV_READ_PAUSE:
		if (!a->read_paused) {
			a->read_paused = true;
			add_event(a, sim->now + ((uint64_t)e->arg + 1) * 10 * MS, EV_READ_RESUME,
				  0);
		}
		break;
	case EV_READ_RESUME:
		a->read_paused = false;
		break;
	case EV_PRIO:
		if (a->client_ep) {
			a->client_backup = !a->client_backup;
			mpt_stack_set_endpoint_flags(
				sim->ep[0], CLIENT_EP_ID,
				MPT_EP_SUBFLOW | (a->client_backup ? MPT_EP_BACKUP : 0));
		}
		break;
	default:
		break;
	}
}

/* ---- the run ---- */

static void config(struct adv *a, struct mpt_config *c, struct mpt_config *s,
		   struct mpt_sim_link_cfg *l)
{
	uint8_t b0 = take(a->src), b1 = take(a->src), b2 = take(a->src);

	mpt_config_default(c);
	c->mptcp = true;
	/* give up within about a minute of silence, so a dead connection reports */
	c->max_rto_ns = 8 * S;
	c->max_retries = 8;
	c->max_syn_retries = 4;
	c->time_wait_ns = 2 * S;
	c->sndbuf = c->rcvbuf = 64 * 1024 << (b1 & 3);
	*s = *c;
	c->mptcp_checksum = b0 & 1;
	s->mptcp_checksum = (b0 >> 1) & 1;
	c->no_sack = s->no_sack = (b0 >> 2) & 1;
	c->no_timestamps = (b0 >> 3) & 1;
	if ((b0 >> 4) & 1)
		c->cc = s->cc = "cubic";
	c->nodelay = (b0 >> 5) & 1;
	s->no_timestamps = (b0 >> 6) & 1 ? !c->no_timestamps : c->no_timestamps;
	memset(l, 0, sizeof(*l));
	l->rate_bps = (uint64_t)(1 + (b2 & 7)) * 5000000;
	l->delay_ns = (uint64_t)(1 + (b2 >> 3)) * MS;
	l->queue_bytes = 32000 << ((b1 >> 2) & 3);
}

static void schedule(struct adv *a, uint64_t *initial)
{
	uint8_t n = take(a->src) % (MAX_EVENTS + 1);
	uint64_t t = 0;

	*initial = ((uint64_t)take(a->src) + 1) * 512;
	for (uint8_t i = 0; i < n; i++) {
		uint8_t dt = take(a->src), type = take(a->src) % EV_NTYPES, arg = take(a->src);

		t += (uint64_t)dt * 5 * MS;
		add_event(a, t, type, arg);
	}
}

static void poll_events(struct adv *a)
{
	struct mpt_event ev;

	while (mpt_stack_poll_event(a->sim.ep[0], &ev) == 1)
		if (ev.type == MPT_EV_ERROR && !a->r->client_err)
			a->r->client_err = ev.err ? ev.err : -1;
	while (mpt_stack_poll_event(a->sim.ep[1], &ev) == 1) {
		if (ev.type == MPT_EV_ACCEPTABLE && !a->have_server &&
		    mpt_accept(a->sim.ep[1], a->lid, &a->sid) == 0)
			a->have_server = true;
		if (ev.type == MPT_EV_ERROR && a->have_server && ev.id == a->sid &&
		    !a->r->server_err)
			a->r->server_err = ev.err ? ev.err : -1;
	}
}

static bool quiescent(const struct adv *a)
{
	return mpt_sim_in_flight(&a->sim) == 0 &&
	       mpt_stack_next_timeout(a->sim.ep[0]) == UINT64_MAX &&
	       mpt_stack_next_timeout(a->sim.ep[1]) == UINT64_MAX;
}

static const char *run(struct adv *a, bool verbose)
{
	struct mpt_sim *sim = &a->sim;
	struct adv_result *r = a->r;
	struct mpt_sockaddr cl, sv;
	uint8_t buf[16384];
	uint64_t pending, deadline = 0, eof_at = 0;
	bool shut = false, closed = false;
	int quiet = 0, same_now = 0;
	uint64_t prev_now;

	sim->tap = tap;
	sim->tap_ctx = a;
	sim->fault = fault;
	sim->fault_ctx = a;
	a->rewrite_budget = 1;
	schedule(a, &pending);
	for (int i = 0; i < a->nev; i++) {
		if (verbose)
			fprintf(stderr, "# event %.3fs %s %u\n", (double)a->ev[i].at / 1e9,
				ev_name(a->ev[i].type), a->ev[i].arg);
		if (a->ev[i].at > deadline)
			deadline = a->ev[i].at;
	}
	deadline += TAIL_NS;
	cl = mpt_sim_addr(sim, 0, 0, 0);
	sv = mpt_sim_addr(sim, 1, 0, SERVER_PORT);
	if (mpt_listen(sim->ep[1], &sv, 4, &a->lid) < 0 ||
	    mpt_connect(sim->ep[0], &cl, &sv, sim->now, &a->cid) < 0)
		return fail(a, "setup failed");
	for (;;) {
		uint64_t until = deadline;
		int stepped;

		poll_events(a);
		/* the schedule */
		while (a->next_ev < a->nev && a->ev[a->next_ev].at <= sim->now) {
			struct adv_ev e = a->ev[a->next_ev++];

			run_event(a, &e, &pending);
		}
		if (a->next_ev < a->nev)
			until = a->ev[a->next_ev].at;
		/* the sender writes what the application has, shuts down after the
		 * last scheduled write */
		while (pending && !shut) {
			size_t n = pending < sizeof(buf) ? (size_t)pending : sizeof(buf);
			ptrdiff_t w;

			for (size_t i = 0; i < n; i++)
				buf[i] = mpt_sim_pattern(r->written + i);
			w = mpt_send(sim->ep[0], a->cid, buf, n, sim->now);
			if (w <= 0) {
				if (w < 0 && w != MPT_EAGAIN && !r->client_err)
					r->client_err = (int)w;
				break;
			}
			r->written += (uint64_t)w;
			pending -= (uint64_t)w;
		}
		if (!pending && !shut && a->next_ev == a->nev && !r->client_err) {
			mpt_shutdown(sim->ep[0], a->cid, MPT_SHUT_WR, sim->now);
			shut = true;
		}
		/* the receiver reads and checks everything */
		while (a->have_server && !closed && !a->read_paused) {
			ptrdiff_t n = mpt_recv(sim->ep[1], a->sid, buf, sizeof(buf), sim->now);

			if (n == 0) {
				r->eof = true;
				eof_at = sim->now;
				mpt_close(sim->ep[1], a->sid, sim->now);
				closed = true;
				if (r->received != r->written)
					return fail(a, "EOF after %llu bytes, %llu were written",
						    (unsigned long long)r->received,
						    (unsigned long long)r->written);
				break;
			}
			if (n < 0) {
				if (n != MPT_EAGAIN && !r->server_err)
					r->server_err = (int)n;
				break;
			}
			for (ptrdiff_t i = 0; i < n; i++)
				if (buf[i] != mpt_sim_pattern(r->received + (uint64_t)i) &&
				    !rewrite_by_design(a, buf[i], r->received + (uint64_t)i))
					return fail(a,
						    "byte %llu is wrong (%u, want %u); "
						    "%llu written",
						    (unsigned long long)(r->received + (uint64_t)i),
						    buf[i],
						    mpt_sim_pattern(r->received + (uint64_t)i),
						    (unsigned long long)r->written);
			r->received += (uint64_t)n;
			if (r->received > r->written)
				return fail(a, "read %llu bytes, only %llu written",
					    (unsigned long long)r->received,
					    (unsigned long long)r->written);
		}
		r->error = r->client_err || r->server_err;
		if (r->error)
			break;
		if (closed && (quiescent(a) || sim->now >= eof_at + CLOSE_WAIT_NS))
			break;
		/* quiet twice in a row (the application had its turn in between) */
		quiet = a->next_ev == a->nev && quiescent(a) ? quiet + 1 : 0;
		if (!closed && quiet >= 2 && (a->src->ignore & ADV_IGNORE_STALL))
			return NULL;
		if (!closed && quiet >= 2)
			return fail(a,
				    "stall: nothing in flight, no timer, %llu of %llu bytes read, "
				    "no error",
				    (unsigned long long)r->received,
				    (unsigned long long)r->written);
		if (sim->now >= deadline && (a->src->ignore & ADV_IGNORE_STALL))
			return NULL;
		if (sim->now >= deadline)
			return fail(a, "no end by the time bound: %llu of %llu bytes read",
				    (unsigned long long)r->received,
				    (unsigned long long)r->written);
		if (sim->steps > STEP_LIMIT)
			return fail(a, "livelock: %llu steps, %llu of %llu bytes read",
				    (unsigned long long)sim->steps, (unsigned long long)r->received,
				    (unsigned long long)r->written);
		prev_now = sim->now;
		stepped = mpt_sim_step(sim, until);
		same_now = sim->now == prev_now ? same_now + 1 : 0;
		if (same_now > 10000 && (a->src->ignore & ADV_IGNORE_SPIN))
			return NULL;
		if (same_now > 10000)
			return fail(a, "time stands still: 10000 steps at one instant");
		if (a->burst_hit && (a->src->ignore & ADV_IGNORE_LIVELOCK))
			return NULL;
		if (a->burst_hit)
			return fail(a, "output livelock: over %d packets emitted at one instant",
				    BURST_LIMIT);
		if (stepped && !(a->src->ignore & ADV_IGNORE_SPIN))
			for (int i = 0; i < 2; i++)
				if (mpt_stack_next_timeout(sim->ep[i]) <= sim->now)
					return fail(a,
						    "spin: %s's next timeout %llu <= now after "
						    "its expiry ran",
						    i ? "server" : "client",
						    (unsigned long long)mpt_stack_next_timeout(
							    sim->ep[i]));
	}
	return NULL;
}

const char *adv_sim_run(struct adv_src *src, struct adv_result *r, bool verbose)
{
	static struct adv a; /* large (the event list, the sim); one run at a time */
	struct mpt_config c, s;
	struct mpt_sim_link_cfg l;
	const char *what;
	struct mpt_conn_info ci;
	uint64_t d1;

	memset(&a, 0, sizeof(a));
	memset(r, 0, sizeof(*r));
	a.src = src;
	a.r = r;
	a.trace = verbose && getenv("ADV_TRACE");
	config(&a, &c, &s, &l);
	d1 = (uint64_t)(1 + take(src) % 40) * MS;
	if (mpt_sim_init(&a.sim, 1 + take(src), &c, &s, MPT_AF_INET, 2, &l) < 0) {
		snprintf(r->what, sizeof(r->what), "mpt_sim_init failed");
		return r->what;
	}
	a.sim.link[0][1].cfg.delay_ns = a.sim.link[1][1].cfg.delay_ns = d1;
	if (verbose)
		fprintf(stderr,
			"# csum %d/%d sack %d ts %d/%d cc %s rate %llu delay %llu/%llu ms "
			"buf %u\n",
			c.mptcp_checksum, s.mptcp_checksum, !c.no_sack, !c.no_timestamps,
			!s.no_timestamps, c.cc ? c.cc : "newreno", (unsigned long long)l.rate_bps,
			(unsigned long long)(l.delay_ns / MS), (unsigned long long)(d1 / MS),
			c.sndbuf);
	what = run(&a, verbose);
	r->end_ns = a.sim.now;
	r->steps = a.sim.steps;
	if (mpt_conn_info(a.sim.ep[0], a.cid, &ci) == 0) {
		r->checksum = ci.mptcp_checksum;
		r->fallback = ci.mptcp_fallback;
	}
	if (verbose) {
		char buf[8192];

		for (int i = 0; i < 2; i++) {
			struct mpt_conn_info k;
			struct mpt_subflow_info sf[8];
			uint32_t id = i ? a.sid : a.cid;
			int n;

			if ((i && !a.have_server) || mpt_conn_info(a.sim.ep[i], id, &k) < 0)
				continue;
			fprintf(stderr,
				"# %s: %s err %d mptcp %d fallback %d csum %d data snd_nxt %llu "
				"rcv_nxt %llu snd_wnd %u rcv_wnd %u in_flight %u next timer %lld "
				"ns\n",
				i ? "server" : "client", mpt_state_name(k.state), k.error, k.mptcp,
				k.mptcp_fallback, k.mptcp_checksum,
				(unsigned long long)k.data_snd_nxt,
				(unsigned long long)k.data_rcv_nxt, k.snd_wnd, k.rcv_wnd,
				k.in_flight,
				mpt_stack_next_timeout(a.sim.ep[i]) == UINT64_MAX
					? -1LL
					: (long long)(mpt_stack_next_timeout(a.sim.ep[i]) -
						      a.sim.now));
			n = mpt_conn_subflows(a.sim.ep[i], id, sf, 8);
			for (int j = 0; j < n && j < 8; j++)
				fprintf(stderr,
					"#   subflow path %u %s%s%s%s cwnd %u sent %llu acked %llu "
					"rcvd %llu\n",
					sf[j].path, mpt_state_name(sf[j].state),
					sf[j].backup ? " backup" : "", sf[j].stale ? " stale" : "",
					sf[j].dead ? " dead" : "", sf[j].cwnd,
					(unsigned long long)sf[j].bytes_sent,
					(unsigned long long)sf[j].bytes_acked,
					(unsigned long long)sf[j].bytes_received);
		}

		for (int i = 0; i < 2; i++)
			if (mpt_counters_format(mpt_stack_counters(a.sim.ep[i]), false, buf,
						sizeof(buf)) > 0)
				fprintf(stderr, "# %s counters\n%s", i ? "server" : "client", buf);
	}
	mpt_sim_free(&a.sim);
	return what;
}
