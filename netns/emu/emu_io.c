/* The link emulator's forwarding loop: see emu_io.h. */
#include "emu_io.h"
#include "emu_config.h"
#include "emu_ctl.h"
#include "emu_dir.h"
#include "emu_gso.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VNET_LEN     ((uint32_t)sizeof(struct virtio_net_hdr))
#define BATCH	     64
#define FRAME_MAX    (65536 + 256)
#define RX_ROUNDS    8
#define EMU_SPIN_MIN 20000ull /* ns spun before a departure at least */
#define EMU_SPIN_MAX                                                                             \
	400000ull /* and at most */ /* batches read per wake-up per socket before looking at the \
				       clock */

enum { EV_SOCK0 = 0, EV_SOCK1, EV_LISTEN, EV_SIGNAL, EV_TIMER, EV_CONN };

struct link {
	struct emu_config cfg;
	struct emu_dir *dir[2];
	int sock[2];
	int ifindex[2];
	int listen_fd, sig_fd, timer_fd, ep;
	pcap_t *pcap_dead;
	pcap_dumper_t *pcap[2];
	bool blackhole;
	uint64_t carrier_events, tx_errors, rx_errors;
	/* GSO super-frames received; the wire segments made of them; those that
	 * could not be segmented (unknown type, malformed) and went through whole */
	uint64_t gso_frames, gso_segments, gso_unsegmented;
	int tx_last_errno;
	int64_t rt_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for pcap timestamps */
	uint64_t timer_armed;
	const struct emu_opts *opts;
	/* rx batch */
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll[BATCH];
	uint8_t cmsg[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	uint8_t *bufs;
	uint8_t *seg; /* one segment being cut from a GSO frame (vnet header + frame) */
	/* timer wake-up lateness, to size the spin before a departure */
	uint64_t late_ewma, spin_ns;
	/* spin budget: time spent spinning in the current window */
	uint64_t spin_win_start, spin_win_used, spin_since;
	uint64_t spin_skipped; /* departures slept for because the budget was spent */
	bool spin_fixed;
	uint64_t rt_offset_at;
	uint64_t last_activity;	 /* last frame in or out (busy polling lingers after it) */
	bool rt;		 /* running SCHED_FIFO */
	struct emu_hist tx_late; /* handed to the kernel - emulated departure */
	struct emu_hist rx_late; /* read by the emulator - kernel receive timestamp */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int emu_disable_offloads(const char *ifname)
{
	static const uint32_t cmds[] = {ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_SUFO};
	struct ethtool_value ev;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, ifname);
		ev.cmd = cmds[i];
		ev.data = 0;
		ifr.ifr_data = (void *)&ev;
		if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP && errno != EINVAL &&
		    !rc)
			rc = -errno;
	}
	close(fd);
	return rc;
}

/* ---- frames -------------------------------------------------------------------- */

/* Ones' complement sum over [p, p + len). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		sum += (uint32_t)(p[i] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Finish a CHECKSUM_PARTIAL frame in software, as skb_checksum_help() would (the
 * checksum field holds the pseudo-header sum).  Needed before a bit is flipped,
 * or the kernel would checksum the corrupted bytes and hide the corruption. */
static void finish_csum(struct virtio_net_hdr *vh, uint8_t *f, size_t len)
{
	size_t start = vh->csum_start, off = start + vh->csum_offset;
	uint16_t c;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || off + 2 > len || start >= len)
		return;
	c = (uint16_t)~csum_add(0, f + start, len - start);
	if (!c)
		c = 0xffff;
	f[off] = (uint8_t)(c >> 8);
	f[off + 1] = (uint8_t)c;
	vh->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
}

/* Bytes a frame costs on the wire: a GSO frame that could not be segmented
 * counts every segment's headers. */
static uint32_t wire_len(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len)
{
	bool l4;
	size_t hdrs, payload, segs;

	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE || !vh->gso_size)
		return (uint32_t)len;
	hdrs = emu_frame_payload_off(f, len, &l4);
	if (!l4 || hdrs >= len)
		return (uint32_t)len;
	payload = len - hdrs;
	segs = (payload + vh->gso_size - 1) / vh->gso_size;
	return (uint32_t)(len + (segs - 1) * hdrs);
}

/* ---- stats --------------------------------------------------------------------- */

static json_t *dir_json(const struct emu_dir *d)
{
	const struct emu_dir_stats *s = emu_dir_stats(d);
	const struct emu_hist *h = &s->qdelay;
	json_t *drops = json_object();

	for (int c = 0; c < EMU_DROP_NCAUSES; c++)
		json_object_set_new(drops, emu_drop_cause_name((enum emu_drop_cause)c),
				    json_integer((json_int_t)s->drops[c]));
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "pkts_in", (json_int_t)s->pkts_in, "bytes_in", (json_int_t)s->bytes_in,
			 "pkts_out", (json_int_t)s->pkts_out, "bytes_out", (json_int_t)s->bytes_out,
			 "drops", drops, "duplicated", (json_int_t)s->duplicated, "corrupted",
			 (json_int_t)s->corrupted, "reordered", (json_int_t)s->reordered,
			 "rewritten", (json_int_t)s->rewritten, "queued_pkts",
			 (json_int_t)s->queued_pkts, "queued_bytes", (json_int_t)s->queued_bytes,
			 "held_pkts", (json_int_t)s->held_pkts, "qdelay_ns", "count",
			 (json_int_t)h->count, "p50", (json_int_t)emu_hist_percentile(h, 0.50),
			 "p90", (json_int_t)emu_hist_percentile(h, 0.90), "p99",
			 (json_int_t)emu_hist_percentile(h, 0.99), "max", (json_int_t)h->max_ns,
			 "mean", (json_int_t)(h->count ? h->sum_ns / h->count : 0));
}

static json_t *hist_json(const struct emu_hist *h)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count, "p50",
			 (json_int_t)emu_hist_percentile(h, 0.50), "p90",
			 (json_int_t)emu_hist_percentile(h, 0.90), "p99",
			 (json_int_t)emu_hist_percentile(h, 0.99), "max", (json_int_t)h->max_ns,
			 "mean", (json_int_t)(h->count ? h->sum_ns / h->count : 0));
}

static json_t *stats_json(const struct link *l)
{
	return json_pack("{s:s, s:b, s:I, s:I, s:i, s:I, s:I, s:I, s:I, s:o, s:o,"
			 " s:{s:o, s:o, s:I, s:I, s:b, s:I}}",
			 "link", l->cfg.link, "blackhole", l->blackhole, "carrier_events",
			 (json_int_t)l->carrier_events, "tx_errors", (json_int_t)l->tx_errors,
			 "tx_last_errno", l->tx_last_errno, "rx_errors", (json_int_t)l->rx_errors,
			 "gso_frames", (json_int_t)l->gso_frames, "gso_segments",
			 (json_int_t)l->gso_segments, "gso_unsegmented",
			 (json_int_t)l->gso_unsegmented, "up", dir_json(l->dir[0]), "down",
			 dir_json(l->dir[1]), "timing", "rx_late_ns", hist_json(&l->rx_late),
			 "tx_late_ns", hist_json(&l->tx_late), "spin_ns", (json_int_t)l->spin_ns,
			 "spin_skipped", (json_int_t)l->spin_skipped, "rt", l->rt, "busy_poll_ns",
			 (json_int_t)l->opts->busy_ns);
}

static void write_stats_file(const struct link *l)
{
	char tmp[4096];
	json_t *j;
	FILE *f;

	if (!l->opts->stats_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", l->opts->stats_path);
	j = stats_json(l);
	f = fopen(tmp, "w");
	if (!f || !j || json_dumpf(j, f, JSON_INDENT(2)) || fputc('\n', f) == EOF) {
		fprintf(stderr, "mpnet-linkemu: cannot write %s\n", tmp);
		if (f)
			fclose(f);
		json_decref(j);
		return;
	}
	json_decref(j);
	if (fclose(f) || rename(tmp, l->opts->stats_path))
		fprintf(stderr, "mpnet-linkemu: cannot write %s\n", l->opts->stats_path);
}

/* ---- control ------------------------------------------------------------------- */

static json_t *ctl_error(int err, const char *msg)
{
	return json_pack("{s:b, s:i, s:s}", "ok", 0, "errno", err, "error", msg);
}

static json_t *ctl_set(struct link *l, json_t *req)
{
	json_t *jd = json_object_get(req, "dirs");
	struct topo_dir p;
	struct emu_trace tr = {0};
	char err[256];
	int mask, rc = 0;
	uint64_t now = mono_ns();

	if (!json_is_integer(jd) || json_integer_value(jd) < 1 || json_integer_value(jd) > 3)
		return ctl_error(EINVAL, "dirs: expected 1, 2 or 3");
	mask = (int)json_integer_value(jd);
	if (emu_params_from_json(json_object_get(req, "params"), &p, err, sizeof(err)))
		return ctl_error(EINVAL, err);
	if ((p.set & TOPO_F_TRACE) && p.trace[0] && emu_trace_load(p.trace, &tr, err, sizeof(err)))
		return ctl_error(EINVAL, err);
	/* check both before changing either, so a set is all or nothing */
	for (int i = 0; i < 2 && !rc; i++) {
		if (!(mask & (1 << i)))
			continue;
		struct emu_dir *probe = emu_dir_new(emu_dir_params(l->dir[i]), NULL, 0, 0, 0, now);

		/* a trace-less copy of the current parameters, to validate the change */
		if (probe) {
			struct topo_dir q = p;

			q.set &= ~(uint32_t)TOPO_F_TRACE;
			rc = emu_dir_set(probe, &q, NULL, now);
			emu_dir_free(probe);
		}
	}
	for (int i = 0; i < 2 && !rc; i++)
		if (mask & (1 << i))
			rc = emu_dir_set(l->dir[i], &p, &tr, now);
	emu_trace_free(&tr);
	if (rc)
		return ctl_error(-rc, "invalid parameters");
	return json_pack("{s:b}", "ok", 1);
}

static void ctl_handle(struct link *l, int fd)
{
	static char buf[EMU_CTL_MSG_MAX + 1];
	ssize_t n = recv(fd, buf, EMU_CTL_MSG_MAX, MSG_DONTWAIT);
	json_t *req, *rep = NULL;
	const char *cmd;
	char *text;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return;
	}
	buf[n] = '\0';
	req = json_loads(buf, 0, NULL);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd) {
		rep = ctl_error(EINVAL, "expected {\"cmd\": ...}");
	} else if (!strcmp(cmd, "set")) {
		rep = ctl_set(l, req);
	} else if (!strcmp(cmd, "blackhole")) {
		json_t *on = json_object_get(req, "on");

		if (!json_is_boolean(on)) {
			rep = ctl_error(EINVAL, "on: expected true or false");
		} else {
			l->blackhole = json_is_true(on);
			emu_dir_set_blackhole(l->dir[0], l->blackhole);
			emu_dir_set_blackhole(l->dir[1], l->blackhole);
			rep = json_pack("{s:b}", "ok", 1);
		}
	} else if (!strcmp(cmd, "stats")) {
		rep = json_pack("{s:b, s:o}", "ok", 1, "stats", stats_json(l));
	} else {
		rep = ctl_error(EINVAL, "unknown cmd");
	}
	json_decref(req);
	text = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
	json_decref(rep);
	if (text) {
		send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(text);
	}
}

/* ---- packets ------------------------------------------------------------------- */

static bool carrier_errno(int e)
{
	return e == ENETDOWN || e == ENXIO || e == ENODEV || e == ENETUNREACH;
}

static void carrier_lost(struct link *l)
{
	l->carrier_events++;
	emu_dir_flush(l->dir[0], EMU_DROP_CARRIER);
	emu_dir_flush(l->dir[1], EMU_DROP_CARRIER);
}

static void sock_error(struct link *l, int s)
{
	int e = 0;
	socklen_t len = sizeof(e);

	getsockopt(l->sock[s], SOL_SOCKET, SO_ERROR, &e, &len);
	if (carrier_errno(e))
		carrier_lost(l);
	else if (e)
		l->rx_errors++;
}

/* When the kernel received a frame (SO_TIMESTAMPNS, CLOCK_REALTIME, mapped to
 * CLOCK_MONOTONIC), so the emulator's own wake-up latency is not added to the
 * emulated delay.  Falls back to `now`; never later than now. */
static uint64_t rx_time(const struct link *l, struct msghdr *m, uint64_t now)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		struct timespec ts;
		int64_t t;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		t = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec - l->rt_offset;
		if (t > 0 && (uint64_t)t <= now && now - (uint64_t)t < 100000000ull)
			return (uint64_t)t;
	}
	return now;
}

static void update_rt_offset(struct link *l, uint64_t now)
{
	struct timespec rt, mo;

	if (l->rt_offset_at && now - l->rt_offset_at < 1000000000ull)
		return;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mo);
	l->rt_offset = ((int64_t)rt.tv_sec - (int64_t)mo.tv_sec) * 1000000000ll +
		       ((int64_t)rt.tv_nsec - (int64_t)mo.tv_nsec);
	l->rt_offset_at = now;
}

/* Cut a GSO super-frame b[0 .. len) (virtio-net header first) into wire segments
 * and hand each to the model, all with the super-frame's arrival time: every
 * model (loss, duplication, corruption, rate, counters, pcap) then sees the
 * packets a wire would carry.  The segments carry a zero virtio-net header (their
 * checksums are complete).  Returns false when the frame is not one emu_gso
 * handles (the caller forwards it whole). */
static bool gso_enqueue(struct link *l, struct emu_dir *d, const uint8_t *b, uint32_t len,
			uint64_t at)
{
	struct emu_gso g;
	int n = emu_gso_init(&g, b, VNET_LEN, b + VNET_LEN, len - VNET_LEN);

	if (n <= 0)
		return false;
	memset(l->seg, 0, VNET_LEN);
	for (int i = 0; i < n; i++) {
		ptrdiff_t sl =
			emu_gso_segment(&g, (size_t)i, l->seg + VNET_LEN, FRAME_MAX - VNET_LEN);

		if (sl < 0) /* cannot happen: a segment is never larger than the frame */
			return i > 0;
		emu_dir_enqueue(d, l->seg, VNET_LEN + (size_t)sl, VNET_LEN, 0, at);
		l->gso_segments++;
	}
	return true;
}

/* Read what socket s has (frames entering direction s). */
static void rx(struct link *l, int s)
{
	struct emu_dir *d = l->dir[s];
	/* corruption and rewriting need complete checksums to work on */
	bool corrupt = emu_dir_params(d)->corrupt > 0.0 || emu_dir_params(d)->rewrite > 0;

	for (int round = 0; round < RX_ROUNDS; round++) {
		int n;
		uint64_t now;

		for (int i = 0; i < BATCH; i++) {
			l->msgs[i].msg_hdr.msg_namelen = sizeof(l->sll[i]);
			l->msgs[i].msg_hdr.msg_control = l->cmsg[i];
			l->msgs[i].msg_hdr.msg_controllen = sizeof(l->cmsg[i]);
			l->msgs[i].msg_len = 0;
		}
		n = recvmmsg(l->sock[s], l->msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (carrier_errno(errno))
				carrier_lost(l);
			else
				l->rx_errors++;
			return;
		}
		now = mono_ns();
		if (n > 0)
			l->last_activity = now;
		for (int i = 0; i < n; i++) {
			uint8_t *b = l->iov[i].iov_base;
			uint32_t len = l->msgs[i].msg_len;
			struct virtio_net_hdr *vh = (struct virtio_net_hdr *)b;
			uint64_t at;

			if (l->sll[i].sll_pkttype == PACKET_OUTGOING || len < VNET_LEN + 14 ||
			    (l->msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			at = rx_time(l, &l->msgs[i].msg_hdr, now);
			emu_hist_add(&l->rx_late, now - at);
			if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
				l->gso_frames++;
				if (gso_enqueue(l, d, b, len, at))
					continue;
				l->gso_unsegmented++;
			} else if (corrupt) {
				finish_csum(vh, b + VNET_LEN, len - VNET_LEN);
			}
			emu_dir_enqueue(d, b, len, VNET_LEN,
					wire_len(vh, b + VNET_LEN, len - VNET_LEN), at);
		}
		if (n < BATCH)
			return;
	}
}

static void dump_pcap(struct link *l, int s, const struct emu_pkt *p)
{
	struct pcap_pkthdr h;
	uint64_t t = p->depart_ns + (uint64_t)l->rt_offset;

	if (!l->pcap[s])
		return;
	h.ts.tv_sec = (time_t)(t / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(t % 1000000000ull / 1000);
	h.caplen = h.len = p->len - p->l2_off;
	pcap_dump((u_char *)l->pcap[s], &h, p->data + p->l2_off);
}

/* Send what direction s has due by now out of the other interface. */
static void tx(struct link *l, int s, uint64_t now)
{
	struct emu_dir *d = l->dir[s];
	int out = l->sock[1 - s];

	for (;;) {
		struct emu_pkt *pk[BATCH];
		struct mmsghdr m[BATCH];
		struct iovec v[BATCH];
		int n = 0, done = 0;

		while (n < BATCH && (pk[n] = emu_dir_dequeue(d, now))) {
			v[n].iov_base = pk[n]->data;
			v[n].iov_len = pk[n]->len;
			memset(&m[n], 0, sizeof(m[n]));
			m[n].msg_hdr.msg_iov = &v[n];
			m[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		if (!n)
			return;
		while (done < n) {
			/* lateness at the hand-off: sendmmsg itself runs the peer's receive
			 * path (veth), which is not the emulator's scheduling */
			uint64_t t = mono_ns();
			int r = sendmmsg(out, m + done, (unsigned)(n - done), MSG_DONTWAIT);

			if (r > 0) {
				l->last_activity = t;
				for (int i = done; i < done + r; i++) {
					emu_hist_add(&l->tx_late, t > pk[i]->depart_ns
									  ? t - pk[i]->depart_ns
									  : 0);
					dump_pcap(l, s, pk[i]);
				}
				done += r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			/* the frame at `done` could not be sent */
			if (r < 0 && carrier_errno(errno)) {
				emu_dir_count_drop(d, EMU_DROP_CARRIER);
				carrier_lost(l);
			} else {
				l->tx_errors++;
				l->tx_last_errno = r < 0 ? errno : 0;
			}
			done++;
		}
		for (int i = 0; i < n; i++)
			emu_pkt_free(pk[i]);
		if (n < BATCH)
			return;
	}
}

/* ---- set-up -------------------------------------------------------------------- */

static int open_packet_sock(const char *ifname, int *ifindex)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	int one = 1, buf = 8 << 20, fd;

	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex)
		return -errno;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	/* No PACKET_QDISC_BYPASS: its direct transmit drops a GSO frame that the
	 * device cannot take whole (ENOBUFS) instead of segmenting it; veth has no
	 * qdisc ("noqueue") anyway, so dev_queue_xmit costs little. */
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	mr.mr_ifindex = *ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

static int open_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void no_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	/* e0/e1 are a wire: no addresses, no neighbour discovery of their own */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1\n", 2) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

static int ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int setup(struct link *l, const struct emu_opts *o)
{
	char err[512];
	sigset_t ss;
	uint64_t now = mono_ns();

	if (emu_config_read(o->config_path, &l->cfg, err, sizeof(err))) {
		fprintf(stderr, "mpnet-linkemu: %s\n", err);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		struct emu_trace tr = {0};

		if (l->cfg.dir[i].trace[0] &&
		    emu_trace_load(l->cfg.dir[i].trace, &tr, err, sizeof(err))) {
			fprintf(stderr, "mpnet-linkemu: %s\n", err);
			return -1;
		}
		l->dir[i] =
			emu_dir_new(&l->cfg.dir[i], &tr, l->cfg.seed, l->cfg.link_index, i, now);
		emu_trace_free(&tr);
		if (!l->dir[i]) {
			fprintf(stderr, "mpnet-linkemu: %s: invalid parameters for %s\n",
				o->config_path, i ? "down" : "up");
			return -1;
		}
	}
	/* Frames are malloc'ed one by one (a GSO frame becomes ~45 of them): keep
	 * freed heap memory mapped instead of trimming and faulting it in again,
	 * which cost a third of the emulator's time at ~1 Gbit/s. */
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	l->bufs = malloc((size_t)BATCH * FRAME_MAX);
	l->seg = malloc(FRAME_MAX);
	if (!l->bufs || !l->seg)
		return -1;
	for (int i = 0; i < BATCH; i++) {
		l->iov[i].iov_base = l->bufs + (size_t)i * FRAME_MAX;
		l->iov[i].iov_len = FRAME_MAX;
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
		l->msgs[i].msg_hdr.msg_name = &l->sll[i];
	}
	for (int i = 0; i < 2; i++) {
		int rc;

		no_ipv6(l->cfg.ifname[i]);
		rc = emu_disable_offloads(l->cfg.ifname[i]);
		if (rc)
			fprintf(stderr, "mpnet-linkemu: %s: offloads: %s (continuing)\n",
				l->cfg.ifname[i], strerror(-rc));
		l->sock[i] = open_packet_sock(l->cfg.ifname[i], &l->ifindex[i]);
		if (l->sock[i] < 0) {
			fprintf(stderr, "mpnet-linkemu: %s: %s\n", l->cfg.ifname[i],
				strerror(-l->sock[i]));
			return -1;
		}
	}
	l->listen_fd = open_listen(o->control_path);
	if (l->listen_fd < 0) {
		fprintf(stderr, "mpnet-linkemu: %s: %s\n", o->control_path,
			strerror(-l->listen_fd));
		return -1;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	l->sig_fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->sig_fd < 0 || l->timer_fd < 0 || l->ep < 0 || ep_add(l->ep, l->sock[0], EV_SOCK0) ||
	    ep_add(l->ep, l->sock[1], EV_SOCK1) || ep_add(l->ep, l->listen_fd, EV_LISTEN) ||
	    ep_add(l->ep, l->sig_fd, EV_SIGNAL) || ep_add(l->ep, l->timer_fd, EV_TIMER)) {
		perror("mpnet-linkemu: epoll");
		return -1;
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (o->rt_prio > 0 || o->rt_prio == EMU_RT_AUTO) {
		struct sched_param sp = {.sched_priority =
						 o->rt_prio > 0 ? o->rt_prio : EMU_RT_DEFAULT_PRIO};

		/* SCHED_FIFO: a wake-up preempts whatever else runs on the core.
		 * Not with busy polling, which would then starve that core's other
		 * tasks down to the RT throttling share. */
		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
			l->rt = true;
		else if (o->rt_prio > 0)
			fprintf(stderr, "mpnet-linkemu: SCHED_FIFO %d: %s (continuing)\n",
				o->rt_prio, strerror(errno));
	}
	update_rt_offset(l, mono_ns());
	if (o->pcap_dir) {
		l->pcap_dead = pcap_open_dead(DLT_EN10MB, FRAME_MAX);
		for (int i = 0; i < 2 && l->pcap_dead; i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s-%s.pcap", o->pcap_dir, l->cfg.link,
				 i ? "down" : "up");
			l->pcap[i] = pcap_dump_open(l->pcap_dead, path);
			if (!l->pcap[i]) {
				fprintf(stderr, "mpnet-linkemu: %s: %s\n", path,
					pcap_geterr(l->pcap_dead));
				return -1;
			}
		}
	}
	return 0;
}

static void teardown(struct link *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->pcap[i])
			pcap_dump_close(l->pcap[i]);
		emu_dir_free(l->dir[i]);
		if (l->sock[i] >= 0)
			close(l->sock[i]);
	}
	if (l->pcap_dead)
		pcap_close(l->pcap_dead);
	if (l->listen_fd >= 0) {
		close(l->listen_fd);
		unlink(l->opts->control_path);
	}
	free(l->bufs);
	free(l->seg);
}

static void arm_timer(struct link *l, uint64_t at)
{
	struct itimerspec its = {0};

	if (at == l->timer_armed)
		return;
	l->timer_armed = at;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ull);
		its.it_value.tv_nsec = (long)(at % 1000000000ull);
	}
	timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The timer fired: learn how late such wake-ups are (a sleeping core in a VM can
 * take 100+ us) and spin for about twice that before each departure. */
static void timer_woke(struct link *l, uint64_t now)
{
	uint64_t late = now > l->timer_armed ? now - l->timer_armed : 0;

	l->timer_armed = UINT64_MAX;
	if (l->spin_fixed)
		return;
	if (late > EMU_SPIN_MAX)
		late = EMU_SPIN_MAX;
	l->late_ewma = (l->late_ewma * 15 + late) / 16;
	l->spin_ns = 2 * l->late_ewma + EMU_SPIN_MIN;
	if (l->spin_ns > EMU_SPIN_MAX)
		l->spin_ns = EMU_SPIN_MAX;
}

/* May the loop spin (poll without sleeping) before a departure?  At most
 * spin_share_pct of each EMU_SPIN_WINDOW_NS: with dense departures (100 Mbit/s:
 * one every ~120 us) an unbounded spin is a busy loop, which under SCHED_FIFO
 * takes the core from everything else on it, and under CFS makes the emulator
 * the task the scheduler makes wait (measured: p99 departure lateness 60 ms at
 * a load average of 4 on 2 vCPUs). */
static bool spin_allowed(struct link *l, uint64_t now)
{
	unsigned pct = l->opts->spin_share_pct ? l->opts->spin_share_pct : EMU_SPIN_SHARE_DEFAULT;

	if (l->spin_since) {
		l->spin_win_used += now - l->spin_since;
		l->spin_since = 0;
	}
	if (now - l->spin_win_start >= EMU_SPIN_WINDOW_NS) {
		l->spin_win_start = now;
		l->spin_win_used = 0;
	}
	return pct >= 100 || l->spin_win_used * 100 < (uint64_t)pct * EMU_SPIN_WINDOW_NS;
}

/* Busy polling: frames inside, or the last one less than busy_ns ago. */
static bool busy_polling(const struct link *l, uint64_t now)
{
	if (!l->opts->busy_ns || l->rt)
		return false;
	if (emu_dir_stats(l->dir[0])->held_pkts || emu_dir_stats(l->dir[1])->held_pkts)
		return true;
	return now - l->last_activity < l->opts->busy_ns;
}

int emu_run(const struct emu_opts *o)
{
	struct link *l = calloc(1, sizeof(*l));
	bool stop = false;
	int status = 0;

	if (!l)
		return 1;
	l->opts = o;
	l->sock[0] = l->sock[1] = l->listen_fd = -1;
	l->timer_armed = UINT64_MAX;
	l->spin_fixed = o->spin_ns != 0;
	l->spin_ns = o->spin_ns ? o->spin_ns : EMU_SPIN_MIN;
	if (setup(l, o)) {
		teardown(l);
		free(l);
		return 1;
	}
	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, "ready\n", 6) != 6)
			perror("mpnet-linkemu: ready-fd");
		close(o->ready_fd);
	}
	while (!stop) {
		struct epoll_event evs[16];
		uint64_t now = mono_ns(), next;
		int timeout = -1, n;
		bool spin;

		update_rt_offset(l, now);
		tx(l, 0, now);
		tx(l, 1, now);
		next = emu_dir_next_event(l->dir[0], now);
		{
			uint64_t n1 = emu_dir_next_event(l->dir[1], now);

			next = n1 < next ? n1 : next;
		}
		spin = spin_allowed(l, now);
		if (next <= now) {
			timeout = 0;
		} else if (busy_polling(l, now)) {
			timeout = 0;
		} else if (next - now <= l->spin_ns && spin) {
			timeout = 0; /* spin: poll without sleeping until the departure */
			l->spin_since = now;
		} else if (next - now <= l->spin_ns) {
			l->spin_skipped += next != l->timer_armed;
			arm_timer(l, next); /* budget spent: sleep until the departure */
		} else {
			arm_timer(l, next - l->spin_ns);
		}
		n = epoll_wait(l->ep, evs, 16, timeout);
		if (n < 0 && errno != EINTR) {
			perror("mpnet-linkemu: epoll_wait");
			status = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			switch (tag) {
			case EV_SOCK0:
			case EV_SOCK1:
				if (evs[i].events & EPOLLERR)
					sock_error(l, (int)tag);
				rx(l, (int)tag);
				break;
			case EV_LISTEN: {
				int c = accept4(l->listen_fd, NULL, NULL,
						SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (c >= 0 && ep_add(l->ep, c, EV_CONN + (uint64_t)c))
					close(c);
				break;
			}
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(l->sig_fd, &si, sizeof(si)) == sizeof(si))
					stop = true;
				break;
			}
			case EV_TIMER: {
				uint64_t x;

				if (read(l->timer_fd, &x, sizeof(x)) < 0) {
					/* nothing: the timer was re-armed */
				}
				timer_woke(l, mono_ns());
				break;
			}
			default:
				ctl_handle(l, (int)(tag - EV_CONN));
				break;
			}
		}
	}
	write_stats_file(l);
	teardown(l);
	free(l);
	return status;
}
