/* The packet-socket backend (see mpt_io.h for the design). */
#include "mpt_io.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PKT_BATCH   64
#define PKT_FRAME   (65536 + 256) /* a GSO frame: up to 64 KiB of IP plus headers */
#define PKT_SEGS    256		  /* segments one recv call can cut GSO frames into */
#define PKT_SOCKBUF (8 << 20)
#define VNET_LEN    sizeof(struct virtio_net_hdr)
#define ETH_LEN	    14

struct pkt_if {
	int ifindex;
	int fd; /* AF_PACKET */
};

struct pkt_io {
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	size_t npaths;
	int txfd[MPT_IO_MAX_PATHS]; /* raw IP socket per path index */
	struct pkt_if ifs[MPT_IO_MAX_PATHS];
	size_t nifs, rr;
	int epfd;
	uint32_t mtu;
	/* received frames not yet handed out */
	uint8_t *frames; /* PKT_BATCH * PKT_FRAME */
	struct mmsghdr rmsg[PKT_BATCH];
	struct iovec riov[PKT_BATCH];
	int nframes, cur, cur_if;
	uint32_t cur_seg; /* next segment of frames[cur] when it is a GSO frame */
	uint8_t *segs;	  /* PKT_SEGS * seg_cap */
	size_t seg_cap;
	struct mpt_io_stats stats;
};

/* Incoming (PACKET_HOST) IPv4 or IPv6 TCP frames only; the rest never leaves the
 * kernel. */
static struct sock_filter tcp_only[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 8),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 2),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ETH_LEN + 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 3, 4),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 3),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ETH_LEN + 6),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0x40000),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static size_t addr_len(const struct mpt_sockaddr *a)
{
	return a->family == MPT_AF_INET ? 4 : 16;
}

/* Run `nft -f -` with script on stdin.  Returns 0 or -1. */
static int nft_apply(const char *script, char *err, size_t errlen)
{
	FILE *p = popen("nft -f - 2>&1", "w");
	int st;

	if (!p) {
		snprintf(err, errlen, "cannot run nft: %s", strerror(errno));
		return -1;
	}
	fputs(script, p);
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(err, errlen,
			 "nft refused the libmpt ownership table (is nftables installed? "
			 "status %d)",
			 st);
		return -1;
	}
	return 0;
}

/* Claim the paths' addresses for TCP: the kernel's prerouting drops TCP to them. */
static int own_addresses(const struct pkt_io *io, char *err, size_t errlen)
{
	char script[8192], a[INET6_ADDRSTRLEN];
	size_t n = 0;

	n += (size_t)snprintf(script + n, sizeof(script) - n,
			      "add table inet libmpt\n"
			      "add set inet libmpt own4 { type ipv4_addr; }\n"
			      "add set inet libmpt own6 { type ipv6_addr; }\n"
			      "add chain inet libmpt pre { type filter hook prerouting "
			      "priority raw; policy accept; }\n"
			      "flush chain inet libmpt pre\n"
			      "add rule inet libmpt pre ip daddr @own4 meta l4proto tcp "
			      "counter drop comment \"TCP here is libmpt's\"\n"
			      "add rule inet libmpt pre ip6 daddr @own6 meta l4proto tcp "
			      "counter drop comment \"TCP here is libmpt's\"\n");
	for (size_t i = 0; i < io->npaths && n < sizeof(script) - 128; i++) {
		const struct mpt_sockaddr *s = &io->paths[i].addr;

		inet_ntop(s->family == MPT_AF_INET ? AF_INET : AF_INET6, s->ip, a, sizeof(a));
		n += (size_t)snprintf(script + n, sizeof(script) - n,
				      "add element inet libmpt %s { %s }\n",
				      s->family == MPT_AF_INET ? "own4" : "own6", a);
	}
	return nft_apply(script, err, errlen);
}

static void pkt_close(void *v)
{
	struct pkt_io *io = v;

	if (!io)
		return;
	for (size_t i = 0; i < io->npaths; i++)
		if (io->txfd[i] >= 0)
			close(io->txfd[i]);
	for (size_t i = 0; i < io->nifs; i++)
		if (io->ifs[i].fd >= 0)
			close(io->ifs[i].fd);
	if (io->epfd >= 0)
		close(io->epfd);
	free(io->frames);
	free(io->segs);
	free(io);
}

static int open_rx(struct pkt_io *io, int ifindex, char *err, size_t errlen)
{
	struct sock_fprog prog = {.len = sizeof(tcp_only) / sizeof(tcp_only[0]),
				  .filter = tcp_only};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, bufsz = PKT_SOCKBUF;
	struct pkt_if *pi = &io->ifs[io->nifs];
	/* protocol 0: nothing is queued before the filter is attached and the bind
	 * names the interface */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	pi->fd = fd;
	pi->ifindex = ifindex;
	io->nifs++;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		snprintf(err, errlen, "AF_PACKET set-up on ifindex %d: %s", ifindex,
			 strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	ev.data.u32 = (uint32_t)(io->nifs - 1);
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_tx(struct pkt_io *io, size_t i, char *err, size_t errlen)
{
	const struct mpt_sockaddr *a = &io->paths[i].addr;
	struct sockaddr_storage ss;
	socklen_t sl;
	int bufsz = PKT_SOCKBUF;
	int fd = socket(a->family == MPT_AF_INET ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC,
			IPPROTO_RAW);

	if (fd < 0) {
		snprintf(err, errlen, "raw IP socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	io->txfd[i] = fd;
	memset(&ss, 0, sizeof(ss));
	if (a->family == MPT_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		sl = sizeof(*s6);
	}
	/* bound to the path's address, so `from ADDR lookup TABLE` rules route it */
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		snprintf(err, errlen, "raw IP socket bound to a path address: %s", strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return 0;
}

static int pkt_open(void **out, const struct mpt_io_path *paths, size_t npaths, uint32_t mtu,
		    char *err, size_t errlen)
{
	struct pkt_io *io;
	int rv = -ENOMEM;

	if (!npaths || npaths > MPT_IO_MAX_PATHS || mtu < 576 || mtu > 65535) {
		snprintf(err, errlen, "bad backend arguments (%zu paths, mtu %u)", npaths, mtu);
		return -EINVAL;
	}
	io = calloc(1, sizeof(*io));
	if (!io) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	io->epfd = -1;
	for (size_t i = 0; i < MPT_IO_MAX_PATHS; i++)
		io->txfd[i] = -1;
	memcpy(io->paths, paths, npaths * sizeof(*paths));
	io->npaths = npaths;
	io->mtu = mtu;
	io->seg_cap = mtu + 64;
	io->frames = malloc((size_t)PKT_BATCH * PKT_FRAME);
	io->segs = malloc((size_t)PKT_SEGS * io->seg_cap);
	if (!io->frames || !io->segs) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < PKT_BATCH; i++) {
		io->riov[i].iov_base = io->frames + (size_t)i * PKT_FRAME;
		io->riov[i].iov_len = PKT_FRAME;
		io->rmsg[i].msg_hdr.msg_iov = &io->riov[i];
		io->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (io->epfd < 0) {
		rv = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	/* ownership first, so no SYN of ours can draw a kernel RST */
	if (own_addresses(io, err, errlen)) {
		rv = -EPERM;
		goto fail;
	}
	for (size_t i = 0; i < npaths; i++) {
		bool seen = false;

		for (size_t j = 0; j < io->nifs; j++)
			seen |= io->ifs[j].ifindex == paths[i].ifindex;
		if (!seen && (rv = open_rx(io, paths[i].ifindex, err, errlen)))
			goto fail;
		if ((rv = open_tx(io, i, err, errlen)))
			goto fail;
	}
	*out = io;
	return 0;
fail:
	pkt_close(io);
	return rv;
}

/* Which path a frame on interface `ifx` addressed to ip[] belongs to; -1 if none. */
static int path_of(const struct pkt_io *io, int ifindex, const uint8_t *ip, size_t len)
{
	int fam = (ip[0] >> 4) == 4 ? MPT_AF_INET : MPT_AF_INET6;
	const uint8_t *dst = fam == MPT_AF_INET ? ip + 16 : ip + 24;

	if (len < (fam == MPT_AF_INET ? 20u : 40u))
		return -1;
	for (size_t i = 0; i < io->npaths; i++) {
		const struct mpt_io_path *p = &io->paths[i];

		if (p->ifindex == ifindex && p->addr.family == fam &&
		    !memcmp(p->addr.ip, dst, addr_len(&p->addr)))
			return (int)i;
	}
	return -1;
}

static int refill(struct pkt_io *io)
{
	for (size_t k = 0; k < io->nifs; k++) {
		size_t i = (io->rr + k) % io->nifs;
		int n = recvmmsg(io->ifs[i].fd, io->rmsg, PKT_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n > 0) {
			io->rr = i + 1;
			io->nframes = n;
			io->cur = 0;
			io->cur_if = (int)i;
			io->cur_seg = 0;
			io->stats.rx_frames += (uint64_t)n;
			return n;
		}
	}
	return 0;
}

static int pkt_recv(void *v, struct mpt_io_pkt *pkts, unsigned n)
{
	struct pkt_io *io = v;
	unsigned out = 0, seg = 0;

	if (io->cur >= io->nframes) {
		int rv = refill(io);

		if (rv <= 0)
			return rv;
	}
	while (out < n && io->cur < io->nframes) {
		uint8_t *f = io->frames + (size_t)io->cur * PKT_FRAME;
		size_t flen = io->rmsg[io->cur].msg_len;
		const struct virtio_net_hdr *vh = (const struct virtio_net_hdr *)f;
		uint8_t *ip = f + VNET_LEN + ETH_LEN;
		size_t iplen = flen > VNET_LEN + ETH_LEN ? flen - VNET_LEN - ETH_LEN : 0;
		int path = iplen ? path_of(io, io->ifs[io->cur_if].ifindex, ip, iplen) : -1;
		uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

		if (path < 0) {
			io->cur++;
			continue;
		}
		if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) {
			ptrdiff_t r;

			if (io->cur_seg == 0)
				io->stats.rx_gso_frames++;
			if (seg >= PKT_SEGS)
				break; /* the arena is full: the rest of this frame next call */
			r = mpt_io_gso_segment(ip, iplen, vh->gso_size, io->cur_seg,
					       io->segs + seg * io->seg_cap, io->seg_cap);
			if (r <= 0) {
				if (r < 0)
					io->stats.rx_dropped++;
				io->cur++;
				io->cur_seg = 0;
				continue;
			}
			pkts[out].data = io->segs + seg * io->seg_cap;
			pkts[out].len = (uint32_t)r;
			pkts[out].path = io->paths[path].id;
			out++;
			seg++;
			io->cur_seg++;
			continue;
		}
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			if (mpt_io_tcp_csum_fix(ip, iplen)) {
				io->stats.rx_dropped++;
				io->cur++;
				continue;
			}
			io->stats.rx_csum_fixed++;
		}
		pkts[out].data = ip;
		pkts[out].len = (uint32_t)iplen;
		pkts[out].path = io->paths[path].id;
		out++;
		io->cur++;
	}
	return (int)out;
}

static int path_index(const struct pkt_io *io, uint32_t id)
{
	for (size_t i = 0; i < io->npaths; i++)
		if (io->paths[i].id == id)
			return (int)i;
	return -1;
}

static int pkt_send(void *v, const struct mpt_io_pkt *pkts, unsigned n)
{
	struct pkt_io *io = v;
	struct mmsghdr m[PKT_BATCH];
	struct iovec iov[PKT_BATCH];
	struct sockaddr_storage dst[PKT_BATCH];
	unsigned done = 0;

	while (done < n) {
		int pi = path_index(io, pkts[done].path);
		unsigned k = 0;
		int sent;

		if (pi < 0) {
			io->stats.tx_errors++;
			done++;
			continue;
		}
		/* a run of datagrams for the same path: one sendmmsg */
		while (done + k < n && k < PKT_BATCH && pkts[done + k].path == pkts[done].path) {
			const struct mpt_io_pkt *p = &pkts[done + k];

			memset(&m[k], 0, sizeof(m[k]));
			memset(&dst[k], 0, sizeof(dst[k]));
			if (io->paths[pi].addr.family == MPT_AF_INET) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&dst[k];

				s4->sin_family = AF_INET;
				if (p->len >= 20)
					memcpy(&s4->sin_addr, p->data + 16, 4);
				m[k].msg_hdr.msg_namelen = sizeof(*s4);
			} else {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst[k];

				s6->sin6_family = AF_INET6;
				if (p->len >= 40)
					memcpy(&s6->sin6_addr, p->data + 24, 16);
				m[k].msg_hdr.msg_namelen = sizeof(*s6);
			}
			iov[k].iov_base = p->data;
			iov[k].iov_len = p->len;
			m[k].msg_hdr.msg_name = &dst[k];
			m[k].msg_hdr.msg_iov = &iov[k];
			m[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		for (unsigned j = 0; j < k;) {
			sent = sendmmsg(io->txfd[pi], m + j, k - j, 0);
			if (sent < 0) {
				if (errno == EINTR)
					continue;
				/* this datagram was refused (EMSGSIZE, ENETUNREACH...):
				 * a loss as far as TCP is concerned */
				io->stats.tx_errors++;
				j++;
				continue;
			}
			io->stats.tx_packets += (uint64_t)sent;
			j += (unsigned)sent;
		}
		done += k;
	}
	return (int)done;
}

static int pkt_fd(void *v)
{
	return ((struct pkt_io *)v)->epfd;
}

static const struct mpt_io_stats *pkt_stats(void *v)
{
	return &((struct pkt_io *)v)->stats;
}

static int pkt_add_path(void *v, const struct mpt_io_path *path, char *err, size_t errlen)
{
	struct pkt_io *io = v;
	size_t i = io->npaths;
	bool seen = false;
	int rv;

	if (i >= MPT_IO_MAX_PATHS) {
		snprintf(err, errlen, "too many paths (%d)", MPT_IO_MAX_PATHS);
		return -ENOSPC;
	}
	io->paths[i] = *path;
	io->npaths++;
	/* as at open: the kernel's TCP is off the address before anything is sent */
	if (own_addresses(io, err, errlen)) {
		io->npaths--;
		return -EPERM;
	}
	for (size_t j = 0; j < io->nifs; j++)
		seen |= io->ifs[j].ifindex == path->ifindex;
	rv = !seen && io->nifs < MPT_IO_MAX_PATHS ? open_rx(io, path->ifindex, err, errlen) : 0;
	if (!rv)
		rv = open_tx(io, i, err, errlen);
	if (rv) {
		/* not a path after all; an rx socket opened stays until close() */
		if (io->txfd[i] >= 0)
			close(io->txfd[i]);
		io->txfd[i] = -1;
		io->npaths--;
	}
	return rv;
}

const struct mpt_io_ops mpt_io_packet = {
	.name = "packet",
	.open = pkt_open,
	.recv = pkt_recv,
	.send = pkt_send,
	.fd = pkt_fd,
	.stats = pkt_stats,
	.close = pkt_close,
	.add_path = pkt_add_path,
};
