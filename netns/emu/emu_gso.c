/* Software segmentation of GSO super-frames: see emu_gso.h. */
#include "emu_gso.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

_Static_assert(sizeof(struct virtio_net_hdr) == EMU_GSO_VNET_LEN, "virtio_net_hdr size");

#define ETH_HLEN      14
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define TCP_FIN	      0x01
#define TCP_PSH	      0x08
#define TCP_CWR	      0x80
#define TCP_CSUM_OFF  16
#define UDP_CSUM_OFF  6
#define IPV4_CSUM_OFF 10

uint64_t emu_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;

	/* 32-bit big-endian words: folded later, the same as summing 16-bit words */
	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += ntohl(w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

uint16_t emu_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

int emu_gso_init(struct emu_gso *g, const void *vnet, size_t vnet_len, const uint8_t *f, size_t len)
{
	struct virtio_net_hdr vh;
	uint8_t type, proto;
	size_t off = ETH_HLEN;
	uint16_t et;

	memset(g, 0, sizeof(*g));
	if (!vnet || vnet_len < sizeof(vh))
		return -EINVAL;
	memcpy(&vh, vnet, sizeof(vh));
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	type = vh.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EPROTONOSUPPORT; /* UFO, unknown bits */
	if ((vh.gso_type & VIRTIO_NET_HDR_GSO_ECN) && type == VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EPROTONOSUPPORT;
	if (!vh.gso_size || !f || len < ETH_HLEN)
		return -EINVAL;

	/* L2: Ethernet, VLAN tags skipped */
	et = rd16(f + 12);
	while (et == 0x8100 || et == 0x88a8) {
		if (off + 4 > len)
			return -EINVAL;
		et = rd16(f + off + 2);
		off += 4;
	}
	g->l3_off = off;
	/* L3 */
	if (et == 0x0800) {
		size_t ihl;

		if (type == VIRTIO_NET_HDR_GSO_TCPV6 || off + 20 > len || (f[off] >> 4) != 4)
			return -EINVAL;
		ihl = (size_t)(f[off] & 0xf) * 4;
		if (ihl < 20 || off + ihl > len)
			return -EINVAL;
		if ((f[off + 6] & 0x3f) || f[off + 7]) /* MF or an offset: a fragment */
			return -EINVAL;
		proto = f[off + 9];
		off += ihl;
	} else if (et == 0x86dd) {
		if (type == VIRTIO_NET_HDR_GSO_TCPV4 || off + 40 > len || (f[off] >> 4) != 6)
			return -EINVAL;
		proto = f[off + 6];
		if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_)
			return -EPROTONOSUPPORT; /* extension headers */
		g->v6 = true;
		off += 40;
	} else {
		return -EINVAL;
	}
	g->l4_off = off;
	/* L4 */
	if (type == VIRTIO_NET_HDR_GSO_UDP_L4) {
		if (proto != IPPROTO_UDP_ || off + 8 > len)
			return -EINVAL;
		g->udp = true;
		off += 8;
	} else {
		size_t doff;

		if (proto != IPPROTO_TCP_ || off + 20 > len)
			return -EINVAL;
		doff = (size_t)(f[off + 12] >> 4) * 4;
		if (doff < 20 || off + doff > len)
			return -EINVAL;
		off += doff;
	}
	if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (vh.csum_start != g->l4_off ||
	     vh.csum_offset != (g->udp ? UDP_CSUM_OFF : TCP_CSUM_OFF)))
		return -EINVAL;
	g->hdr_len = off;
	g->payload = len - off;
	g->mss = vh.gso_size;
	/* one segment must fit the IPv4 total length / IPv6 payload length */
	if (g->hdr_len - g->l3_off + g->mss > 0xffff)
		return -EINVAL;
	g->nsegs = g->payload ? (g->payload + g->mss - 1) / g->mss : 1;
	if (g->nsegs > EMU_GSO_MAX_SEGS)
		return -E2BIG;
	g->frame = f;
	g->len = len;
	return (int)g->nsegs;
}

ptrdiff_t emu_gso_segment(const struct emu_gso *g, size_t i, uint8_t *out, size_t cap)
{
	size_t start, plen, l4_len, seg_len;
	uint8_t *l3, *l4;
	uint64_t sum;
	uint16_t c;

	if (!g->frame || i >= g->nsegs)
		return -EINVAL;
	start = i * g->mss;
	plen = g->payload - start < g->mss ? g->payload - start : g->mss;
	seg_len = g->hdr_len + plen;
	if (seg_len > cap)
		return -ENOSPC;
	memcpy(out, g->frame, g->hdr_len);
	memcpy(out + g->hdr_len, g->frame + g->hdr_len + start, plen);
	l3 = out + g->l3_off;
	l4 = out + g->l4_off;
	l4_len = seg_len - g->l4_off;

	if (g->v6) {
		wr16(l3 + 4, (uint16_t)(seg_len - g->l3_off - 40));
		sum = emu_csum_add(0, l3 + 8, 32); /* pseudo-header: addresses */
		sum += (uint32_t)l4_len + (g->udp ? IPPROTO_UDP_ : IPPROTO_TCP_);
	} else {
		size_t ihl = (size_t)(l3[0] & 0xf) * 4;

		wr16(l3 + 2, (uint16_t)(seg_len - g->l3_off));
		wr16(l3 + 4, (uint16_t)(rd16(l3 + 4) + i));
		wr16(l3 + IPV4_CSUM_OFF, 0);
		wr16(l3 + IPV4_CSUM_OFF, emu_csum_fold(emu_csum_add(0, l3, ihl)));
		sum = emu_csum_add(0, l3 + 12, 8);
		sum += (uint32_t)l4_len + (g->udp ? IPPROTO_UDP_ : IPPROTO_TCP_);
	}
	if (g->udp) {
		wr16(l4 + 4, (uint16_t)l4_len);
		wr16(l4 + UDP_CSUM_OFF, 0);
		c = emu_csum_fold(emu_csum_add(sum, l4, l4_len));
		wr16(l4 + UDP_CSUM_OFF, c ? c : 0xffff);
	} else {
		wr32(l4 + 4, rd32(l4 + 4) + (uint32_t)start);
		if (i + 1 < g->nsegs)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		wr16(l4 + TCP_CSUM_OFF, 0);
		wr16(l4 + TCP_CSUM_OFF, emu_csum_fold(emu_csum_add(sum, l4, l4_len)));
	}
	return (ptrdiff_t)seg_len;
}
