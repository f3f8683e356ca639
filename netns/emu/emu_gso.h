/* Software segmentation of GSO super-frames, as a pure function (no syscalls).
 *
 * With PACKET_VNET_HDR a host's TSO/GSO frame (up to 64 KB) reaches the emulator
 * as one frame with a virtio-net header.  A real link carries, loses, duplicates
 * and corrupts wire-sized packets, so the emulator cuts such a frame into the
 * segments the host's NIC would have sent, before any model sees it.  Each
 * segment is a complete Ethernet frame with no offload left to do: L2/L3/L4
 * headers copied; IPv4 total length, id (+1 per segment) and header checksum;
 * IPv6 payload length; TCP sequence number advanced, FIN/PSH only on the last
 * segment, CWR only on the first; UDP length; the full L4 checksum (pseudo-header
 * included) computed in software.
 *
 * Handled: VIRTIO_NET_HDR_GSO_TCPV4, _TCPV6 (each with or without _ECN) and
 * _UDP_L4 over IPv4/IPv6 (L4 header right after the fixed IP header; VLAN tags
 * skipped).  Anything else (UFO, IPv6 extension headers, IPv4 options are fine)
 * is refused with an error: the caller counts it and forwards the frame whole.
 */
#ifndef MPNET_EMU_GSO_H
#define MPNET_EMU_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* uapi since Linux 6.2; Debian 12's headers lack it */
#endif

#define EMU_GSO_VNET_LEN 10u   /* sizeof(struct virtio_net_hdr) */
#define EMU_GSO_MAX_SEGS 2048u /* more segments than this: refused (-E2BIG) */

/* A parsed super-frame; filled by emu_gso_init, read by emu_gso_segment. */
struct emu_gso {
	const uint8_t *frame; /* the Ethernet frame (not the vnet header) */
	size_t len;
	size_t l3_off, l4_off, hdr_len; /* hdr_len: L2 + L3 + L4 headers */
	size_t payload;			/* bytes after hdr_len */
	uint16_t mss;			/* gso_size: payload bytes per segment */
	bool v6, udp;
	size_t nsegs;
};

/* Parse the virtio-net header vnet[0 .. vnet_len) and the Ethernet frame
 * frame[0 .. len) that follows it.  The frame is not copied: it must outlive `g`.
 * Returns the number of segments (>= 1) when vnet says GSO and the frame is
 * one of the handled kinds; 0 when vnet says no GSO (nothing to do); -EINVAL
 * for a truncated or inconsistent header (vnet shorter than EMU_GSO_VNET_LEN,
 * gso_size 0, headers past the end, the gso type not matching the frame, a
 * checksum offset that is not the L4 header's); -EPROTONOSUPPORT for a gso type
 * or encapsulation not handled (UFO, IPv6 extension headers, unknown bits);
 * -E2BIG for more than EMU_GSO_MAX_SEGS segments.  Never reads outside the two
 * buffers. */
int emu_gso_init(struct emu_gso *g, const void *vnet, size_t vnet_len, const uint8_t *frame,
		 size_t len);

/* Write segment i (0 <= i < g->nsegs) into out[0 .. cap) as a complete Ethernet
 * frame (no virtio-net header).  Returns its length, -ENOSPC when cap is too
 * small or -EINVAL when i is out of range. */
ptrdiff_t emu_gso_segment(const struct emu_gso *g, size_t i, uint8_t *out, size_t cap);

/* The bytes a segment of at most g->mss payload occupies at most (headers + mss). */
static inline size_t emu_gso_seg_max(const struct emu_gso *g)
{
	return g->hdr_len + g->mss;
}

/* Internet checksum helpers (RFC 1071).  emu_csum_add adds p[0 .. len) read as
 * big-endian 16-bit words (a last odd byte padded with zero) to a running sum;
 * emu_csum_fold folds it and returns its ones' complement, the value to store. */
uint64_t emu_csum_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t emu_csum_fold(uint64_t sum);

#endif
