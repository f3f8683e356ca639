/* The payload-rewriting middlebox: see emu_rewrite.h. */
#include "emu_rewrite.h"

#define ETH_HLEN_ 14

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool emu_tcp_locate(const uint8_t *f, size_t len, size_t *tcp_off, size_t *payload_off,
		    size_t *payload_len)
{
	size_t off = ETH_HLEN_, ip_end, th;
	uint16_t type;

	if (len < ETH_HLEN_)
		return false;
	type = get16(f + 12);
	while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
		type = get16(f + off + 2);
		off += 4;
	}
	if (type == 0x0800) {
		size_t ihl, tot;

		if (off + 20 > len || (f[off] >> 4) != 4)
			return false;
		ihl = (size_t)(f[off] & 0x0f) * 4;
		tot = get16(f + off + 2);
		if (ihl < 20 || tot < ihl || off + tot > len || f[off + 9] != 6)
			return false;
		if (get16(f + off + 6) & 0x3fff) /* MF or a fragment offset */
			return false;
		ip_end = off + tot;
		off += ihl;
	} else if (type == 0x86dd) {
		if (off + 40 > len || (f[off] >> 4) != 6 || f[off + 6] != 6)
			return false;
		ip_end = off + 40 + get16(f + off + 4);
		if (ip_end > len)
			return false;
		off += 40;
	} else {
		return false;
	}
	if (off + 20 > ip_end)
		return false;
	th = (size_t)(f[off + 12] >> 4) * 4;
	if (th < 20 || off + th > ip_end)
		return false;
	*tcp_off = off;
	*payload_off = off + th;
	*payload_len = ip_end - (off + th);
	return true;
}

/* One's complement sum of two 16-bit values. */
static uint16_t add16(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* The 16-bit word at w of a checksummed span ending at end (a last odd byte is
 * padded with zero, as the checksum does). */
static uint16_t word_at(const uint8_t *f, size_t w, size_t end)
{
	return (uint16_t)(f[w] << 8 | (w + 1 < end ? f[w + 1] : 0));
}

bool emu_rewrite_tcp(uint8_t *f, size_t len)
{
	size_t tcp, pay, plen, pos, w, end;
	uint16_t old_w, hc;

	if (!emu_tcp_locate(f, len, &tcp, &pay, &plen) || !plen)
		return false;
	if (f[tcp + 13] & 0x06) /* SYN or RST */
		return false;
	end = pay + plen;
	pos = pay + plen / 2;
	/* the word of the TCP segment (checksummed from its header on) that holds it */
	w = tcp + ((pos - tcp) & ~(size_t)1);
	old_w = word_at(f, w, end);
	f[pos] = (uint8_t)~f[pos];
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
	hc = get16(f + tcp + 16);
	hc = (uint16_t)~add16(add16((uint16_t)~hc, (uint16_t)~old_w), word_at(f, w, end));
	f[tcp + 16] = (uint8_t)(hc >> 8);
	f[tcp + 17] = (uint8_t)hc;
	return true;
}
