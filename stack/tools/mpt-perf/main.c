/* mpt-perf: the traffic tool every app in an mpnet topology runs.
 *
 * One connection per test (MPTCP subflows are the multipath part):
 *   1. the client sends a perf_hdr (direction, byte count or duration, seed, ...);
 *   2. the sender streams the pattern (common/pattern.h), then shutdown(SHUT_WR);
 *   3. the receiver checks every byte until EOF and sends a perf_res record back
 *      (with its interval samples), then closes;
 *   4. the sender reads that record, so both ends report the receiver's verdict.
 * See perf_proto.h for the records, --help for the command line.
 *
 * Exit status: 0 when the receiver verified every byte (and, with -n, got them
 * all); 1 on a mismatch, a short transfer or a connection error; 2 on usage errors.
 */
#include "pattern.h"
#include "perf_args.h"
#include "perf_conn.h"
#include "perf_proto.h"
#include "perf_rx.h"
#include "perf_sampler.h"
#include "perf_sockinfo.h"
#include "perf_status.h"
#include "perf_wl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERF_BUFSZ	   (128 * 1024)
#define PERF_HDR_TIMEOUT_S 10 /* server: a client must send its header within this */
#define PERF_DRAIN_WAIT_NS \
	(5 * 1000000000ull) /* sender: at most this long for acks before sampling */
#define PERF_ERRLEN	   256
/* the sender writes in slices this big, so its byte count moves finely enough for
 * 10 ms samples (50 Mbit/s is 62 kB per 10 ms) */
#define PERF_SEND_SLICE	   (16 * 1024)
/* -t, kernel stacks: at most this much written but not yet sent (TCP_NOTSENT_LOWAT) */
#define PERF_NOTSENT_LOWAT (128 * 1024)

static const char usage_text[] =
	"usage: mpt-perf -s [-B ADDR] [-p PORT] [--stack S] [--once] [--ready-fd N]\n"
	"                   [-C ALGO] [--rcvbuf SIZE] [-J] [--logfile FILE]\n"
	"       mpt-perf -c ADDR [-p PORT] [-B ADDR] [--stack S] (-n BYTES | -t SECONDS)\n"
	"                   [-R] [-i SECONDS] [--seed N] [-C ALGO] [--rcvbuf SIZE] [-J]\n"
	"                   [--logfile FILE]\n"
	"       mpt-perf -c ADDR ... --rr REQ,RESP[,N]\n"
	"       mpt-perf -c ADDR ... --stream RATE,CHUNK (-n BYTES | -t SECONDS) [-R]\n"
	"       (either, --stack mpt: [--endpoint ADDR,FLAGS]... [--max-subflows N] [--checksum]\n"
	"                             [--scheduler NAME[:N]] [--path-manager NAME[:N]])\n"
	"       mpt-perf --scheduler list | --path-manager list\n"
	"\n"
	"Sends a deterministic pseudo-random stream over one connection; the receiver\n"
	"checks every byte and reports its verdict back, so both ends print it.\n"
	"\n"
	"  -s, --server          serve clients one after another\n"
	"  -c, --client ADDR     connect to the server at ADDR\n"
	"  -B, --bind ADDR       server: listen address (default :: and 0.0.0.0);\n"
	"                        client: source address\n"
	"  -p, --port PORT       TCP port (default 5201)\n"
	"      --stack S         kernel: Linux MPTCP (IPPROTO_MPTCP, default); tcp: plain TCP;\n"
	"                        mpt: libmpt, the userspace stack (needs root: packet\n"
	"                        sockets, and nftables to keep the kernel off its addresses)\n"
	"      --counters        print the stack's counters (nstat form; libmpt)\n"
	"      --no-mptcp        libmpt: plain TCP (default: MPTCP, falling back to TCP\n"
	"                        when the peer does not answer MP_CAPABLE)\n"
	"      --endpoint ADDR[,id=N][,signal][,subflow][,backup][,fullmesh]\n"
	"                        libmpt: an MPTCP endpoint on the local address ADDR, as\n"
	"                        `ip mptcp endpoint add` (repeatable; id default: its\n"
	"                        position, 1, 2, ...); ADDR must be in this namespace.\n"
	"                        Without it, libmpt takes this namespace's endpoints from\n"
	"                        the kernel's path manager (ip mptcp endpoint show) and\n"
	"                        follows them: add / delete / change act as on the kernel\n"
	"      --max-subflows N  libmpt: subflows per connection, the first included\n"
	"                        (1..255).  Without it: the namespace's limits (ip mptcp\n"
	"                        limits show: subflows + 1, add_addr_accepted), followed;\n"
	"                        libmpt's defaults (8, 8) on a kernel without MPTCP\n"
	"      --checksum        libmpt: ask for DSS checksums (RFC 8684 3.3.1; the peer\n"
	"                        asking turns them on as well)\n"
	"      --scheduler NAME  libmpt: the MPTCP scheduler of this end's sends: default\n"
	"                        (lowest RTT with room), roundrobin[:N] (turns of N\n"
	"                        segments, 1..64, default 1), redundant, blest, ecf;\n"
	"                        `--scheduler list` prints them all with a line each.  The\n"
	"                        kernel's is the sysctl net.mptcp.scheduler (-J reports it)\n"
	"      --path-manager PM libmpt: the MPTCP path manager, kernel (default: the\n"
	"                        endpoints, as Linux's in-kernel one) or ndiffports[:N]\n"
	"                        (N subflows over the first subflow's addresses, different\n"
	"                        source ports; N 1..16, default 2).  Both re-open a subflow\n"
	"                        closed by a timeout, reset or carrier loss after 0.5 s,\n"
	"                        doubling to 16 s, and at once when its link is back.\n"
	"                        `--path-manager list` prints them.  The kernel's is the\n"
	"                        sysctl net.mptcp.path_manager (-J reports it)\n"
	"  -C, --congestion ALGO congestion control of this end's sends: kernel stacks, any\n"
	"                        the kernel has (TCP_CONGESTION; on a server, its\n"
	"                        connections'); libmpt: newreno (or reno), cubic (its\n"
	"                        default), or coupled over the subflows: lia (RFC 6356),\n"
	"                        olia, balia; `-C list` describes them; the report (-J\n"
	"                        \"congestion\") says which ran\n"
	"      --once            server: handle one client, then exit with its status\n"
	"      --ready-fd N      server: write \"ready\\n\" to fd N once listening, close it\n"
	"  -n, --bytes BYTES     send this many bytes (64MiB, 150kB, 1500)\n"
	"  -t, --time SECONDS    send for this long (1, 0.5, or with a unit: 500ms)\n"
	"  -R, --reverse         download: the server sends, the client receives\n"
	"  -i, --interval SECS   receiver's sample interval (default 1; 0.01 = 10 ms; 0 off)\n"
	"      --rr REQ,RESP[,N] request/response: N exchanges (default 100), one at a\n"
	"                        time, of REQ bytes up and RESP bytes down (e.g.\n"
	"                        100,256KiB,200); reports each completion time (request\n"
	"                        written to response read) and p50/p95/p99/max\n"
	"      --stream RATE,CHUNK  paced stream: the sender writes CHUNK bytes every\n"
	"                        CHUNK/RATE seconds (e.g. 8mbit,64KiB), each stamped with\n"
	"                        its write time; reports each chunk's one-way delay (write\n"
	"                        to read complete) p50/p95/p99/max and stalls (a chunk\n"
	"                        later than the median delay + 2 chunk periods)\n"
	"      --rcvbuf SIZE     this end's receive buffer (4KiB..1GiB, e.g. 64KiB): kernel\n"
	"                        stacks: SO_RCVBUF (SO_RCVBUFFORCE as root) before connect\n"
	"                        / listen, which turns receive autotuning off, as iperf3\n"
	"                        -w; Linux doubles it.  libmpt: its receive buffer\n"
	"                        (default 4 MiB).  -J \"rcvbuf\": requested, effective\n"
	"      --seed N          stream seed, 0..2^53-1 (default: random)\n"
	"  -J, --json            print one JSON object per connection\n"
	"      --logfile FILE    write the report to FILE instead of stdout\n"
	"  -h, --help            this text\n"
	"\n"
	"SIGTERM or SIGINT stops the transfer: the report (JSON \"status\":\n"
	"\"interrupted\") still has what was measured so far (bytes, intervals,\n"
	"subflows, counters).\n"
	"\n"
	"Exit status: 0 verified (and with -n every byte arrived), 1 mismatch, short\n"
	"transfer, connection error or interrupted, 2 usage error.\n";

/* One connection's outcome, from this end. */
struct report {
	const struct perf_opts *o;
	bool client;
	struct perf_hdr hdr;
	bool have_hdr;
	uint64_t start_mono_ns;
	struct sockaddr_storage local, peer;
	bool receiver; /* this end received the stream */
	/* the receiver's view: from rx on the receiver, from the peer's record on the sender */
	bool have_res;
	struct perf_res res;
	struct perf_ivl *ivl; /* res.n_intervals entries; owned */
	/* sender's own counts */
	uint64_t sent_bytes, send_ns;
	struct perf_sockinfo si;
	bool have_si;
	struct perf_sampler sp; /* per-subflow counters every interval */
	bool have_sp;
	char error[PERF_ERRLEN]; /* empty when none */
	struct mpt_rt *rt;	 /* libmpt: its counters go into the report */
	char congestion[16];	 /* this end's congestion control ("" unknown) */
	char scheduler[32];	 /* this end's MPTCP scheduler ("" none: plain TCP) */
	char path_manager[32];	 /* this end's MPTCP path manager ("" none) */
	uint64_t rcvbuf;	 /* this end's receive buffer at the end (0 unknown) */
	bool interrupted;	 /* SIGTERM / SIGINT: a report of what was measured so far */
	/* samples (rr completion times, stream delays): this end's or the peer's
	 * record's; owned */
	uint64_t *smp;
	uint32_t n_smp;
	bool smp_trunc;
	/* rr: the verdicts on the requests (server's) and the responses (client's) */
	struct perf_res rr_up, rr_down;
	bool have_up, have_down;
	uint32_t rr_done; /* exchanges completed */
	uint64_t rr_ns;	  /* first request to last response (client) / last write (server) */
	uint64_t chunks;  /* stream sender: chunks written */
	uint64_t late;	  /* stream sender: chunks written more than a period late */
	bool refused;	  /* the server refused the header (MPPE) */
	struct mpt_ofo_stats ofo; /* libmpt: this end's data-level out-of-order queue */
	bool have_ofo;
};

static volatile sig_atomic_t stop_signal; /* the signal behind perf_interrupted */

static void on_stop_signal(int sig)
{
	stop_signal = sig; /* only flags here; the loops look at them */
	perf_interrupted = 1;
}

/* No SA_RESTART: a blocking read / write / accept returns EINTR at once. */
static void install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static uint64_t mono_ns(void);

/* The transfer stops here because of a signal: say so once. */
static void mark_interrupted(struct report *r, const char *what, uint64_t bytes)
{
	r->interrupted = true;
	if (r->error[0])
		return;
	if (bytes)
		snprintf(r->error, sizeof(r->error), "interrupted by %s %s after %" PRIu64 " bytes",
			 perf_signal_name(stop_signal), what, bytes);
	else
		snprintf(r->error, sizeof(r->error), "interrupted by %s %s",
			 perf_signal_name(stop_signal), what);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 3))) static void set_error(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0])
		return; /* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes unless EOF comes first.  Returns the count read (< len
 * only at EOF) or -errno. */
static ptrdiff_t read_full(struct perf_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ptrdiff_t n = perf_conn_read(c, p + got, len - got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ptrdiff_t)got;
}

static const char *fmt_sockaddr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, len, "%s:%u", host, port);
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			snprintf(buf, len, "[%s]:%u", host, port);
		}
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

static int open_socket(const struct perf_opts *o, int family, char *err, size_t errlen)
{
	enum perf_stack stack = o->stack;
	int proto = stack == PERF_STACK_KERNEL ? IPPROTO_MPTCP : IPPROTO_TCP;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, proto);

	if (fd >= 0 && o->congestion[0] &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->congestion, strlen(o->congestion))) {
		snprintf(err, errlen,
			 "--congestion %s: the kernel refused it (%s); see "
			 "/proc/sys/net/ipv4/tcp_available_congestion_control, or modprobe "
			 "tcp_%s",
			 o->congestion, strerror(errno), o->congestion);
		close(fd);
		return -1;
	}
	if (fd >= 0 && o->rcvbuf) {
		/* before connect / listen, so the window scale fits it and accepted sockets
		 * inherit it; SO_RCVBUFFORCE passes net.core.rmem_max (root), else
		 * SO_RCVBUF, clamped there.  Either turns receive autotuning off; an MPTCP
		 * socket syncs it to its subflows. */
		int v = (int)o->rcvbuf;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v))) {
			snprintf(err, errlen, "--rcvbuf %" PRIu64 ": the kernel refused it (%s)",
				 o->rcvbuf, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (fd < 0) {
		if (stack == PERF_STACK_KERNEL &&
		    (errno == EPROTONOSUPPORT || errno == EINVAL || errno == ENOPROTOOPT))
			snprintf(err, errlen,
				 "cannot open an MPTCP socket (%s): set sysctl net.mptcp.enabled=1 "
				 "or use --stack tcp",
				 strerror(errno));
		else
			snprintf(err, errlen, "socket: %s", strerror(errno));
	}
	return fd;
}

/* What --endpoint declared (libmpt), so a run's JSON shows what the stack was told. */
static json_t *endpoints_json(const struct perf_opts *o, const struct mpt_rt *rt)
{
	json_t *a = json_array();
	char fl[64];

	if (mpt_rt_follows_pm(rt)) {
		/* what the kernel's path manager gave, as held at the report */
		struct mpt_rt_endpoint eps[PERF_MAX_ENDPOINTS];
		int n = mpt_rt_endpoints(rt, eps, PERF_MAX_ENDPOINTS);
		char ip[INET6_ADDRSTRLEN];

		for (int i = 0; i < n && i < PERF_MAX_ENDPOINTS; i++) {
			inet_ntop(eps[i].addr.family == MPT_AF_INET ? AF_INET : AF_INET6,
				  eps[i].addr.ip, ip, sizeof(ip));
			json_array_append_new(
				a, json_pack("{s:s, s:i, s:s, s:s}", "addr", ip, "id", eps[i].id,
					     "flags",
					     perf_endpoint_flags_str(eps[i].flags, fl, sizeof(fl)),
					     "from", "kernel"));
		}
		return a;
	}
	for (int i = 0; i < o->nendpoints; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "addr", o->endpoints[i].addr,
						   "id", o->endpoints[i].id, "flags",
						   perf_endpoint_flags_str(o->endpoints[i].flags,
									   fl, sizeof(fl))));
	return a;
}

/* --- the two halves of a transfer ---------------------------------------------------- */

/* libmpt: the stack is single-threaded, so its subflows are sampled from the
 * runtime's own loop (mpt_rt_set_tick) instead of the sampler thread. */
struct mpt_tick {
	struct perf_conn *c;
	struct perf_sampler *sp;
};

static void mpt_sample(void *ctx, uint64_t now)
{
	struct mpt_tick *k = ctx;
	struct perf_subflow sub[PERF_MAX_SUBFLOWS];
	int n = perf_conn_subflows(k->c, sub, PERF_MAX_SUBFLOWS);

	if (n >= 0)
		perf_sampler_add(k->sp, now, atomic_load(&k->sp->app_bytes), sub, n);
}

static struct mpt_tick mpt_tick;

static void sampling_start(struct perf_conn *c, struct report *r)
{
	r->have_sp = true;
	if (!c->rt) {
		perf_sampler_start(&r->sp);
		return;
	}
	mpt_tick.c = c;
	mpt_tick.sp = &r->sp;
	mpt_rt_set_tick(c->rt, r->sp.interval_ns, mpt_sample, &mpt_tick);
}

static void sampling_stop(struct perf_conn *c, struct report *r)
{
	if (!c->rt) {
		perf_sampler_stop(&r->sp);
		return;
	}
	if (mpt_tick.c == c && r->sp.interval_ns) {
		mpt_rt_set_tick(c->rt, 0, NULL, NULL);
		mpt_sample(&mpt_tick, mono_ns());
		mpt_tick.c = NULL;
	}
}

/* Wait until the monotonic time `at` (libmpt: the runtime keeps running meanwhile).
 * Returns 0, or -EINTR on a stop signal. */
static int sleep_until(struct perf_conn *c, uint64_t at)
{
	for (;;) {
		uint64_t now = mono_ns();
		struct timespec ts;

		if (perf_interrupted)
			return -EINTR;
		if (now >= at)
			return 0;
		if (c->rt) {
			if (mpt_rt_step(c->rt, at) < 0)
				return -EIO;
			continue;
		}
		ts.tv_sec = (time_t)(at / 1000000000ull);
		ts.tv_nsec = (long)(at % 1000000000ull);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* rr: the responses are their own stream, so that an echo of the requests fails */
static uint64_t rr_down_seed(uint64_t seed)
{
	return (seed ^ 0x5252535044574e00ull) & PERF_SEED_MAX; /* "RRSPDWN" */
}

/* The first bytes a client read from the server are a refusal (MPPE): say so. */
static bool check_refusal(struct report *r, const uint8_t *buf, size_t len)
{
	ptrdiff_t reason;

	if (len < PERF_REJ_LEN || perf_rej_decode(&reason, buf, PERF_REJ_LEN) != PERF_REJ_LEN)
		return false;
	r->refused = true;
	r->error[0] = '\0';
	set_error(r,
		  "the server refused the request (%s): run the same mpt-perf version on both "
		  "ends",
		  perf_proto_strerror(reason));
	return true;
}

/* Stream: write chunks of h->p2 bytes every p2/p1 seconds, each stamped with the
 * time its write began.  Returns the bytes written. */
static uint64_t stream_send(struct perf_conn *c, struct report *r, uint8_t *buf, uint64_t t0)
{
	const struct perf_hdr *h = &r->hdr;
	uint64_t period = perf_wl_period_ns(h->p1, h->p2), off = 0;

	for (uint64_t k = 0;; k++) {
		uint64_t at = t0 + k * period, now;

		if (h->time_mode ? at >= t0 + h->amount : off >= h->amount)
			break;
		if (sleep_until(c, at)) {
			if (perf_interrupted)
				mark_interrupted(r, "while sending", off);
			else
				set_error(r, "runtime failed while pacing the stream");
			break;
		}
		now = mono_ns();
		if (now > at + period)
			r->late++;
		for (uint64_t done = 0; done < h->p2;) {
			size_t n = h->p2 - done < PERF_SEND_SLICE ? (size_t)(h->p2 - done)
								  : PERF_SEND_SLICE;
			int rc;

			pattern_fill(h->seed, off + done, buf, n);
			if (!done)
				perf_stamp_put(buf, k, now);
			if (h->corrupt && h->corrupt_at >= off + done &&
			    h->corrupt_at - off - done < n)
				buf[h->corrupt_at - off - done] ^= 0x01;
			rc = perf_conn_write_all(c, buf, n);
			if (rc && perf_interrupted) {
				mark_interrupted(r, "while sending", off + done);
				return off + done;
			}
			if (rc) {
				set_error(r, "send after %" PRIu64 " bytes: %s", off + done,
					  strerror(-rc));
				return off + done;
			}
			done += n;
			atomic_store(&r->sp.app_bytes, off + done);
		}
		off += h->p2;
		r->chunks++;
	}
	return off;
}

static void run_sender(struct perf_conn *c, struct report *r, struct perf_sockinfo *pre)
{
	const struct perf_hdr *h = &r->hdr;
	uint8_t *buf = malloc(PERF_BUFSZ);
	uint64_t off = 0, t0 = mono_ns(), deadline = t0 + h->amount;
	int rc;

	if (!buf) {
		set_error(r, "out of memory");
		return;
	}
	if (h->time_mode && c->rt && h->workload == PERF_WL_BULK)
		c->wr_bound_until = deadline;
	if (h->time_mode && !c->rt && h->workload == PERF_WL_BULK) {
		/* the same bound for the kernel: without it, what its autotuned send
		 * buffer (MBs) holds at the deadline drains afterwards, a second or more
		 * on a 10 Mbit/s path; writes now block while this much is unsent */
		int lowat = PERF_NOTSENT_LOWAT;

		setsockopt(c->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
	}
	perf_sampler_init(&r->sp, c->fd, h->interval_ns, &r->local, &r->peer);
	sampling_start(c, r);
	if (h->workload == PERF_WL_STREAM)
		off = stream_send(c, r, buf, t0);
	while (h->workload == PERF_WL_BULK) {
		size_t n = PERF_BUFSZ;

		if (perf_interrupted) {
			mark_interrupted(r, "while sending", off);
			break;
		}
		if (h->time_mode) {
			if (mono_ns() >= deadline)
				break;
		} else {
			if (off >= h->amount)
				break;
			if (h->amount - off < n)
				n = (size_t)(h->amount - off);
		}
		if (r->o->abort_at && r->o->abort_at - off < n)
			n = (size_t)(r->o->abort_at - off);
		pattern_fill(h->seed, off, buf, n);
		if (h->corrupt && h->corrupt_at >= off && h->corrupt_at - off < n)
			buf[h->corrupt_at - off] ^= 0x01;
		rc = 0;
		for (size_t done = 0; done < n && !rc;) {
			size_t k = n - done < PERF_SEND_SLICE ? n - done : PERF_SEND_SLICE;

			/* the buffer's last slice sends the slices before it */
			rc = done + k < n ? perf_conn_write_corked(c, buf + done, k)
					  : perf_conn_write_all(c, buf + done, k);
			if (!rc) {
				done += k;
				atomic_store(&r->sp.app_bytes, off + done);
			}
		}
		if (rc && perf_interrupted) {
			mark_interrupted(r, "while sending", atomic_load(&r->sp.app_bytes));
			off = atomic_load(&r->sp.app_bytes);
			break;
		}
		if (rc) {
			set_error(r, "send after %" PRIu64 " bytes: %s", off, strerror(-rc));
			break;
		}
		off += n;
		if (r->o->abort_at && off >= r->o->abort_at) {
			perf_conn_sockinfo(c, pre);
			perf_conn_abort(c);
			set_error(r, "aborted after %" PRIu64 " bytes (--abort-at)", off);
			r->sent_bytes = off;
			r->send_ns = mono_ns() - t0;
			free(buf);
			return;
		}
	}
	r->sent_bytes = off;
	r->send_ns = mono_ns() - t0;
	perf_conn_sockinfo(c, pre);
	if (r->interrupted) {
		free(buf);
		return;
	}
	rc = perf_conn_shutdown_wr(c);
	if (rc)
		set_error(r, "shutdown: %s", strerror(-rc));
	free(buf);
}

/* Read a peer's result record into *res: its fixed part, intervals (into *ivl when
 * ivl is not NULL, else read and dropped) and samples (into r->smp).  A refusal
 * (MPPE) instead is reported as such.  Returns 0 or -1 with r->error set. */
static int read_record(struct perf_conn *c, struct report *r, struct perf_res *res,
		       struct perf_ivl **ivl)
{
	uint8_t fixed[PERF_RES_LEN], *ib = NULL;
	ptrdiff_t n, rc;
	size_t ilen, slen;
	struct perf_ivl *iv = NULL;
	uint64_t *smp = NULL;
	int ret = -1;

	n = read_full(c, fixed, PERF_REJ_LEN);
	if (n == PERF_REJ_LEN && check_refusal(r, fixed, (size_t)n))
		return -1;
	if (n == PERF_REJ_LEN)
		n = read_full(c, fixed + PERF_REJ_LEN, sizeof(fixed) - PERF_REJ_LEN);
	if (n >= 0 && n < (ptrdiff_t)(sizeof(fixed) - PERF_REJ_LEN)) {
		set_error(r, "connection closed before the peer's result (%d bytes)",
			  (int)(n < PERF_REJ_LEN ? n : n + PERF_REJ_LEN));
		return -1;
	}
	if (n < 0) {
		set_error(r, "reading the peer's result: %s", strerror((int)-n));
		return -1;
	}
	rc = perf_res_decode(res, fixed, sizeof(fixed));
	if (rc < 0) {
		set_error(r, "bad result record from the peer: %s", perf_proto_strerror(rc));
		return -1;
	}
	if (res->workload != r->hdr.workload) {
		set_error(r,
			  "the peer ran workload %s for a %s request: run the same mpt-perf on "
			  "both ends",
			  perf_workload_name(res->workload), perf_workload_name(r->hdr.workload));
		return -1;
	}
	ilen = (size_t)res->n_intervals * PERF_IVL_LEN;
	slen = (size_t)res->n_samples * PERF_SMP_LEN;
	if (ilen + slen) {
		ib = malloc(ilen + slen);
		iv = calloc(res->n_intervals + 1, sizeof(*iv));
		smp = calloc(res->n_samples + 1, sizeof(*smp));
		if (!ib || !iv || !smp) {
			set_error(r, "out of memory for %u intervals and %u samples",
				  res->n_intervals, res->n_samples);
			goto out;
		}
		n = read_full(c, ib, ilen + slen);
		if (n < 0) {
			set_error(r, "reading the peer's intervals or samples: %s",
				  strerror((int)-n));
			goto out;
		}
		if (n != (ptrdiff_t)(ilen + slen)) {
			set_error(
				r,
				"connection closed inside the peer's intervals or samples (%td of "
				"%zu bytes)",
				n, ilen + slen);
			goto out;
		}
		for (uint32_t i = 0; i < res->n_intervals; i++) {
			rc = perf_ivl_decode(&iv[i], ib + (size_t)i * PERF_IVL_LEN, PERF_IVL_LEN);
			if (rc < 0) {
				set_error(r, "bad interval record: %s", perf_proto_strerror(rc));
				goto out;
			}
		}
		for (uint32_t i = 0; i < res->n_samples; i++)
			perf_smp_decode(&smp[i], ib + ilen + (size_t)i * PERF_SMP_LEN,
					PERF_SMP_LEN);
	}
	if (ivl) {
		*ivl = iv;
		iv = NULL;
	}
	if (res->n_samples) {
		free(r->smp);
		r->smp = smp;
		r->n_smp = res->n_samples;
		r->smp_trunc = res->flags & PERF_RES_F_SMP_TRUNC;
		smp = NULL;
	}
	ret = 0;
out:
	free(iv);
	free(smp);
	free(ib);
	return ret;
}

/* Read the receiver's record (fixed part, intervals, samples) into r. */
static void read_result(struct perf_conn *c, struct report *r)
{
	if (read_record(c, r, &r->res, &r->ivl) == 0)
		r->have_res = true;
}

/* Send a result record with its intervals and samples.  Returns 0 or -errno. */
static int send_record(struct perf_conn *c, const struct perf_res *res, const struct perf_ivl *ivl,
		       const uint64_t *smp)
{
	size_t len = PERF_RES_LEN + (size_t)res->n_intervals * PERF_IVL_LEN +
		     (size_t)res->n_samples * PERF_SMP_LEN;
	uint8_t *out = malloc(len), *p;
	int rc;

	if (!out)
		return -ENOMEM;
	perf_res_encode(res, out, PERF_RES_LEN);
	p = out + PERF_RES_LEN;
	for (uint32_t i = 0; i < res->n_intervals; i++, p += PERF_IVL_LEN)
		perf_ivl_encode(&ivl[i], p, PERF_IVL_LEN);
	for (uint32_t i = 0; i < res->n_samples; i++, p += PERF_SMP_LEN)
		perf_smp_encode(smp[i], p, PERF_SMP_LEN);
	rc = perf_conn_write_all(c, out, len);
	free(out);
	return rc;
}

/* libmpt: this end's data-level out-of-order queue, for the report. */
static void take_ofo(struct perf_conn *c, struct report *r)
{
	if (c->rt && c->id && mpt_conn_ofo_stats(mpt_rt_stack(c->rt), c->id, &r->ofo) == 0)
		r->have_ofo = true;
}

static void run_receiver(struct perf_conn *c, struct report *r, uint64_t t0)
{
	const struct perf_hdr *h = &r->hdr;
	uint8_t *buf = malloc(PERF_BUFSZ), first[PERF_REJ_LEN];
	struct perf_rx rx;
	int rc;

	if (!buf) {
		set_error(r, "out of memory");
		return;
	}
	perf_rx_init(&rx, h->seed, h->interval_ns, t0);
	if (h->workload == PERF_WL_STREAM)
		perf_rx_set_chunks(&rx, h->p2);
	perf_sampler_init(&r->sp, c->fd, h->interval_ns, &r->local, &r->peer);
	sampling_start(c, r);
	for (;;) {
		ptrdiff_t n = perf_conn_read(c, buf, PERF_BUFSZ);

		if (n < 0 && perf_interrupted) {
			mark_interrupted(r, "while receiving", rx.bytes);
			break;
		}
		if (n < 0) {
			set_error(r, "receive after %" PRIu64 " bytes: %s", rx.bytes,
				  strerror((int)-n));
			break;
		}
		if (n == 0)
			break;
		for (ptrdiff_t i = 0; rx.bytes + (uint64_t)i < PERF_REJ_LEN && i < n; i++)
			first[rx.bytes + (uint64_t)i] = buf[i];
		if (perf_rx_data(&rx, buf, (size_t)n, mono_ns()))
			set_error(r, "out of memory for interval samples");
		atomic_store(&r->sp.app_bytes, rx.bytes);
	}
	sampling_stop(c, r);
	/* a client that downloads gets a refusal instead of the stream */
	if (r->client && rx.bytes == PERF_REJ_LEN)
		check_refusal(r, first, PERF_REJ_LEN);
	if (perf_rx_finish(&rx))
		set_error(r, "out of memory for interval samples");
	/* sample before the connection winds down: every subflow is still there */
	perf_conn_sockinfo(c, &r->si);
	r->have_si = true;
	take_ofo(c, r);

	perf_rx_result(&rx, h->time_mode ? 0 : h->amount, &r->res);
	r->res.workload = h->workload;
	if (r->error[0])
		r->res.flags &= (uint16_t)~PERF_RES_F_VERIFIED; /* a broken read is no verdict */
	r->have_res = true;
	r->ivl = rx.ivl; /* the report owns them now */
	rx.ivl = NULL;
	r->smp = rx.smp;
	r->n_smp = (uint32_t)rx.n_smp;
	r->smp_trunc = rx.smp_truncated;
	rx.smp = NULL;

	if (r->interrupted || r->refused)
		goto done; /* the peer gets no result: we stop now */
	rc = send_record(c, &r->res, r->ivl, r->smp);
	if (rc)
		set_error(r, "sending the result: %s", strerror(-rc));
	perf_conn_shutdown_wr(c);
done:
	perf_rx_free(&rx);
	free(buf);
}

/* --- request/response ------------------------------------------------------------------ */

/* Read exactly len bytes of the stream rx verifies.  Returns the count read (< len at
 * EOF) or -errno.  Keeps the first PERF_REJ_LEN bytes of the stream in first. */
static ptrdiff_t rr_read(struct perf_conn *c, struct perf_rx *rx, uint8_t *buf, uint64_t len,
			 uint8_t *first)
{
	uint64_t got = 0;

	while (got < len) {
		size_t want = len - got < PERF_BUFSZ ? (size_t)(len - got) : PERF_BUFSZ;
		ptrdiff_t n = perf_conn_read(c, buf, want);

		if (n <= 0)
			return n < 0 ? n : (ptrdiff_t)got;
		if (first)
			for (ptrdiff_t i = 0; rx->bytes + (uint64_t)i < PERF_REJ_LEN && i < n; i++)
				first[rx->bytes + (uint64_t)i] = buf[i];
		perf_rx_data(rx, buf, (size_t)n, mono_ns());
		got += (uint64_t)n;
	}
	return (ptrdiff_t)got;
}

/* Write bytes [off, off + len) of the stream with this seed (flipping corrupt_at). */
static int rr_write(struct perf_conn *c, const struct perf_hdr *h, uint64_t seed, bool flip,
		    uint8_t *buf, uint64_t off, uint64_t len)
{
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < PERF_BUFSZ ? (size_t)(len - done) : PERF_BUFSZ;
		int rc;

		pattern_fill(seed, off + done, buf, n);
		if (flip && h->corrupt && h->corrupt_at >= off + done &&
		    h->corrupt_at - off - done < n)
			buf[h->corrupt_at - off - done] ^= 0x01;
		rc = perf_conn_write_all(c, buf, n);
		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

static void rr_fail_io(struct report *r, const char *what, ptrdiff_t rc)
{
	if (perf_interrupted)
		mark_interrupted(r, what, 0);
	else
		set_error(r, "%s (after %u exchanges): %s", what, r->rr_done,
			  rc ? strerror((int)-rc) : "connection closed");
}

/* The client's side of --rr: N exchanges, one at a time; then its verdict on the
 * responses (with the completion times) goes to the server, and the server's on
 * the requests comes back. */
static void run_rr_client(struct perf_conn *c, struct report *r)
{
	const struct perf_hdr *h = &r->hdr;
	uint8_t *buf = malloc(PERF_BUFSZ), first[PERF_REJ_LEN];
	uint64_t t0 = mono_ns();
	struct perf_rx rx;
	int rc;

	if (!buf) {
		set_error(r, "out of memory");
		return;
	}
	perf_rx_init(&rx, rr_down_seed(h->seed), 0, t0);
	for (uint32_t i = 0; i < h->amount; i++) {
		uint64_t ts = mono_ns();
		ptrdiff_t n;

		rc = rr_write(c, h, h->seed, true, buf, i * h->p1, h->p1);
		if (rc) {
			rr_fail_io(r, "sending a request", rc);
			break;
		}
		n = rr_read(c, &rx, buf, h->p2, first);
		if (n != (ptrdiff_t)h->p2) {
			if (!(i == 0 && rx.bytes == PERF_REJ_LEN &&
			      check_refusal(r, first, PERF_REJ_LEN)))
				rr_fail_io(r, "reading a response", n < 0 ? n : 0);
			break;
		}
		perf_rx_sample(&rx, mono_ns() - ts);
		r->rr_done++;
	}
	r->rr_ns = mono_ns() - t0;
	perf_conn_sockinfo(c, &r->si);
	r->have_si = true;
	take_ofo(c, r);
	perf_rx_finish(&rx);
	perf_rx_result(&rx, h->amount * h->p2, &r->rr_down);
	r->rr_down.workload = PERF_WL_RR;
	r->rr_down.t0_mono_ns = t0;
	if (r->error[0] || r->interrupted)
		r->rr_down.flags &= (uint16_t)~PERF_RES_F_VERIFIED;
	r->have_down = true;
	r->smp = rx.smp;
	r->n_smp = (uint32_t)rx.n_smp;
	r->smp_trunc = rx.smp_truncated;
	rx.smp = NULL;
	if (!r->error[0] && !r->interrupted) {
		rc = send_record(c, &r->rr_down, NULL, r->smp);
		if (rc)
			set_error(r, "sending the result: %s", strerror(-rc));
		else
			perf_conn_shutdown_wr(c);
		if (!rc && read_record(c, r, &r->rr_up, NULL) == 0)
			r->have_up = true;
	}
	perf_rx_free(&rx);
	free(buf);
}

/* The server's side of --rr: read each request whole, answer it; then take the
 * client's verdict (and completion times) and send ours on the requests. */
static void run_rr_server(struct perf_conn *c, struct report *r)
{
	const struct perf_hdr *h = &r->hdr;
	uint8_t *buf = malloc(PERF_BUFSZ);
	uint64_t t0 = mono_ns();
	struct perf_rx rx;
	int rc;

	if (!buf) {
		set_error(r, "out of memory");
		return;
	}
	perf_rx_init(&rx, h->seed, 0, t0);
	for (uint32_t i = 0; i < h->amount; i++) {
		ptrdiff_t n = rr_read(c, &rx, buf, h->p1, NULL);

		if (n != (ptrdiff_t)h->p1) {
			rr_fail_io(r, "reading a request", n < 0 ? n : 0);
			break;
		}
		rc = rr_write(c, h, rr_down_seed(h->seed), false, buf, i * h->p2, h->p2);
		if (rc) {
			rr_fail_io(r, "sending a response", rc);
			break;
		}
		r->rr_done++;
	}
	r->rr_ns = mono_ns() - t0;
	perf_conn_sockinfo(c, &r->si);
	r->have_si = true;
	take_ofo(c, r);
	perf_rx_finish(&rx);
	perf_rx_result(&rx, h->amount * h->p1, &r->rr_up);
	r->rr_up.workload = PERF_WL_RR;
	if (r->error[0] || r->interrupted)
		r->rr_up.flags &= (uint16_t)~PERF_RES_F_VERIFIED;
	r->have_up = true;
	if (!r->error[0] && !r->interrupted) {
		if (read_record(c, r, &r->rr_down, NULL) == 0)
			r->have_down = true;
		rc = send_record(c, &r->rr_up, NULL, NULL);
		if (rc && !r->error[0])
			set_error(r, "sending the result: %s", strerror(-rc));
		perf_conn_shutdown_wr(c);
	}
	perf_rx_free(&rx);
	free(buf);
}

/* Order two samples of the same socket: more subflows first, then more bytes
 * acknowledged or received.  After the receiver's close the kernel may already
 * have dropped subflows or, for a fallen-back socket, reset its tcp_info to zero. */
static uint64_t sockinfo_bytes(const struct perf_sockinfo *si)
{
	uint64_t n = 0;

	for (int i = 0; i < si->n_sub; i++)
		n += si->sub[i].ti.tcpi_bytes_acked + si->sub[i].ti.tcpi_bytes_received;
	if (si->have_tcp)
		n += si->ti.tcpi_bytes_acked + si->ti.tcpi_bytes_received;
	return n;
}

static bool sockinfo_better(const struct perf_sockinfo *a, const struct perf_sockinfo *b)
{
	if (a->n_sub != b->n_sub)
		return a->n_sub > b->n_sub;
	return sockinfo_bytes(a) > sockinfo_bytes(b);
}

/* The sender's side after its stream: read the verdict, and sample the socket
 * three times (before SHUT_WR, when everything is acknowledged or the result
 * starts to arrive, after the result), keeping the most complete sample; the
 * later one wins a tie. */
static void finish_sender(struct perf_conn *c, struct report *r, const struct perf_sockinfo *pre)
{
	struct perf_sockinfo mid, late;
	uint64_t give_up = mono_ns() + PERF_DRAIN_WAIT_NS;

	while (!r->error[0] && mono_ns() < give_up) {
		if (perf_interrupted) {
			mark_interrupted(r, "waiting for the receiver's result", r->sent_bytes);
			break;
		}
		if (perf_conn_wait_readable(c, 1000000))
			break;
		if (!perf_conn_unacked(c))
			break;
	}
	perf_conn_sockinfo(c, &mid);
	if (!r->error[0])
		read_result(c, r);
	if (perf_interrupted && !r->have_res)
		mark_interrupted(r, "waiting for the receiver's result", r->sent_bytes);
	perf_conn_sockinfo(c, &late);
	r->si = *pre;
	if (!sockinfo_better(&r->si, &mid))
		r->si = mid;
	if (!sockinfo_better(&r->si, &late))
		r->si = late;
	r->have_si = true;
	if (r->have_sp)
		sampling_stop(c, r);
}

static bool report_ok(const struct report *r)
{
	if (r->have_hdr && r->hdr.workload == PERF_WL_RR)
		return !r->error[0] && !r->interrupted && r->have_up && r->have_down &&
		       (r->rr_up.flags & PERF_RES_F_VERIFIED) &&
		       (r->rr_down.flags & PERF_RES_F_VERIFIED) &&
		       r->rr_up.bytes == r->hdr.amount * r->hdr.p1 &&
		       r->rr_down.bytes == r->hdr.amount * r->hdr.p2;
	if (r->error[0] || !r->have_res || !(r->res.flags & PERF_RES_F_VERIFIED))
		return false;
	if (!r->receiver && r->res.bytes != r->sent_bytes)
		return false;
	return true;
}

/* --- output -------------------------------------------------------------------------- */

static double mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8.0 * 1000.0 / (double)ns : 0.0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* {n, min_ms, p50_ms, p95_ms, p99_ms, max_ms, mean_ms} of the samples, plus the list
 * under `list` (ms). */
static void stats_json(const struct report *r, json_t *o, const char *list, uint64_t period_ns)
{
	struct perf_wl_stats st;
	json_t *a = json_array();

	for (uint32_t i = 0; i < r->n_smp; i++)
		json_array_append_new(a, json_real(ms(r->smp[i])));
	json_object_set_new(o, list, a);
	json_object_set_new(o, "samples_truncated", json_boolean(r->smp_trunc));
	if (perf_wl_stats(r->smp, r->n_smp, period_ns, &st) || !st.n) {
		json_object_set_new(o, "p50_ms", json_null());
		json_object_set_new(o, "p95_ms", json_null());
		json_object_set_new(o, "p99_ms", json_null());
		json_object_set_new(o, "max_ms", json_null());
		json_object_set_new(o, "min_ms", json_null());
		json_object_set_new(o, "mean_ms", json_null());
		if (period_ns) {
			json_object_set_new(o, "stall_threshold_ms", json_null());
			json_object_set_new(o, "stalls", json_integer(0));
		}
		return;
	}
	json_object_set_new(o, "p50_ms", json_real(ms(st.p50)));
	json_object_set_new(o, "p95_ms", json_real(ms(st.p95)));
	json_object_set_new(o, "p99_ms", json_real(ms(st.p99)));
	json_object_set_new(o, "max_ms", json_real(ms(st.max)));
	json_object_set_new(o, "min_ms", json_real(ms(st.min)));
	json_object_set_new(o, "mean_ms", json_real(st.mean / 1e6));
	if (period_ns) {
		json_object_set_new(o, "stall_threshold_ms", json_real(ms(st.stall_threshold)));
		json_object_set_new(o, "stalls", json_integer((json_int_t)st.stalls));
	}
}

static json_t *verdict_json(const struct perf_res *res, bool have)
{
	if (!have)
		return json_null();
	return json_pack("{s:I, s:b, s:o}", "bytes", (json_int_t)res->bytes, "verified",
			 (res->flags & PERF_RES_F_VERIFIED) != 0, "first_mismatch",
			 (res->flags & PERF_RES_F_MISMATCH)
				 ? json_integer((json_int_t)res->first_mismatch)
				 : json_null());
}

/* The workload's own object: "rr" or "stream" (null for the others). */
static void workload_json(const struct report *r, json_t *o)
{
	const struct perf_hdr *h = &r->hdr;
	json_t *rr = json_null(), *st = json_null();

	if (r->have_hdr && h->workload == PERF_WL_RR) {
		rr = json_pack(
			"{s:I, s:I, s:I, s:I, s:f, s:o, s:o}", "exchanges", (json_int_t)h->amount,
			"request_bytes", (json_int_t)h->p1, "response_bytes", (json_int_t)h->p2,
			"completed", (json_int_t)(r->client ? r->n_smp : r->rr_done), "seconds",
			(double)r->rr_ns / 1e9, "requests", verdict_json(&r->rr_up, r->have_up),
			"responses", verdict_json(&r->rr_down, r->have_down));
		stats_json(r, rr, "completion_ms", 0);
	} else if (r->have_hdr && h->workload == PERF_WL_STREAM) {
		uint64_t period = perf_wl_period_ns(h->p1, h->p2);

		st = json_pack("{s:I, s:I, s:f, s:I}", "rate_bps", (json_int_t)(h->p1 * 8),
			       "chunk_bytes", (json_int_t)h->p2, "period_ms", ms(period), "chunks",
			       (json_int_t)r->n_smp);
		json_object_set_new(st, "chunks_sent",
				    r->receiver ? json_null()
						: json_integer((json_int_t)r->chunks));
		json_object_set_new(st, "late_writes",
				    r->receiver ? json_null() : json_integer((json_int_t)r->late));
		stats_json(r, st, "delay_ms", period);
	}
	json_object_set_new(
		o, "workload",
		json_string(perf_workload_name(r->have_hdr ? h->workload : PERF_WL_BULK)));
	json_object_set_new(o, "rr", rr);
	json_object_set_new(o, "stream", st);
	if (r->have_ofo) {
		uint64_t span = r->ofo.last_ns - r->ofo.first_ns;

		json_object_set_new(
			o, "ofo",
			json_pack("{s:I, s:f, s:I, s:I, s:I}", "peak_bytes",
				  (json_int_t)r->ofo.peak_bytes, "mean_bytes",
				  span ? (double)r->ofo.area_byte_ns / (double)span : 0.0,
				  "peak_ranges", (json_int_t)r->ofo.peak_ranges, "segments",
				  (json_int_t)r->ofo.segments, "ofo_segments",
				  (json_int_t)r->ofo.ofo_segments));
	} else {
		json_object_set_new(o, "ofo", json_null());
	}
}

static json_t *report_json(const struct report *r)
{
	const struct perf_hdr *h = &r->hdr;
	json_t *o = json_object(), *ivls = json_array();
	uint64_t bytes = 0, ns = 0;

	json_object_set_new(o, "role", json_string(r->client ? "client" : "server"));
	json_object_set_new(o, "stack", json_string(perf_stack_name(r->o->stack)));
	json_object_set_new(o, "start_mono_ns", json_integer((json_int_t)r->start_mono_ns));
	json_object_set_new(o, "connection",
			    json_pack("{s:o, s:o}", "local", perf_sockaddr_json(&r->local),
				      "remote", perf_sockaddr_json(&r->peer)));
	if (r->have_hdr) {
		json_object_set_new(o, "direction",
				    json_string(h->dir == PERF_UPLOAD ? "upload" : "download"));
		json_object_set_new(o, "mode", json_string(h->time_mode ? "time" : "bytes"));
		if (h->time_mode) {
			json_object_set_new(o, "duration", json_real((double)h->amount / 1e9));
			json_object_set_new(o, "bytes_expected", json_null());
		} else {
			json_object_set_new(o, "bytes_expected",
					    json_integer((json_int_t)h->amount));
		}
		json_object_set_new(o, "seed", json_integer((json_int_t)h->seed));
		json_object_set_new(o, "interval", json_real((double)h->interval_ns / 1e9));
	}
	json_object_set_new(o, "receiver",
			    json_string(r->have_hdr && h->workload == PERF_WL_RR ? "both"
					: r->receiver				 ? "local"
										 : "remote"));
	json_object_set_new(o, "congestion",
			    r->congestion[0] ? json_string(r->congestion) : json_null());
	json_object_set_new(o, "scheduler",
			    r->scheduler[0] ? json_string(r->scheduler) : json_null());
	json_object_set_new(o, "path_manager",
			    r->path_manager[0] ? json_string(r->path_manager) : json_null());
	json_object_set_new(
		o, "rcvbuf",
		json_pack("{s:o, s:o, s:b}", "requested",
			  r->o->rcvbuf ? json_integer((json_int_t)r->o->rcvbuf) : json_null(),
			  "effective",
			  r->rcvbuf ? json_integer((json_int_t)r->rcvbuf) : json_null(),
			  "autotuning", r->o->stack != PERF_STACK_MPT && !r->o->rcvbuf));

	/* top level: the receiver's view; rr: both directions' verified bytes over the
	 * exchanges' time */
	if (r->have_hdr && h->workload == PERF_WL_RR) {
		bytes = (r->have_up ? r->rr_up.bytes : 0) + (r->have_down ? r->rr_down.bytes : 0);
		ns = r->rr_ns;
	} else if (r->have_res) {
		bytes = r->res.bytes;
		ns = r->res.elapsed_ns;
	} else if (!r->receiver) {
		bytes = r->sent_bytes;
		ns = r->send_ns;
	}
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(o, "seconds", json_real((double)ns / 1e9));
	json_object_set_new(o, "goodput_mbps", json_real(mbps(bytes, ns)));
	json_object_set_new(o, "verified", json_boolean(report_ok(r)));
	json_object_set_new(o, "first_mismatch",
			    r->have_res && (r->res.flags & PERF_RES_F_MISMATCH)
				    ? json_integer((json_int_t)r->res.first_mismatch)
			    : r->have_up && (r->rr_up.flags & PERF_RES_F_MISMATCH)
				    ? json_integer((json_int_t)r->rr_up.first_mismatch)
			    : r->have_down && (r->rr_down.flags & PERF_RES_F_MISMATCH)
				    ? json_integer((json_int_t)r->rr_down.first_mismatch)
				    : json_null());
	workload_json(r, o);
	if (r->have_res) {
		for (uint32_t i = 0; i < r->res.n_intervals; i++) {
			const struct perf_ivl *iv = &r->ivl[i];

			json_array_append_new(
				ivls, json_pack("{s:f, s:f, s:I, s:f}", "start",
						(double)iv->start_ns / 1e9, "end",
						(double)iv->end_ns / 1e9, "bytes",
						(json_int_t)iv->bytes, "goodput_mbps",
						mbps(iv->bytes, iv->end_ns - iv->start_ns)));
		}
		json_object_set_new(o, "intervals_t0_mono_ns",
				    json_integer((json_int_t)r->res.t0_mono_ns));
		json_object_set_new(o, "intervals_truncated",
				    json_boolean(r->res.flags & PERF_RES_F_TRUNCATED));
	}
	json_object_set_new(o, "intervals", ivls);

	if (!r->receiver && !(r->have_hdr && h->workload == PERF_WL_RR)) {
		json_object_set_new(o, "sent",
				    json_pack("{s:I, s:f, s:f}", "bytes", (json_int_t)r->sent_bytes,
					      "seconds", (double)r->send_ns / 1e9, "goodput_mbps",
					      mbps(r->sent_bytes, r->send_ns)));
		if (r->have_res)
			json_object_set_new(
				o, "remote",
				json_pack("{s:I, s:f, s:f, s:b, s:o, s:I}", "bytes",
					  (json_int_t)r->res.bytes, "seconds",
					  (double)r->res.elapsed_ns / 1e9, "goodput_mbps",
					  mbps(r->res.bytes, r->res.elapsed_ns), "verified",
					  (r->res.flags & PERF_RES_F_VERIFIED) != 0,
					  "first_mismatch",
					  (r->res.flags & PERF_RES_F_MISMATCH)
						  ? json_integer((json_int_t)r->res.first_mismatch)
						  : json_null(),
					  "t0_mono_ns", (json_int_t)r->res.t0_mono_ns));
		else
			json_object_set_new(o, "remote", json_null());
	}
	if (r->have_si)
		perf_sockinfo_json(&r->si, o);
	if (r->have_sp)
		perf_sampler_json(&r->sp, r->start_mono_ns, o);
	json_object_set_new(o, "counters", r->rt ? perf_mpt_counters_json(r->rt) : json_null());
	json_object_set_new(o, "endpoints", r->rt ? endpoints_json(r->o, r->rt) : json_null());
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		json_object_set_new(
			o, "cpu",
			json_pack("{s:f, s:f, s:I}", "user_s",
				  (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, "sys_s",
				  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
				  "maxrss_kb", (json_int_t)ru.ru_maxrss));
	}
	json_object_set_new(o, "status",
			    json_string(perf_status_name(r->interrupted, report_ok(r))));
	json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
	return o;
}

/* rr: why the exchanges did not verify ("" when they did, or an error says it). */
static const char *rr_failure(const struct report *r, char *buf, size_t len)
{
	const struct perf_hdr *h = &r->hdr;

	buf[0] = '\0';
	if (r->error[0] || report_ok(r))
		return buf;
	if (r->have_up && (r->rr_up.flags & PERF_RES_F_MISMATCH))
		snprintf(buf, len, "rr: the requests failed verification at stream offset %" PRIu64,
			 r->rr_up.first_mismatch);
	else if (r->have_down && (r->rr_down.flags & PERF_RES_F_MISMATCH))
		snprintf(buf, len,
			 "rr: the responses failed verification at stream offset %" PRIu64,
			 r->rr_down.first_mismatch);
	else
		snprintf(buf, len,
			 "rr: %" PRIu64 " of %" PRIu64 " request bytes and %" PRIu64 " of %" PRIu64
			 " response bytes verified",
			 r->have_up ? r->rr_up.bytes : 0, h->amount * h->p1,
			 r->have_down ? r->rr_down.bytes : 0, h->amount * h->p2);
	return buf;
}

/* rr / stream: every sample, then the percentiles. */
static void workload_text(const struct report *r, FILE *out)
{
	const char *who = r->client ? "client" : "server";
	const struct perf_hdr *h = &r->hdr;
	bool rr = h->workload == PERF_WL_RR;
	uint64_t period = rr ? 0 : perf_wl_period_ns(h->p1, h->p2);
	struct perf_wl_stats st;

	fprintf(out, "[%s] %-9s %s\n", who, rr ? "exchange" : "chunk",
		rr ? "completion (ms)" : "delay (ms)");
	for (uint32_t i = 0; i < r->n_smp; i++)
		fprintf(out, "[%s] %-9u %.3f\n", who, i, ms(r->smp[i]));
	if (perf_wl_stats(r->smp, r->n_smp, period, &st))
		return;
	if (rr)
		fprintf(out,
			"[%s] rr: %u of %" PRIu64 " exchanges of %" PRIu64 " B up / %" PRIu64
			" B down; completion ms p50 %.3f p95 %.3f p99 %.3f max %.3f\n",
			who, (unsigned)st.n, h->amount, h->p1, h->p2, ms(st.p50), ms(st.p95),
			ms(st.p99), ms(st.max));
	else
		fprintf(out,
			"[%s] stream: %u chunks of %" PRIu64 " B every %.3f ms; delay ms p50 %.3f "
			"p95 %.3f p99 %.3f max %.3f; %zu stalls (delay > %.3f ms)\n",
			who, (unsigned)st.n, h->p2, ms(period), ms(st.p50), ms(st.p95), ms(st.p99),
			ms(st.max), st.stalls, ms(st.stall_threshold));
}

static void report_text(const struct report *r, FILE *out)
{
	char peer[INET6_ADDRSTRLEN + 16];
	uint64_t bytes = r->have_res ? r->res.bytes : r->sent_bytes;
	uint64_t ns = r->have_res ? r->res.elapsed_ns : r->send_ns;
	bool rr = r->have_hdr && r->hdr.workload == PERF_WL_RR;

	if (rr) {
		bytes = (r->have_up ? r->rr_up.bytes : 0) + (r->have_down ? r->rr_down.bytes : 0);
		ns = r->rr_ns;
	}
	fmt_sockaddr(&r->peer, peer, sizeof(peer));
	if (r->have_res && r->res.n_intervals) {
		fprintf(out, "[%s] interval (s)     bytes          Mbit/s\n",
			r->client ? "client" : "server");
		for (uint32_t i = 0; i < r->res.n_intervals; i++) {
			const struct perf_ivl *iv = &r->ivl[i];

			fprintf(out, "[%s] %6.2f-%-6.2f  %12" PRIu64 "  %10.2f\n",
				r->client ? "client" : "server", (double)iv->start_ns / 1e9,
				(double)iv->end_ns / 1e9, iv->bytes,
				mbps(iv->bytes, iv->end_ns - iv->start_ns));
		}
	}
	if (r->have_hdr && r->hdr.workload != PERF_WL_BULK)
		workload_text(r, out);
	fprintf(out, "[%s] %s %s %s: %" PRIu64 " bytes in %.3f s = %.2f Mbit/s, ",
		r->client ? "client" : "server", perf_stack_name(r->o->stack),
		!r->have_hdr		    ? "?"
		: rr			    ? "rr"
		: r->hdr.dir == PERF_UPLOAD ? "upload"
					    : "download",
		peer, bytes, (double)ns / 1e9, mbps(bytes, ns));
	if (report_ok(r) && rr)
		fprintf(out, "both ends verified every byte\n");
	else if (rr && !r->error[0]) {
		char why[PERF_ERRLEN];

		fprintf(out, "VERIFICATION FAILED: %s\n", rr_failure(r, why, sizeof(why)));
	} else if (report_ok(r))
		fprintf(out, "receiver verified every byte\n");
	else if (r->have_res && (r->res.flags & PERF_RES_F_MISMATCH))
		fprintf(out, "VERIFICATION FAILED: first mismatch at stream offset %" PRIu64 "\n",
			r->res.first_mismatch);
	else if (r->error[0])
		fprintf(out, "FAILED: %s\n", r->error);
	else
		fprintf(out, "FAILED: short transfer (%" PRIu64 " of %" PRIu64 " bytes)\n", bytes,
			r->receiver ? r->hdr.amount : r->sent_bytes);
}

/* Print the report; returns the connection's exit status (0 or 1). */
static int report_emit(struct report *r, FILE *out)
{
	int ok = report_ok(r);
	char why[PERF_ERRLEN];

	/* exit 1 always comes with one line on stderr saying why */
	if (r->error[0])
		fprintf(stderr, "mpt-perf: %s\n", r->error);
	else if (r->have_hdr && r->hdr.workload == PERF_WL_RR && !ok)
		fprintf(stderr, "mpt-perf: %s\n", rr_failure(r, why, sizeof(why)));
	else if (!ok && r->have_res && (r->res.flags & PERF_RES_F_MISMATCH))
		fprintf(stderr,
			"mpt-perf: verification failed: first mismatch at stream offset %" PRIu64
			"\n",
			r->res.first_mismatch);
	else if (!ok && r->have_res && !r->receiver && r->res.bytes != r->sent_bytes)
		fprintf(stderr,
			"mpt-perf: the receiver got %" PRIu64 " bytes of the %" PRIu64 " sent\n",
			r->res.bytes, r->sent_bytes);
	else if (!ok)
		fprintf(stderr,
			"mpt-perf: the receiver did not verify the transfer (%" PRIu64
			" of %" PRIu64 " bytes)\n",
			r->have_res ? r->res.bytes : r->sent_bytes,
			r->receiver ? r->hdr.amount : r->sent_bytes);
	if (r->o->json) {
		json_t *j = report_json(r);

		json_dumpf(j, out, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
		fputc('\n', out);
		json_decref(j);
	} else {
		report_text(r, out);
		if (r->rt && r->o->counters) {
			char buf[8192];

			perf_mpt_counters_text(r->rt, buf, sizeof(buf));
			fputs(buf, out);
		}
	}
	fflush(out);
	free(r->ivl);
	r->ivl = NULL;
	free(r->smp);
	r->smp = NULL;
	if (r->have_sp)
		perf_sampler_free(&r->sp);
	r->have_sp = false;
	return ok ? 0 : 1;
}

/* An MPTCP policy this end runs: libmpt's from its option (`mine`, or `dflt` without
 * it); the kernel's from /proc/sys/net/mptcp/<sysctl> in this namespace ("" for plain
 * TCP, or when unreadable). */
static void report_policy(const struct perf_opts *o, const char *mine, const char *dflt,
			  const char *sysctl, char *out, size_t len)
{
	char path[96];
	FILE *f;

	out[0] = '\0';
	if (o->stack == PERF_STACK_MPT && !o->no_mptcp) {
		snprintf(out, len, "%s", mine[0] ? mine : dflt);
		return;
	}
	if (o->stack != PERF_STACK_KERNEL)
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/mptcp/%s", sysctl);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* The MPTCP scheduler this end runs (--scheduler, or net.mptcp.scheduler). */
static void report_scheduler(const struct perf_opts *o, char *out, size_t len)
{
	report_policy(o, o->scheduler, "default", "scheduler", out, len);
}

/* The MPTCP path manager this end runs (--path-manager, or net.mptcp.path_manager). */
static void report_path_manager(const struct perf_opts *o, char *out, size_t len)
{
	report_policy(o, o->path_manager, "kernel", "path_manager", out, len);
}

/* --congestion asked for one algorithm and the connection runs another: an MPTCP
 * socket takes any name before its first subflow exists and keeps the default.
 * Returns the one-line message, or NULL. */
static const char *congestion_mismatch(const struct perf_opts *o, const char *running)
{
	static char msg[PERF_ERRLEN];

	if (!o->congestion[0] || !running[0] || !strcmp(o->congestion, running))
		return NULL;
	snprintf(msg, sizeof(msg),
		 "--congestion %s: the kernel runs %s on this connection (it has no %s; see "
		 "/proc/sys/net/ipv4/tcp_available_congestion_control, or modprobe tcp_%s)",
		 o->congestion, running, o->congestion, o->congestion);
	return msg;
}

/* This end's receive buffer now (the end of the transfer, so kernel autotuning shows
 * how far it grew): kernel stacks: getsockopt SO_RCVBUF, which Linux reports doubled
 * (the bookkeeping overhead it adds to what was asked); libmpt: its ring's size. */
static void note_rcvbuf(const struct perf_conn *c, struct report *r)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (c->rt)
		r->rcvbuf = perf_mpt_rcvbuf(r->o);
	else if (c->fd >= 0 && !getsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &v, &len) && v > 0)
		r->rcvbuf = (uint64_t)v;
}

/* rr / stream: each write leaves at once (kernel: TCP_NODELAY; libmpt's stack runs
 * without Nagle for these, perf_mpt_open). */
static void set_nodelay(struct perf_conn *c)
{
	int one = 1;

	if (c->fd >= 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* --- client -------------------------------------------------------------------------- */

static int client_connect(const struct perf_opts *o, struct report *r, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	char port[8];
	int fd = -1, rc, saved = 0;

	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "-c %s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = open_socket(o, ai->ai_family, err, errlen);
		if (fd < 0)
			continue;
		if (o->bind) {
			struct addrinfo bh = {.ai_family = ai->ai_family,
					      .ai_socktype = SOCK_STREAM,
					      .ai_flags = AI_PASSIVE},
					*b = NULL;

			if (getaddrinfo(o->bind, NULL, &bh, &b) || !b ||
			    bind(fd, b->ai_addr, b->ai_addrlen) < 0) {
				snprintf(err, errlen, "-B %s: cannot bind the client socket there",
					 o->bind);
				if (b)
					freeaddrinfo(b);
				close(fd);
				fd = -1;
				continue;
			}
			freeaddrinfo(b);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		snprintf(err, errlen, "connect to %s port %u: %s", o->host, o->port,
			 strerror(saved));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		socklen_t len = sizeof(r->local);

		r->start_mono_ns = mono_ns();
		getsockname(fd, (struct sockaddr *)&r->local, &len);
		len = sizeof(r->peer);
		getpeername(fd, (struct sockaddr *)&r->peer, &len);
	}
	return fd;
}

/* Stopped by a signal before any connection: a report anyway (nothing measured,
 * "status": "interrupted"), so that a run's results say what happened. */
static int report_stopped(struct report *r, struct mpt_rt *rt, const char *what, FILE *out)
{
	int status;

	r->rt = rt;
	mark_interrupted(r, what, 0);
	status = report_emit(r, out);
	mpt_rt_close(rt);
	return status;
}

static int run_client(const struct perf_opts *o, FILE *out)
{
	struct report r = {.o = o, .client = true};
	struct perf_conn c = {.fd = -1};
	struct perf_sockinfo pre;
	struct mpt_rt *rt = NULL;
	uint8_t hb[PERF_HDR_LEN];
	char err[PERF_ERRLEN];
	int rc, status;

	r.hdr.dir = o->reverse ? PERF_DOWNLOAD : PERF_UPLOAD;
	r.hdr.time_mode = o->time_mode;
	r.hdr.amount = o->amount;
	r.hdr.interval_ns = o->interval_ns;
	r.hdr.corrupt = o->corrupt;
	r.hdr.corrupt_at = o->corrupt ? o->corrupt_at : 0;
	r.hdr.workload = o->workload;
	if (o->workload == PERF_WL_RR) {
		r.hdr.p1 = o->rr_req;
		r.hdr.p2 = o->rr_resp;
	} else if (o->workload == PERF_WL_STREAM) {
		r.hdr.p1 = o->stream_rate;
		r.hdr.p2 = o->stream_chunk;
	}
	if (o->have_seed) {
		r.hdr.seed = o->seed;
	} else if (getrandom(&r.hdr.seed, sizeof(r.hdr.seed), 0) != sizeof(r.hdr.seed)) {
		r.hdr.seed = mono_ns();
	}
	r.hdr.seed &= PERF_SEED_MAX;
	r.have_hdr = true;
	r.receiver = r.hdr.dir == PERF_DOWNLOAD && o->workload != PERF_WL_RR;

	if (o->stack == PERF_STACK_MPT) {
		if (perf_mpt_open(o, &rt, err, sizeof(err)) ||
		    perf_mpt_connect(rt, o, &c, err, sizeof(err))) {
			if (perf_interrupted)
				return report_stopped(&r, rt, "while connecting", out);
			fprintf(stderr, "mpt-perf: %s\n", err);
			mpt_rt_close(rt);
			return 1;
		}
		r.rt = rt;
		r.start_mono_ns = mono_ns();
		perf_conn_addrs(&c, &r.local, &r.peer);
	} else {
		c.fd = client_connect(o, &r, err, sizeof(err));
		if (c.fd < 0 && perf_interrupted)
			return report_stopped(&r, NULL, "while connecting", out);
		if (c.fd < 0) {
			fprintf(stderr, "mpt-perf: %s\n", err);
			return 1;
		}
	}
	perf_conn_congestion(&c, o, r.congestion, sizeof(r.congestion));
	report_scheduler(o, r.scheduler, sizeof(r.scheduler));
	report_path_manager(o, r.path_manager, sizeof(r.path_manager));
	if (congestion_mismatch(o, r.congestion)) {
		fprintf(stderr, "mpt-perf: %s\n", congestion_mismatch(o, r.congestion));
		perf_conn_close(&c);
		mpt_rt_close(rt);
		return 1;
	}
	if (o->workload != PERF_WL_BULK)
		set_nodelay(&c);
	perf_hdr_encode(&r.hdr, hb, sizeof(hb));
	rc = perf_conn_write_all(&c, hb, sizeof(hb));
	if (rc) {
		set_error(&r, "sending the header: %s", strerror(-rc));
	} else if (o->workload == PERF_WL_RR) {
		run_rr_client(&c, &r);
	} else if (r.receiver) {
		run_receiver(&c, &r, mono_ns());
	} else {
		run_sender(&c, &r, &pre);
		finish_sender(&c, &r, &pre);
	}
	note_rcvbuf(&c, &r);
	perf_conn_close(&c);
	status = report_emit(&r, out);
	mpt_rt_close(rt);
	return status;
}

/* --- server -------------------------------------------------------------------------- */

static int server_listen(const struct perf_opts *o, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL,
			*ai;
	char port[8];
	int fd = -1, one = 1, zero = 0, rc;

	snprintf(port, sizeof(port), "%u", o->port);
	if (!o->bind)
		hints.ai_family = AF_INET6; /* "::", dual-stack below */
	rc = getaddrinfo(o->bind, port, &hints, &res);
	if (rc && !o->bind) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, port, &hints, &res);
	}
	if (rc) {
		snprintf(err, errlen, "-B %s: %s", o->bind ? o->bind : "(any)", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = open_socket(o, ai->ai_family, err, errlen);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !o->bind)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		snprintf(err, errlen, "listen on %s port %u: %s (pick another -p or -B)",
			 o->bind ? o->bind : "(any)", o->port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int serve_one(const struct perf_opts *o, struct perf_conn *c, struct report *r,
		     unsigned long *bad_headers)
{
	struct timeval tv = {.tv_sec = PERF_HDR_TIMEOUT_S}, none = {0};
	uint8_t hb[PERF_HDR_LEN];
	char peer[INET6_ADDRSTRLEN + 16];
	struct perf_sockinfo pre;
	ptrdiff_t n, rc;

	fmt_sockaddr(&r->peer, peer, sizeof(peer));
	perf_conn_congestion(c, o, r->congestion, sizeof(r->congestion));
	report_scheduler(o, r->scheduler, sizeof(r->scheduler));
	report_path_manager(o, r->path_manager, sizeof(r->path_manager));
	if (congestion_mismatch(o, r->congestion))
		set_error(r, "%s", congestion_mismatch(o, r->congestion));
	if (c->rt)
		c->rd_deadline = mono_ns() + PERF_HDR_TIMEOUT_S * 1000000000ull;
	else
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read_full(c, hb, sizeof(hb));
	if (c->rt)
		c->rd_deadline = 0;
	else
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	if (n < 0 || n < PERF_HDR_LEN) {
		++*bad_headers;
		fprintf(stderr,
			"mpt-perf: client %s: no complete header (%s); closed (%lu so far)\n", peer,
			n < 0 ? strerror((int)-n) : "connection closed", *bad_headers);
		return -1;
	}
	rc = perf_hdr_decode(&r->hdr, hb, sizeof(hb));
	if (rc < 0) {
		uint8_t rej[PERF_REJ_LEN];

		/* say why before closing, so the client can report it (best effort) */
		if (perf_rej_encode(rc, rej, sizeof(rej)) == PERF_REJ_LEN)
			perf_conn_write_all(c, rej, sizeof(rej));
		++*bad_headers;
		fprintf(stderr, "mpt-perf: client %s: bad header: %s; closed (%lu so far)\n", peer,
			perf_proto_strerror(rc), *bad_headers);
		return -1;
	}
	r->have_hdr = true;
	r->receiver = r->hdr.dir == PERF_UPLOAD;
	if (r->hdr.workload != PERF_WL_BULK)
		set_nodelay(c);
	if (r->hdr.workload == PERF_WL_RR) {
		r->receiver = false;
		run_rr_server(c, r);
	} else if (r->receiver) {
		run_receiver(c, r, mono_ns());
	} else {
		run_sender(c, r, &pre);
		finish_sender(c, r, &pre);
	}
	note_rcvbuf(c, r);
	return 0;
}

static void signal_ready(const struct perf_opts *o)
{
	if (o->ready_fd >= 0) {
		if (write_all(o->ready_fd, "ready\n", 6))
			fprintf(stderr, "mpt-perf: --ready-fd %d: %s\n", o->ready_fd,
				strerror(errno));
		close(o->ready_fd);
	}
}

static int run_server_mpt(const struct perf_opts *o, FILE *out)
{
	unsigned long bad_headers = 0;
	char err[PERF_ERRLEN];
	struct mpt_rt *rt = NULL;
	uint32_t lids[2];
	int nl, status = 0, served = 0;

	if (perf_mpt_open(o, &rt, err, sizeof(err)) ||
	    (nl = perf_mpt_listen(rt, o, lids, err, sizeof(err))) < 0) {
		fprintf(stderr, "mpt-perf: %s\n", err);
		mpt_rt_close(rt);
		return 1;
	}
	signal_ready(o);
	for (;;) {
		struct report r = {.o = o, .rt = rt};
		struct perf_conn c = {.fd = -1};

		if (perf_mpt_accept(rt, lids, nl, &c)) {
			if (perf_interrupted && !served) {
				mark_interrupted(&r, "before a client came", 0);
				report_emit(&r, out);
			} else if (!perf_interrupted)
				fprintf(stderr, "mpt-perf: accept: runtime failed\n");
			status = 1;
			break;
		}
		r.start_mono_ns = mono_ns();
		perf_conn_addrs(&c, &r.local, &r.peer);
		if (serve_one(o, &c, &r, &bad_headers) < 0)
			status = 1;
		perf_conn_close(&c);
		if (r.have_hdr)
			status = report_emit(&r, out);
		served++;
		if (o->once)
			break;
	}
	mpt_rt_close(rt);
	return status;
}

static int run_server(const struct perf_opts *o, FILE *out)
{
	unsigned long bad_headers = 0;
	char err[PERF_ERRLEN];
	int lfd, status = 0, served = 0;

	if (o->stack == PERF_STACK_MPT)
		return run_server_mpt(o, out);
	lfd = server_listen(o, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "mpt-perf: %s\n", err);
		return 1;
	}
	signal_ready(o);
	for (;;) {
		struct report r = {.o = o};
		socklen_t len = sizeof(r.peer);
		struct perf_conn c = {.fd = -1};

		/* a stop signal that came during the last connection interrupts no accept */
		c.fd = perf_interrupted
			       ? -1
			       : accept4(lfd, (struct sockaddr *)&r.peer, &len, SOCK_CLOEXEC);
		if (c.fd < 0) {
			if (perf_interrupted) {
				if (!served) {
					mark_interrupted(&r, "before a client came", 0);
					report_emit(&r, out);
				}
				status = 1;
				break;
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "mpt-perf: accept: %s\n", strerror(errno));
			status = 1;
			break;
		}
		r.start_mono_ns = mono_ns();
		len = sizeof(r.local);
		getsockname(c.fd, (struct sockaddr *)&r.local, &len);
		if (serve_one(o, &c, &r, &bad_headers) < 0)
			status = 1;
		else
			status = report_emit(&r, out);
		perf_conn_close(&c);
		served++;
		if (o->once)
			break;
	}
	close(lfd);
	return status;
}

int main(int argc, char **argv)
{
	struct perf_opts o;
	char err[PERF_ERRLEN];
	FILE *out = stdout;
	int status;

	if (perf_args_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "mpt-perf: %s\n", err);
		return 2;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (o.congestion_list) {
		const char *desc;

		for (unsigned i = 0; mpt_cc_name(i, &desc); i++)
			printf("%-12s %s\n", mpt_cc_name(i, NULL), desc);
		return 0;
	}
	if (o.scheduler_list) {
		const char *desc;

		for (unsigned i = 0; mpt_scheduler_name(i, &desc); i++)
			printf("%-12s %s\n", mpt_scheduler_name(i, NULL), desc);
		return 0;
	}
	if (o.path_manager_list) {
		const char *desc;

		for (unsigned i = 0; mpt_path_manager_name(i, &desc); i++)
			printf("%-12s %s\n", mpt_path_manager_name(i, NULL), desc);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	install_stop_handlers();
	if (o.logfile) {
		out = fopen(o.logfile, "w");
		if (!out) {
			fprintf(stderr, "mpt-perf: --logfile %s: %s\n", o.logfile, strerror(errno));
			return 2;
		}
	}
	status = o.role == PERF_ROLE_SERVER ? run_server(&o, out) : run_client(&o, out);
	if (out != stdout)
		fclose(out);
	return status;
}
