/* The link emulator's I/O: AF_PACKET forwarding between e0 and e1 inside the
 * link namespace, the control socket, timers, pcap and stats files.  The
 * emulation itself is emu_dir (sans-I/O); this file only moves frames and time.
 *
 * Frames above the MTU (GSO super-packets from hosts with offloads on): both
 * packet sockets use PACKET_VNET_HDR, so a GSO frame arrives with its virtio-net
 * header (gso_type, gso_size, checksum offsets) and is cut into wire segments
 * (emu_gso) before any model sees it: loss, duplication, corruption, rate,
 * counters and pcaps are per wire packet whatever the hosts' offloads.  Segments
 * leave with complete checksums and a zero header.  A GSO frame of a kind
 * emu_gso does not handle is counted (gso_unsegmented) and forwarded whole, with
 * its header, for the kernel to segment; its rate cost is all its segments'
 * bytes.  Non-GSO frames keep their header, which carries CHECKSUM_PARTIAL
 * through (a plain AF_PACKET bridge would forward half-finished checksums from a
 * veth with tx offloads).  Why not just disable offloads: the host ends live in
 * other namespaces that the emulator cannot reach, and a missed one must not
 * change the link.  The emulator turns off TSO/GSO/GRO on its own e0/e1 (so the
 * hosts receive MTU-sized frames, like from a wire); emu_disable_offloads() lets
 * the orchestrator do the same on the host ends, which only saves work.
 */
#ifndef MPNET_EMU_IO_H
#define MPNET_EMU_IO_H

#include <stdint.h>

struct emu_opts {
	const char *config_path;
	const char *control_path;
	const char *stats_path; /* may be NULL */
	const char *pcap_dir;	/* may be NULL */
	int ready_fd;		/* -1: none */
	uint64_t spin_ns; /* busy-wait this long before a departure (0: adaptive, 20..400 us) */
	/* Poll the sockets without sleeping while any frame is inside the emulator
	 * and for this long after the last frame came in or went out (0: never;
	 * EMU_BUSY_POLL_DEFAULT_NS unless --busy-poll-us says otherwise).  Costs a
	 * core while traffic flows; removes the wake-up of an idle vCPU (100+ us in
	 * a VM) from both the arrival and the departure path. */
	uint64_t busy_ns;
	/* > 0: SCHED_FIFO at this priority when permitted (a warning otherwise);
	 * EMU_RT_AUTO: EMU_RT_DEFAULT_PRIO when permitted, silently as before when
	 * not; 0: never. */
	int rt_prio;
	/* Spinning before departures may take at most this share of each
	 * EMU_SPIN_WINDOW_NS (percent; 0: EMU_SPIN_SHARE_DEFAULT); past it the loop
	 * sleeps until the departure itself.  Not applied to --busy-poll-us. */
	unsigned spin_share_pct;
};

#define EMU_BUSY_POLL_DEFAULT_NS 0ull
#define EMU_RT_AUTO		 (-1)
#define EMU_RT_DEFAULT_PRIO	 10
#define EMU_SPIN_WINDOW_NS	 10000000ull
#define EMU_SPIN_SHARE_DEFAULT	 20u

/* Run the emulator until SIGTERM/SIGINT; returns the process exit status (0 after
 * a signal, 1 on a set-up error, which is printed on stderr). */
int emu_run(const struct emu_opts *o);

/* Turn off TSO, GSO, GRO (and UFO where present) on an interface of the calling
 * thread's network namespace (ethtool ioctls).  Returns 0 or -errno; features the
 * driver does not have are not an error. */
int emu_disable_offloads(const char *ifname);

#endif
