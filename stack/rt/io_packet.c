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
#define PKT_NEIGH   8	  /* next-hop MACs remembered per path */
#define PKT_TX_IOV  1024  /* iovecs one transmit batch may use */
#define PKT_GSO_MAX 65535 /* bytes of IP datagram in one GSO super-frame */

/* A next hop learnt from received frames: frames from `ip` reached us from `mac`, on
 * interface `ifindex` whose MAC is `own`.  That interface is not necessarily the
 * path's: a peer that binds its subflow to another link (a kernel `dev` endpoint, a
 * libmpt path) reaches this address through the host's interface on that link, and
 * the answers go back the same way, so that the subflow keeps to one link. */
struct pkt_neigh {
	uint8_t ip[16];
	uint8_t mac[6];
	uint8_t own[6];
	int ifindex;
	bool used;
};

struct pkt_if {
	int ifindex;
	int fd; /* AF_PACKET */
};

struct pkt_io {
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	size_t npaths;
	int txfd[MPT_IO_MAX_PATHS]; /* raw IP socket per path index */
	int ptx[MPT_IO_MAX_PATHS];  /* AF_PACKET (PACKET_VNET_HDR) per path index */
	/* learnt from received frames: per remote address, the next hop and our end */
	struct pkt_neigh neigh[MPT_IO_MAX_PATHS][PKT_NEIGH];
	uint32_t neigh_next[MPT_IO_MAX_PATHS];
	/* transmit scratch: vnet + Ethernet headers and iovecs of one batch */
	uint8_t thdr[PKT_BATCH][VNET_LEN + ETH_LEN];
	struct iovec tiov[PKT_TX_IOV];
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
	for (size_t i = 0; i < io->npaths; i++) {
		if (io->txfd[i] >= 0)
			close(io->txfd[i]);
		if (io->ptx[i] >= 0)
			close(io->ptx[i]);
	}
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
	/* our own transmissions would be cloned to this socket only to be filtered out */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
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
	/* bound to the path's address and its interface: routing may only use routes
	 * through that interface, so the path's first datagrams (a SYN it initiates)
	 * leave on its own link even where mpnet's destination routes would take another
	 * one; the `from ADDR lookup TABLE` rule of the address routes them */
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		snprintf(err, errlen, "raw IP socket bound to a path address: %s", strerror(errno));
		return -errno;
	}
	if (io->paths[i].ifindex > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &io->paths[i].ifindex,
		       sizeof(io->paths[i].ifindex))) {
		snprintf(err, errlen, "raw IP socket bound to ifindex %d: %s", io->paths[i].ifindex,
			 strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return 0;
}

/* The packet socket that carries a path's frames once its next hop is known: bound to
 * the interface with protocol 0 (it receives nothing), frames prefixed by a
 * virtio_net_hdr so that one frame may be a TCP GSO super-frame.  Optional: without
 * it every datagram takes the raw IP socket. */
static void open_ptx(struct pkt_io *io, size_t i)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = io->paths[i].ifindex};
	int one = 1, bufsz = PKT_SOCKBUF;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	io->ptx[i] = fd;
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
		io->txfd[i] = io->ptx[i] = -1;
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
		open_ptx(io, i);
	}
	*out = io;
	return 0;
fail:
	pkt_close(io);
	return rv;
}

/* Which path a frame on interface `ifindex` addressed to ip[] belongs to; -1 if none.
 * The path of that address on that interface, else the path of that address on
 * another interface: as a kernel host (weak host model), a frame for one of our
 * addresses is ours whichever of our links it came in on. */
static int path_of(const struct pkt_io *io, int ifindex, const uint8_t *ip, size_t len)
{
	int fam = (ip[0] >> 4) == 4 ? MPT_AF_INET : MPT_AF_INET6;
	const uint8_t *dst = fam == MPT_AF_INET ? ip + 16 : ip + 24;
	int other = -1;

	if (len < (fam == MPT_AF_INET ? 20u : 40u))
		return -1;
	for (size_t i = 0; i < io->npaths; i++) {
		const struct mpt_io_path *p = &io->paths[i];

		if (p->addr.family != fam || memcmp(p->addr.ip, dst, addr_len(&p->addr)))
			continue;
		if (p->ifindex == ifindex)
			return (int)i;
		if (other < 0)
			other = (int)i;
	}
	return other;
}

/* A frame for path pi came from `src` (its IP source) through the MAC eth[6..12) to
 * our MAC eth[0..6) on interface ifindex: remember all three. */
static void learn(struct pkt_io *io, int pi, int ifindex, const uint8_t *eth, const uint8_t *src)
{
	size_t al = addr_len(&io->paths[pi].addr);
	struct pkt_neigh *nb = io->neigh[pi];
	uint32_t k;

	for (k = 0; k < PKT_NEIGH; k++)
		if (nb[k].used && !memcmp(nb[k].ip, src, al))
			break;
	if (k == PKT_NEIGH) {
		k = io->neigh_next[pi]++ % PKT_NEIGH;
		memset(&nb[k], 0, sizeof(nb[k]));
		memcpy(nb[k].ip, src, al);
		nb[k].used = true;
	}
	memcpy(nb[k].own, eth, 6);
	memcpy(nb[k].mac, eth + 6, 6);
	nb[k].ifindex = ifindex;
}

static const struct pkt_neigh *neigh_of(const struct pkt_io *io, int pi, const uint8_t *dst)
{
	size_t al = addr_len(&io->paths[pi].addr);

	for (uint32_t k = 0; k < PKT_NEIGH; k++)
		if (io->neigh[pi][k].used && !memcmp(io->neigh[pi][k].ip, dst, al))
			return &io->neigh[pi][k];
	return NULL;
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
		/* the kernel vouches for the data (CHECKSUM_PARTIAL / _UNNECESSARY) */
		bool trusted =
			vh->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);

		if (path < 0) {
			io->cur++;
			continue;
		}
		if (io->cur_seg == 0)
			learn(io, path, io->ifs[io->cur_if].ifindex, f + VNET_LEN,
			      (ip[0] >> 4) == 4 ? ip + 12 : ip + 8);
		if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) &&
		    io->cur_seg == 0 &&
		    (trusted ? mpt_io_tcp_check(ip, iplen) : mpt_io_tcp_csum_fix(ip, iplen)) == 0) {
			/* the super-frame goes up whole, as GRO would hand it to a kernel
			 * TCP: one header, no copy, no checksum pass when the kernel vouches
			 * for it */
			io->stats.rx_gso_frames++;
			pkts[out].data = ip;
			pkts[out].len = (uint32_t)iplen;
			pkts[out].path = io->paths[path].id;
			pkts[out].csum_ok = trusted;
			out++;
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
			pkts[out].csum_ok = false;
			out++;
			seg++;
			io->cur_seg++;
			continue;
		}
		if (trusted && mpt_io_tcp_check(ip, iplen)) {
			io->stats.rx_dropped++;
			io->cur++;
			continue;
		}
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			io->stats.rx_csum_fixed++; /* taken as it is, never completed */
		pkts[out].data = ip;
		pkts[out].len = (uint32_t)iplen;
		pkts[out].path = io->paths[path].id;
		pkts[out].csum_ok = trusted;
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

/* pkts[0..n), all for path index pi, through its raw IP socket: the kernel routes
 * and resolves the next hop. */
static void raw_send(struct pkt_io *io, int pi, const struct mpt_io_pkt *pkts, unsigned n)
{
	struct mmsghdr m[PKT_BATCH];
	struct iovec iov[PKT_BATCH];
	struct sockaddr_storage dst[PKT_BATCH];
	unsigned done = 0;

	while (done < n) {
		unsigned k = 0;
		int sent;

		while (done + k < n && k < PKT_BATCH) {
			const struct mpt_io_pkt *p = &pkts[done + k];

			/* the stack left the checksum partial (tx_csum_partial) */
			mpt_io_tcp_csum_fix(p->data, p->len);
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
}

static const uint8_t *dst_ip(const uint8_t *ip)
{
	return (ip[0] >> 4) == 4 ? ip + 16 : ip + 24;
}

/* pkts[0..n), all for path index pi whose next hop is known, through its packet
 * socket, each frame on the interface its next hop was learnt on; runs of segments
 * that mpt_io_gso_run accepts become one GSO super-frame (the payloads gathered by
 * iovec, no copy).  Returns how many datagrams it took (it stops early at a datagram
 * whose next hop is unknown). */
static unsigned packet_send(struct pkt_io *io, int pi, const struct mpt_io_pkt *pkts, unsigned n)
{
	struct mmsghdr m[PKT_BATCH];
	struct sockaddr_ll to[PKT_BATCH];
	unsigned done = 0, nf = 0, niov = 0, segs[PKT_BATCH];

	while (done < n && nf < PKT_BATCH) {
		const struct mpt_io_pkt *p = &pkts[done];
		const struct pkt_neigh *nb =
			p->len >= 40 || (p->len >= 20 && (p->data[0] >> 4) == 4)
				? neigh_of(io, pi, dst_ip(p->data))
				: NULL;
		struct virtio_net_hdr *vh = (struct virtio_net_hdr *)io->thdr[nf];
		uint8_t *eth = io->thdr[nf] + VNET_LEN;
		uint32_t gso = 0;
		unsigned k = 1;
		size_t total = p->len;

		if (!nb)
			break;
		k = mpt_io_gso_run(p, n - done, PKT_GSO_MAX, &gso);
		if (niov + k + 1 > PKT_TX_IOV)
			break;
		memset(vh, 0, sizeof(*vh));
		memcpy(eth, nb->mac, 6);
		memcpy(eth + 6, nb->own, 6);
		wire_put16(eth + 12, (p->data[0] >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6);
		memset(&m[nf], 0, sizeof(m[nf]));
		/* protocol 0, as the socket's own: the kernel reads it from the frame */
		to[nf] = (struct sockaddr_ll){.sll_family = AF_PACKET, .sll_ifindex = nb->ifindex};
		m[nf].msg_hdr.msg_name = &to[nf];
		m[nf].msg_hdr.msg_namelen = sizeof(to[nf]);
		m[nf].msg_hdr.msg_iov = &io->tiov[niov];
		io->tiov[niov].iov_base = io->thdr[nf];
		io->tiov[niov++].iov_len = VNET_LEN + ETH_LEN;
		io->tiov[niov].iov_base = p->data;
		io->tiov[niov++].iov_len = p->len;
		if (k > 1) {
			size_t iphl =
				(p->data[0] >> 4) == 4 ? WIRE_IPV4_HDR_LEN : WIRE_IPV6_HDR_LEN;
			size_t hl = iphl + (size_t)(p->data[iphl + 12] >> 4) * 4;

			for (unsigned j = 1; j < k; j++) {
				io->tiov[niov].iov_base = pkts[done + j].data + hl;
				io->tiov[niov++].iov_len = pkts[done + j].len - hl;
				total += pkts[done + j].len - hl;
			}
			mpt_io_gso_prepare(p->data, total, pkts[done + k - 1].data[iphl + 13]);
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->gso_type = iphl == WIRE_IPV4_HDR_LEN ? VIRTIO_NET_HDR_GSO_TCPV4
								 : VIRTIO_NET_HDR_GSO_TCPV6;
			vh->gso_size = (uint16_t)gso;
			vh->hdr_len = (uint16_t)(ETH_LEN + hl);
			vh->csum_start = (uint16_t)(ETH_LEN + iphl);
			vh->csum_offset = 16;
			io->stats.tx_gso_frames++;
		}
		if (k == 1) { /* one datagram: its checksum is partial, the kernel ends it */
			size_t iphl =
				(p->data[0] >> 4) == 4 ? WIRE_IPV4_HDR_LEN : WIRE_IPV6_HDR_LEN;

			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->csum_start = (uint16_t)(ETH_LEN + iphl);
			vh->csum_offset = 16;
			vh->hdr_len = (uint16_t)(ETH_LEN + iphl + WIRE_TCP_HDR_LEN);
		}
		m[nf].msg_hdr.msg_iovlen = k + 1;
		segs[nf++] = k;
		done += k;
	}
	for (unsigned j = 0; j < nf;) {
		int sent = sendmmsg(io->ptx[pi], m + j, nf - j, 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			io->stats.tx_errors += segs[j];
			j++;
			continue;
		}
		for (int x = 0; x < sent; x++)
			io->stats.tx_packets += segs[j + (unsigned)x];
		j += (unsigned)sent;
	}
	return done;
}

static int pkt_send(void *v, const struct mpt_io_pkt *pkts, unsigned n)
{
	struct pkt_io *io = v;
	unsigned done = 0;

	while (done < n) {
		int pi = path_index(io, pkts[done].path);
		unsigned k = 0;

		if (pi < 0) {
			io->stats.tx_errors++;
			done++;
			continue;
		}
		/* a run of datagrams for the same path */
		while (done + k < n && pkts[done + k].path == pkts[done].path)
			k++;
		while (k) {
			unsigned took = io->ptx[pi] >= 0 ? packet_send(io, pi, pkts + done, k) : 0;

			if (!took) { /* next hop not learnt yet: the kernel routes this one */
				raw_send(io, pi, pkts + done, 1);
				took = 1;
			}
			done += took;
			k -= took;
		}
	}
	return (int)done;
}

static int pkt_fd(void *v)
{
	return ((struct pkt_io *)v)->epfd;
}

static const struct mpt_io_stats *pkt_stats(void *v)
{
	struct pkt_io *io = v;

	/* frames the kernel dropped for want of socket buffer (reading resets them) */
	for (size_t i = 0; i < io->nifs; i++) {
		struct tpacket_stats ts;
		socklen_t sl = sizeof(ts);

		if (!getsockopt(io->ifs[i].fd, SOL_PACKET, PACKET_STATISTICS, &ts, &sl))
			io->stats.rx_sock_drops += ts.tp_drops;
	}
	return &io->stats;
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
	.tx_csum_partial = true,
	.open = pkt_open,
	.recv = pkt_recv,
	.send = pkt_send,
	.fd = pkt_fd,
	.stats = pkt_stats,
	.close = pkt_close,
	.add_path = pkt_add_path,
};
