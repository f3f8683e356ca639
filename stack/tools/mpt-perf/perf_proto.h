/* mpt-perf wire records: the request header the client sends first, the result
 * record each receiving end sends back once its stream has ended, and the refusal a
 * server sends instead of serving a header it cannot take.
 *
 * All integers big-endian; fixed sizes; every reserved field must be zero.
 *
 * Header (PERF_HDR_LEN = 64 bytes), client -> server:
 *	0  u32 magic "MPPH"        4  u16 version (2)
 *	6  u8  direction (0 upload: client sends, 1 download: server sends)
 *	7  u8  flags (bit 0: amount is a duration, bit 1: corrupt_at is set)
 *	8  u64 amount: bytes, or nanoseconds with the duration flag; rr: the number of
 *	       exchanges (never 0)
 *	16 u64 seed of the stream (common/pattern.h)
 *	24 u64 interval_ns: receiver's sample interval, 0 for none
 *	32 u64 corrupt_at: test hook, stream offset the sender flips (flag bit 1)
 *	40 u8  workload (0 bulk, 1 rr: request/response, 2 stream: paced chunks)
 *	41 u8[3] reserved          44 u32 reserved
 *	48 u64 p1: rr: request bytes; stream: rate in bytes per second; bulk: 0
 *	56 u64 p2: rr: response bytes; stream: chunk bytes (>= PERF_STAMP_LEN); bulk: 0
 *	rr is an upload by count (the client writes the requests); a stream by bytes
 *	sends whole chunks (amount a multiple of p2).
 *
 * Result (PERF_RES_LEN = 64 bytes + n_intervals * PERF_IVL_LEN + n_samples *
 * PERF_SMP_LEN), receiver -> sender:
 *	0  u32 magic "MPPR"        4  u16 version (2)
 *	6  u16 flags (bit 0: verified, bit 1: mismatch seen, bit 2: intervals truncated,
 *	       bit 3: samples truncated)
 *	8  u64 bytes received
 *	16 u64 elapsed_ns, from the start of the data phase to the last byte
 *	24 u64 first_mismatch: stream offset (only with the mismatch flag)
 *	32 u64 t0_mono_ns: receiver's CLOCK_MONOTONIC at the start of the data phase
 *	40 u64 interval_ns
 *	48 u32 n_intervals (<= PERF_MAX_INTERVALS)   52 u32 n_samples (<= PERF_MAX_WL_SAMPLES)
 *	56 u8  workload the receiver ran (the header's)   57 u8[7] reserved
 *	then per interval: u64 start_ns, u64 end_ns (relative to t0), u64 bytes
 *	then per sample: u64 ns (rr: each exchange's completion time, measured by the
 *	client; stream: each chunk's one-way delay, measured by the receiver)
 *
 * Refusal (PERF_REJ_LEN = 16 bytes), server -> client, then close:
 *	0  u32 magic "MPPE"        4  u16 version (2)
 *	6  u16 reason (-PERF_E*: 1 truncated, 2 magic, 3 version, 4 field)   8 u64 reserved
 *
 * Decoders check everything and return a negative PERF_E* code on any defect.
 */
#ifndef MPNET_PERF_PROTO_H
#define MPNET_PERF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_MAGIC_HDR	    0x4d505048u /* "MPPH" */
#define PERF_MAGIC_RES	    0x4d505052u /* "MPPR" */
#define PERF_MAGIC_REJ	    0x4d505045u /* "MPPE" */
#define PERF_VERSION	    2
#define PERF_HDR_LEN	    64
#define PERF_RES_LEN	    64
#define PERF_IVL_LEN	    24
#define PERF_SMP_LEN	    8
#define PERF_REJ_LEN	    16
#define PERF_MAX_INTERVALS  (1u << 20)
#define PERF_MAX_WL_SAMPLES (1u << 22)
#define PERF_STAMP_LEN	    16		 /* a stream chunk's head carries its write time */
#define PERF_WL_MAX_MSG	    (1ull << 30) /* rr request / response, stream chunk: at most */
#define PERF_WL_MAX_N	    1000000u	 /* rr exchanges: at most */

#define PERF_HDR_F_TIME	   0x01
#define PERF_HDR_F_CORRUPT 0x02
#define PERF_HDR_F_ALL	   (PERF_HDR_F_TIME | PERF_HDR_F_CORRUPT)

#define PERF_RES_F_VERIFIED  0x0001
#define PERF_RES_F_MISMATCH  0x0002
#define PERF_RES_F_TRUNCATED 0x0004
#define PERF_RES_F_SMP_TRUNC 0x0008
#define PERF_RES_F_ALL \
	(PERF_RES_F_VERIFIED | PERF_RES_F_MISMATCH | PERF_RES_F_TRUNCATED | PERF_RES_F_SMP_TRUNC)

enum perf_dir {
	PERF_UPLOAD = 0,   /* client sends, server receives */
	PERF_DOWNLOAD = 1, /* server sends, client receives (-R) */
};

enum perf_workload {
	PERF_WL_BULK = 0,   /* one direction, as fast as it goes */
	PERF_WL_RR = 1,	    /* request/response exchanges, one at a time */
	PERF_WL_STREAM = 2, /* paced chunks (video-like), each stamped with its write time */
};
#define PERF_WL_MAX PERF_WL_STREAM

enum perf_err {
	PERF_ESHORT = -1,   /* fewer bytes than the record needs */
	PERF_EMAGIC = -2,   /* wrong magic */
	PERF_EVERSION = -3, /* unknown version */
	PERF_EFIELD = -4,   /* a field out of range, unknown flag, reserved not zero */
};

struct perf_hdr {
	enum perf_dir dir;
	bool time_mode;	 /* amount is nanoseconds, not bytes */
	bool corrupt;	 /* test hook: sender flips the byte at corrupt_at */
	uint64_t amount; /* bytes, or ns when time_mode */
	uint64_t seed;
	uint64_t interval_ns;
	uint64_t corrupt_at;
	enum perf_workload workload;
	uint64_t p1; /* rr: request bytes; stream: rate (bytes/s) */
	uint64_t p2; /* rr: response bytes; stream: chunk bytes */
};

struct perf_ivl {
	uint64_t start_ns, end_ns; /* relative to the receiver's t0 */
	uint64_t bytes;
};

struct perf_res {
	uint16_t flags; /* PERF_RES_F_* */
	uint64_t bytes;
	uint64_t elapsed_ns;
	uint64_t first_mismatch;
	uint64_t t0_mono_ns;
	uint64_t interval_ns;
	uint32_t n_intervals;
	uint32_t n_samples;
	enum perf_workload workload;
};

/* Encode h into buf (exactly PERF_HDR_LEN bytes).  Returns PERF_HDR_LEN, or
 * PERF_ESHORT when len is smaller, PERF_EFIELD when h is not valid. */
ptrdiff_t perf_hdr_encode(const struct perf_hdr *h, uint8_t *buf, size_t len);

/* Decode and validate a header from buf.  Returns PERF_HDR_LEN or a PERF_E* code;
 * h is written only on success. */
ptrdiff_t perf_hdr_decode(struct perf_hdr *h, const uint8_t *buf, size_t len);

/* Encode the fixed part of a result (PERF_RES_LEN bytes).  The n_intervals
 * records follow, each written by perf_ivl_encode. */
ptrdiff_t perf_res_encode(const struct perf_res *r, uint8_t *buf, size_t len);

/* Decode and validate the fixed part of a result. */
ptrdiff_t perf_res_decode(struct perf_res *r, const uint8_t *buf, size_t len);

/* One interval record (PERF_IVL_LEN bytes); decode rejects end < start. */
ptrdiff_t perf_ivl_encode(const struct perf_ivl *iv, uint8_t *buf, size_t len);
ptrdiff_t perf_ivl_decode(struct perf_ivl *iv, const uint8_t *buf, size_t len);

/* One sample (PERF_SMP_LEN bytes). */
ptrdiff_t perf_smp_encode(uint64_t ns, uint8_t *buf, size_t len);
ptrdiff_t perf_smp_decode(uint64_t *ns, const uint8_t *buf, size_t len);

/* The refusal for a header that failed perf_hdr_decode with err (PERF_REJ_LEN
 * bytes).  Decode returns PERF_REJ_LEN with the PERF_E* reason in *reason, or a
 * PERF_E* code when buf is not a refusal. */
ptrdiff_t perf_rej_encode(ptrdiff_t err, uint8_t *buf, size_t len);
ptrdiff_t perf_rej_decode(ptrdiff_t *reason, const uint8_t *buf, size_t len);

/* "bulk", "rr", "stream" ("?" otherwise). */
const char *perf_workload_name(enum perf_workload w);

/* A short English reason for a PERF_E* code. */
const char *perf_proto_strerror(ptrdiff_t err);

#endif
