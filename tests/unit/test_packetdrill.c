/* The packetdrill shim (stack/packetdrill) called in-process through its interface
 * table, as packetdrill calls it, without packetdrill: a listener, a SYN with
 * MP_CAPABLE in, the SYN-ACK with MP_CAPABLE and a key out, in virtual time. */
#include "pd_iface.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An IPv4 SYN 192.0.2.1:5000 -> 192.168.7.7:8080 offering MSS 1460, SACK, window
 * scale 7 and MP_CAPABLE v1 (flag H, no key); returns its length. */
static size_t make_syn(uint8_t *b)
{
	static const uint8_t opt[] = {
		2,  4, 0x05, 0xb4, /* MSS 1460 */
		4,  2,		   /* SACK_PERM */
		1,  3, 3,    7,	   /* NOP, WS 7 */
		30, 4, 0x01, 0x01, /* MP_CAPABLE v1, flags H, no key */
		1,  1,		   /* pad to 20 bytes */
	};			   /* pad to 20 bytes */
	size_t tcp = 20 + sizeof(opt), len = 20 + tcp;
	uint32_t s;
	uint16_t c;

	memset(b, 0, len);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, (const uint8_t[]){192, 0, 2, 1}, 4);
	memcpy(b + 16, (const uint8_t[]){192, 168, 7, 7}, 4);
	c = fold(sum16(0, b, 20));
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	b[20] = 5000 >> 8;
	b[21] = 5000 & 0xff;
	b[22] = 8080 >> 8;
	b[23] = 8080 & 0xff;
	b[27] = 1;			   /* ISN 1 */
	b[32] = (uint8_t)((tcp / 4) << 4); /* data offset */
	b[33] = 0x02;			   /* SYN */
	b[34] = 0xff;			   /* window 65535 */
	b[35] = 0xff;
	memcpy(b + 40, opt, sizeof(opt));
	s = sum16(0, b + 12, 8) + IPPROTO_TCP + (uint32_t)tcp;
	c = fold(sum16(s, b + 20, tcp));
	b[36] = (uint8_t)(c >> 8);
	b[37] = (uint8_t)c;
	return len;
}

/* Whether the TCP options of segment b (IPv4) carry MP_CAPABLE with a key. */
static bool has_mpc_key(const uint8_t *b)
{
	size_t ihl = (size_t)(b[0] & 15) * 4, off = (size_t)(b[ihl + 12] >> 4) * 4;
	const uint8_t *o = b + ihl + 20, *end = b + ihl + off;

	while (o < end) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2)
			break;
		if (o[0] == 30 && o[1] == 12 && (o[2] >> 4) == 0 && (o[2] & 15) == 1)
			return true;
		o += o[1];
	}
	return false;
}

TEST(packetdrill_shim_syn_synack_mp_capable)
{
	struct packetdrill_interface ifc;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
	uint8_t syn[128], out[2048];
	struct timeval t0, t1;
	long long at = 0;
	size_t n = sizeof(out);
	int fd;

	packetdrill_interface_init(NULL, &ifc);
	CHECK(ifc.userdata != NULL);
	CHECK_EQ(ifc.gettimeofday(ifc.userdata, &t0, NULL), 0);
	fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	CHECK(fd >= 0);
	inet_pton(AF_INET, "192.168.7.7", &sa.sin_addr);
	CHECK_EQ(ifc.bind(ifc.userdata, fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(ifc.listen(ifc.userdata, fd, 1), 0);
	CHECK_EQ(ifc.netdev_send(ifc.userdata, syn, make_syn(syn)), 0);
	CHECK_EQ(ifc.netdev_receive(ifc.userdata, out, &n, &at), 0);
	CHECK(n >= 40);
	CHECK_EQ(out[0] >> 4, 4);
	CHECK_EQ(out[20 + 13], 0x12); /* SYN|ACK */
	CHECK_EQ(out[20 + 0] << 8 | out[20 + 1], 8080);
	CHECK_EQ(out[20 + 2] << 8 | out[20 + 3], 5000);
	CHECK_EQ(out[20 + 11], 2); /* acknowledges ISN 1 + 1 */
	CHECK(has_mpc_key(out));
	/* virtual time: the answer leaves at once; a sleep moves the clock exactly, a
	 * reading by one microsecond */
	CHECK_EQ(at, (long long)t0.tv_sec * 1000000 + t0.tv_usec);
	CHECK_EQ(ifc.usleep(ifc.userdata, 250000), 0);
	CHECK_EQ(ifc.gettimeofday(ifc.userdata, &t1, NULL), 0);
	CHECK_EQ((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_usec - t0.tv_usec), 250000 + 1);
	CHECK_EQ(ifc.close(ifc.userdata, fd), 0);
	ifc.free(ifc.userdata);
}
