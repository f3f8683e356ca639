/* Fuzz target: the link emulator's configuration parser and its model.
 *
 * Input: JSON text, a 0 byte, then operations.  The text goes to
 * emu_config_parse; when it parses, emu_config_write must produce a text that
 * parses again and writes out identically (a fixed point), and both directions
 * are built with emu_dir_new.  The operations then enqueue frames, advance time,
 * dequeue (a frame never leaves before its departure time, which is never before
 * its arrival), change parameters with emu_dir_set and toggle the blackhole. */
#include "fuzz.h"

#include "emu_config.h"
#include "emu_dir.h"

#include <string.h>

#define MS 1000000ull

static char *write_text(const struct emu_config *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	FUZZ_ASSERT(emu_config_write(f, c->link, c->dir, c->seed, c->link_index) == 0,
		    "emu_config_write failed");
	fclose(f);
	return text;
}

static void model(struct emu_dir *d, const struct emu_config *c, struct fuzz_in *in)
{
	uint8_t frame[1600];
	uint64_t now = 0;
	int ops = 0;

	while (fuzz_left(in) && ops++ < 256) {
		uint8_t op = fuzz_u8(in), arg = fuzz_u8(in);
		struct emu_pkt *p;

		switch (op & 3) {
		case 0: { /* a frame of 14 + arg*5 bytes from the input */
			size_t len = 14 + (size_t)arg * 5, have = fuzz_left(in);

			memset(frame, 0, len);
			memcpy(frame, in->p + in->i, have < len ? have : len);
			in->i += have < len ? have : len;
			emu_dir_enqueue(d, frame, len, 0, 0, now);
			break;
		}
		case 1: /* time passes */
			now += (uint64_t)arg * (op & 4 ? MS : 1000);
			break;
		case 2: {
			struct topo_dir p2 = c->dir[1];

			p2.set = arg & ((op & 8) ? 0xffffffffu : 0xffu);
			p2.set &= ~(uint32_t)TOPO_F_TRACE;
			emu_dir_set(d, &p2, NULL, now);
			break;
		}
		default:
			emu_dir_set_blackhole(d, arg & 1);
		}
		while ((p = emu_dir_dequeue(d, now))) {
			FUZZ_ASSERT(p->depart_ns <= now, "departs at %llu, now %llu",
				    (unsigned long long)p->depart_ns, (unsigned long long)now);
			FUZZ_ASSERT(
				p->depart_ns >= p->arrive_ns, "departs %llu before arrival %llu",
				(unsigned long long)p->depart_ns, (unsigned long long)p->arrive_ns);
			emu_pkt_free(p);
		}
		{
			uint64_t next = emu_dir_next_event(d, now);

			(void)next;
		}
	}
	now += 3600ull * 1000 * MS;
	while (emu_dir_next_event(d, now) <= now) {
		struct emu_pkt *p = emu_dir_dequeue(d, now);

		if (!p)
			break;
		emu_pkt_free(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emu_config c, c2;
	char err[256], *text, *t1, *t2;
	const uint8_t *z = memchr(data, 0, size);
	size_t tlen = z ? (size_t)(z - data) : size, l1, l2;
	struct fuzz_in in = {data, size, z ? tlen + 1 : size};

	if (size > 1 << 16)
		return 0;
	text = malloc(tlen + 1);
	if (!text)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	memset(&c, 0, sizeof(c));
	if (emu_config_parse(text, &c, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0] != '\0', "failure without a message");
		free(text);
		return 0;
	}
	free(text);
	t1 = write_text(&c, &l1);
	memset(&c2, 0, sizeof(c2));
	FUZZ_ASSERT(emu_config_parse(t1, &c2, err, sizeof(err)) == 0,
		    "our own output does not parse: %s\n%s", err, t1);
	t2 = write_text(&c2, &l2);
	FUZZ_ASSERT(l1 == l2 && !memcmp(t1, t2, l1), "write/parse/write differs:\n%s\n%s", t1, t2);
	free(t1);
	free(t2);
	for (int dir = 0; dir < 2; dir++) {
		struct emu_dir *d;

		if (c.dir[dir].trace[0])
			continue; /* a trace file on disk: not the fuzzer's business */
		d = emu_dir_new(&c.dir[dir], NULL, c.seed, c.link_index, dir, 0);
		if (!d)
			continue;
		model(d, &c, &in);
		emu_dir_free(d);
	}
	return 0;
}
