/* A payload-rewriting middlebox (an application-level gateway that edits what a
 * TCP connection carries): one byte of a TCP segment's payload changed and the
 * TCP checksum fixed, so that only a check above TCP (MPTCP's DSS checksum) can
 * notice.  Pure functions on a frame; emu_dir applies them (`rewrite` count). */
#ifndef MPNET_EMU_REWRITE_H
#define MPNET_EMU_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the TCP header and payload of Ethernet frame f[0 .. len) are: IPv4 (not a
 * fragment) or IPv6 (TCP as the first next header), VLAN tags skipped, lengths
 * from the IP header (Ethernet padding ignored).  Returns true and sets *tcp_off
 * (offset of the TCP header), *payload_off and *payload_len; false for anything
 * else or a truncated / inconsistent header. */
bool emu_tcp_locate(const uint8_t *f, size_t len, size_t *tcp_off, size_t *payload_off,
		    size_t *payload_len);

/* Rewrite frame f[0 .. len) if it is a TCP segment with payload and without SYN or
 * RST: the payload byte in the middle is inverted and the TCP checksum updated
 * incrementally (RFC 1624), so a frame whose checksum was right stays right.  The
 * frame must carry a complete checksum (not CHECKSUM_PARTIAL).  Returns true when
 * rewritten, false (frame untouched) otherwise. */
bool emu_rewrite_tcp(uint8_t *f, size_t len);

#endif
