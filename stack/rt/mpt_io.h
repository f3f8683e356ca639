/* I/O backends for libmpt: how IP datagrams get between a stack and a real network.
 *
 * The sans-I/O core (stack/src) never touches a socket; a backend does, behind this
 * small ops table, and the runtime (mpt_rt.h) drives both.  A backend is opened on a
 * set of *paths* (a local address on an interface, the same path ids the stack uses),
 * moves whole IP datagrams in batches, and exposes one fd to poll for input.
 *
 * The first backend, mpt_io_packet (io_packet.c):
 *   - receive: one AF_PACKET socket per interface (PACKET_VNET_HDR, recvmmsg,
 *     PACKET_IGNORE_OUTGOING), with a classic-BPF filter keeping incoming IPv4/IPv6
 *     TCP only.  Frames the kernel vouches for -- a veth hands them over
 *     half-finished (CHECKSUM_PARTIAL: they never crossed a wire) or checked
 *     (DATA_VALID) -- go up without a checksum pass (mpt_stack_recv_verified), the
 *     rest are checked by the stack; GSO super-frames (a peer with TSO on a veth) go
 *     to the stack whole, one TCP segment of up to 64 KiB, as GRO hands them to a
 *     kernel TCP (cut back into MSS-sized segments only if they do not parse).
 *     A frame for a path's address is taken on any of the paths' interfaces (a
 *     peer may bind its subflow to another link: it arrives there), and the next
 *     hop is learnt with the interface it came in on.
 *   - transmit: raw IP sockets (IPPROTO_RAW, header included) bound to each path's
 *     address and interface (SO_BINDTOIFINDEX), sendmmsg: the kernel routes (policy
 *     rules by source address included; only routes through the path's interface)
 *     and resolves neighbours, but no kernel TCP ever sees the segments.
 *     That is the way until a path has received a frame from the destination: then
 *     its next hop's MAC (the frame's source), our own (its destination) and the
 *     interface are known, and datagrams leave through a per-path AF_PACKET socket
 *     with a virtio_net_hdr instead, on that interface.  Runs of segments of one
 *     flow (mpt_io_gso_run) become one TCP GSO super-frame of up to 64 KiB
 *     (payloads gathered by iovec), which the kernel passes through veths and
 *     bridges as it does its own TSO frames and segments in software wherever a
 *     device cannot take it; no frame on a wire is larger than the MTU.  The stack
 *     leaves TCP checksums partial
 *     (mpt_config.tx_csum_partial): the vnet header asks the kernel to finish them,
 *     and the raw-socket path completes them itself.  A learnt MAC is refreshed by
 *     every received frame; a next hop that changes without sending anything (a
 *     route moving to another router on the same interface) is not noticed.
 *   - ownership: an nftables table `inet libmpt` in the namespace drops TCP to the
 *     stack's addresses at prerouting (priority raw).  Packet sockets tap frames
 *     before that hook, so the stack sees them and the kernel's TCP never does: it
 *     cannot answer with a RST (TcpOutRsts stays still).  The kernel keeps the
 *     addresses on its interfaces for ARP/ND, ICMP and routing.  The table outlives
 *     the process on purpose: a segment arriving after the stack exited (a peer's
 *     retransmitted FIN) must not reach the kernel either.
 */
#ifndef MPT_IO_H
#define MPT_IO_H

#include "mpt.h"

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define MPT_IO_MAX_PATHS 64

/* One path: a local address on an interface. */
struct mpt_io_path {
	uint32_t id; /* the stack's path id, < MPT_IO_MAX_PATHS */
	char ifname[IF_NAMESIZE];
	int ifindex;
	struct mpt_sockaddr addr; /* port ignored */
};

/* One datagram in a batch: on receive the backend fills data (pointing into its own
 * memory, valid until the next recv or close), len, path and csum_ok; on send the
 * caller fills data, len and path. */
struct mpt_io_pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t path;
	/* receive: the TCP checksum needs no check (the kernel handed the frame over
	 * as CHECKSUM_PARTIAL or DATA_VALID: it never crossed a wire unchecked); the
	 * checksum field is then not necessarily complete */
	bool csum_ok;
};

/* Backend counters (beyond the stack's own). */
struct mpt_io_stats {
	/* csum_fixed: frames that came with a partial checksum (CHECKSUM_PARTIAL) and
	 * went up as they were (csum_ok); dropped: malformed */
	uint64_t rx_frames, rx_gso_frames, rx_csum_fixed, rx_dropped;
	uint64_t rx_sock_drops; /* frames the kernel dropped: the socket buffer was full */
	uint64_t tx_packets, tx_errors;
	uint64_t tx_gso_frames; /* GSO super-frames sent (each counts its segments in tx_packets) */
};

struct mpt_io_ops {
	const char *name;
	/* The backend completes the TCP checksum of every datagram it sends: the
	 * runtime then has the stack leave it partial (mpt_config.tx_csum_partial). */
	bool tx_csum_partial;
	/* Open on paths[0..npaths) (copied) for datagrams up to mtu bytes.  Returns 0
	 * and *io, or -errno with a one-line reason in err. */
	int (*open)(void **io, const struct mpt_io_path *paths, size_t npaths, uint32_t mtu,
		    char *err, size_t errlen);
	/* Up to n received datagrams into pkts, without blocking.  Returns the count
	 * (0: nothing waiting) or -errno. */
	int (*recv)(void *io, struct mpt_io_pkt *pkts, unsigned n);
	/* Transmit pkts[0..n) in order (the backend may rewrite their bytes).  Returns how many the
	 * backend took (a datagram the kernel refused is counted as taken and in tx_errors: it is a
	 * loss to TCP), or -errno when nothing could be sent. */
	int (*send)(void *io, const struct mpt_io_pkt *pkts, unsigned n);
	/* The fd that becomes readable (EPOLLIN) when recv has something. */
	int (*fd)(void *io);
	const struct mpt_io_stats *(*stats)(void *io);
	void (*close)(void *io);
	/* Optional (NULL: the backend's paths are fixed): start carrying one more path
	 * (an address that appeared at run time).  Returns 0 or -errno with a reason. */
	int (*add_path)(void *io, const struct mpt_io_path *path, char *err, size_t errlen);
};

extern const struct mpt_io_ops mpt_io_packet;

/* ---- helpers shared by backends (pure; io_seg.c) ---- */

/* Recompute the TCP checksum of the IPv4/IPv6 datagram ip[0..len) (no IPv6
 * extension headers).  Returns 0, or MPT_EMALFORMED / MPT_EUNSUPP. */
int mpt_io_tcp_csum_fix(uint8_t *ip, size_t len);

/* Only the structure mpt_io_tcp_csum_fix needs (IP and TCP header lengths, TCP, no
 * fragment): 0, or MPT_EMALFORMED / MPT_EUNSUPP. */
int mpt_io_tcp_check(const uint8_t *ip, size_t len);

/* Segment k (0-based) of the TCP GSO super-datagram ip[0..len) cut at gso_size
 * payload bytes: headers copied, IPv4 total length / id / header checksum or IPv6
 * payload length, sequence number, flags (CWR only on the first segment; FIN and
 * PSH only on the last) and TCP checksum rewritten.  Writes into out (cap bytes).
 * Returns the segment's length, 0 when k is past the last segment, or MPT_EMALFORMED /
 * MPT_EUNSUPP / MPT_ENOBUFS. */
ptrdiff_t mpt_io_gso_segment(const uint8_t *ip, size_t len, uint32_t gso_size, uint32_t k,
			     uint8_t *out, size_t cap);

/* Transmit-side GSO, the reverse of mpt_io_gso_segment: how many datagrams from
 * pkts[0] on can leave as one TCP super-datagram that the kernel (or a device) cuts
 * back into exactly those segments.  They must share the path, the IP header (but
 * length / id / checksum), ports, ACK, window, urgent pointer and options byte for
 * byte, carry only ACK (+PSH; FIN on the last), follow each other in sequence, and all
 * but the last carry the first's payload size; the whole stays within max_len bytes.
 * Returns the count (>= 1; 1 = send it alone) and *gso_size (the first's payload
 * size when the count is > 1, else 0). */
unsigned mpt_io_gso_run(const struct mpt_io_pkt *pkts, unsigned n, size_t max_len,
			uint32_t *gso_size);

/* Turn the headers of a run's first datagram (ip) into those of the super-datagram
 * of `total` bytes (the headers plus every payload of the run): IPv4 total length and
 * header checksum / IPv6 payload length, the last segment's FIN and PSH, and the TCP
 * checksum field set to the pseudo-header sum as CHECKSUM_PARTIAL wants it (the
 * kernel's segmenter, or the receiving device, completes each segment's sum). */
void mpt_io_gso_prepare(uint8_t *ip, size_t total, uint8_t last_flags);

#endif
