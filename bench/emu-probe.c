/* emu-probe: UDP load and one-way delay measurement for bench/emu-accuracy.
 * Hosts share CLOCK_MONOTONIC (same machine, other namespaces), so a packet's
 * one-way delay is recv time - the send time it carries.
 *
 *   emu-probe send DST PORT RATE_BPS SIZE SECONDS   (RATE_BPS 0: as fast as possible)
 *   emu-probe recv BIND PORT SECONDS
 *     prints: pkts lost_or_late p50_ns p90_ns p99_ns max_ns min_ns rate_bps
 *             k_p50_ns k_p90_ns k_p99_ns k_max_ns
 *     (rate: Ethernet frame bytes, i.e. UDP payload + 42, first to last arrival)
 *     The first delays are to the receiving application (they include its own
 *     wake-up); the k_ ones end at the receiving host's kernel timestamp of the
 *     datagram (SO_TIMESTAMPNS, taken when the frame entered its stack), which
 *     is what the link itself delivers.
 *   Both ends move datagrams in batches of BATCH system calls' worth (sendmmsg /
 *   recvmmsg) when sending as fast as possible: the ceiling case's sender and
 *   receiver share one core, and one system call per datagram made them, not the
 *   emulator, the limit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int do_send(const char *dst, int port, double rate, int size, double secs)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char buf[65536] = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sndbuf = 4 << 20;
	uint64_t t0 = now_ns(), seq = 0, gap = rate > 0 ? (uint64_t)((size + 42) * 8e9 / rate) : 0;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	inet_pton(AF_INET, dst, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return perror("connect"), 1;
	for (;;) {
		uint64_t due = t0 + seq * gap, t;

		if (gap && now_ns() < due) {
			/* sleep, never spin: the receiver may share this core */
			struct timespec ts = {(time_t)(due / 1000000000ull),
					      (long)(due % 1000000000ull)};

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		t = now_ns();
		if (t - t0 > (uint64_t)(secs * 1e9))
			break;
		if (!gap) { /* as fast as possible: BATCH datagrams per system call */
			static char b[BATCH][2048];
			struct mmsghdr mm[BATCH];
			struct iovec iv[BATCH];
			int k = size <= (int)sizeof(b[0]) ? BATCH : 1;

			memset(mm, 0, sizeof(mm));
			for (int i = 0; i < k; i++) {
				uint64_t q = seq + (uint64_t)i;

				memcpy(k > 1 ? b[i] : buf, &q, 8);
				memcpy((k > 1 ? b[i] : buf) + 8, &t, 8);
				iv[i].iov_base = k > 1 ? b[i] : buf;
				iv[i].iov_len = (size_t)size;
				mm[i].msg_hdr.msg_iov = &iv[i];
				mm[i].msg_hdr.msg_iovlen = 1;
			}
			int r = sendmmsg(fd, mm, (unsigned)k, 0);

			if (r < 0 && errno != ENOBUFS && errno != EAGAIN)
				return perror("sendmmsg"), 1;
			seq += r > 0 ? (uint64_t)r : 0;
			continue;
		}
		memcpy(buf, &seq, 8);
		memcpy(buf + 8, &t, 8);
		if (send(fd, buf, (size_t)size, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			return perror("send"), 1;
		seq++;
	}
	/* end marker */
	seq = UINT64_MAX;
	memcpy(buf, &seq, 8);
	for (int i = 0; i < 3; i++)
		send(fd, buf, 16, 0);
	fprintf(stderr, "sent %llu\n", (unsigned long long)(seq = 0));
	return 0;
}

static int64_t rt_minus_mono(void)
{
	struct timespec rt, mo;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mo);
	return ((int64_t)rt.tv_sec - (int64_t)mo.tv_sec) * 1000000000ll +
	       ((int64_t)rt.tv_nsec - (int64_t)mo.tv_nsec);
}

static int do_recv(const char *bind_ip, int port, double secs)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {2, 0};
	static char bufs[BATCH][2048];
	static char cbufs[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr mm[BATCH];
	struct iovec iv[BATCH];
	bool done = false;
	size_t cap = 1 << 22, n = 0;
	uint64_t *owd = malloc(cap * sizeof(*owd)), *kowd = malloc(cap * sizeof(*kowd));
	uint64_t maxseq = 0, bytes = 0, first = 0, last = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rcvbuf = 16 << 20, one = 1;
	uint64_t start = now_ns();
	int64_t off = rt_minus_mono();

	inet_pton(AF_INET, bind_ip, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return perror("bind"), 1;
	printf("listening\n");
	fflush(stdout);
	while (!done) {
		int got;
		uint64_t t;

		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < BATCH; i++) {
			iv[i].iov_base = bufs[i];
			iv[i].iov_len = sizeof(bufs[i]);
			mm[i].msg_hdr.msg_iov = &iv[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = cbufs[i];
			mm[i].msg_hdr.msg_controllen = sizeof(cbufs[i]);
		}
		got = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
		t = now_ns();
		if (got < 0) {
			if (n || t - start > (uint64_t)(secs * 1e9) + 10000000000ull)
				break;
			continue;
		}
		for (int i = 0; i < got && !done; i++) {
			struct msghdr m = mm[i].msg_hdr;
			const char *buf = bufs[i];
			ssize_t r = (ssize_t)mm[i].msg_len;
			uint64_t seq, ts, kt = 0;

			if (r < 16)
				continue;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
				struct timespec k;

				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_TIMESTAMPNS) {
					memcpy(&k, CMSG_DATA(c), sizeof(k));
					kt = (uint64_t)((int64_t)k.tv_sec * 1000000000ll +
							k.tv_nsec - off);
				}
			}
			memcpy(&seq, buf, 8);
			memcpy(&ts, buf + 8, 8);
			if (seq == UINT64_MAX) {
				done = true;
				break;
			}
			if (!first)
				first = t;
			last = t;
			bytes += (uint64_t)r + 42;
			if (seq + 1 > maxseq)
				maxseq = seq + 1;
			if (n < cap) {
				kowd[n] = kt > ts ? kt - ts : 0;
				owd[n++] = t - ts;
			}
		}
	}
	if (!n) {
		printf("0 0 0 0 0 0 0 0 0 0 0 0\n");
		return 0;
	}
	qsort(owd, n, sizeof(*owd), cmp);
	qsort(kowd, n, sizeof(*kowd), cmp);
	printf("%zu %llu %llu %llu %llu %llu %llu %.0f %llu %llu %llu %llu\n", n,
	       (unsigned long long)(maxseq - n), (unsigned long long)owd[n / 2],
	       (unsigned long long)owd[n * 9 / 10], (unsigned long long)owd[n * 99 / 100],
	       (unsigned long long)owd[n - 1], (unsigned long long)owd[0],
	       last > first ? (double)(bytes - ((uint64_t)bytes / n)) * 8e9 / (double)(last - first)
			    : 0.0,
	       (unsigned long long)kowd[n / 2], (unsigned long long)kowd[n * 9 / 10],
	       (unsigned long long)kowd[n * 99 / 100], (unsigned long long)kowd[n - 1]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]), atof(argv[6]));
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: emu-probe send DST PORT RATE SIZE SECS | recv BIND PORT SECS\n");
	return 2;
}
