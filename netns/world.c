#include "world.h"

#include "mptcp_pm.h"
#include "netnsfs.h"
#include "routing.h"
#include "rtnl.h"
#include "units.h"

#include "emu_config.h"
#include "emu_ctl.h"
#include "emu_io.h"
#include "emu_netem.h"

#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_KILL_GRACE_MS     200
#define EMU_READY_TIMEOUT_MS 5000
#define EMU_STOP_TIMEOUT_MS  2000

static const char *const link_ifname[2] = {"e0", "e1"};

const char *world_prefix(void)
{
	const char *p = getenv("MPNET_NS_PREFIX");
	size_t n;

	if (!p || !*p)
		return WORLD_DEFAULT_PREFIX;
	n = strlen(p);
	if (n > 8 || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return WORLD_DEFAULT_PREFIX; /* main() refuses such a value before this */
	return p;
}

void world_host_ns_name(const struct topology *t, int host, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s-%s", world_prefix(), t->name, t->hosts[host].name);
}

void world_link_ns_name(const struct topology *t, int link, char *buf, size_t len)
{
	snprintf(buf, len, "%sl-%s-%s", world_prefix(), t->name, t->links[link].name);
}

static void state_dir(const char *topo, char *buf, size_t len)
{
	snprintf(buf, len, WORLD_STATE_DIR "/%s-%s", world_prefix(), topo);
}

const char *world_backend_name(enum world_backend b)
{
	switch (b) {
	case WORLD_BACKEND_HTB:
		return "htb";
	case WORLD_BACKEND_USER:
		return "user";
	case WORLD_BACKEND_NETEM:
		return "netem";
	}
	return "?";
}

static int werr(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int werr(struct world *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Which emulator-only parameter a direction asks for, for messages. */
static __attribute__((unused)) const char *emu_field_name(uint32_t set)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{TOPO_F_DELAY, "delay"},     {TOPO_F_JITTER, "jitter"},
		{TOPO_F_LOSS, "loss"},	     {TOPO_F_DUPLICATE, "duplicate"},
		{TOPO_F_CORRUPT, "corrupt"}, {TOPO_F_REORDER, "reorder"},
		{TOPO_F_TRACE, "trace"},     {TOPO_F_DIST, "distribution"},
		{TOPO_F_AQM, "queue codel"}, {TOPO_F_REWRITE, "rewrite"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (set & names[i].bit)
			return names[i].name;
	return "an emulated parameter";
}

/* True when link l needs more than HTB can do, now or through one of its events. */
static bool link_needs_emulator(const struct topology *t, int l)
{
	const struct topo_link *lk = &t->links[l];

	if ((lk->dir[0].set | lk->dir[1].set) & TOPO_F_NEEDS_EMULATOR)
		return true;
	for (int i = 0; i < t->nevents; i++)
		if (t->events[i].link == l && t->events[i].action == TOPO_EV_SET &&
		    (t->events[i].params.set & TOPO_F_NEEDS_EMULATOR))
			return true;
	return false;
}

const char *world_linkemu_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("MPNET_LINKEMU");
	char self[PATH_MAX - 32];
	ssize_t n;
	char *slash;

	if (path[0])
		return path;
	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
		return path;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		n = 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/mpnet-linkemu", self);
	return path;
}

/* Can netem (emu_netem_tree_build) express link l: both directions as loaded
 * and after each of its `set` events (replayed in time order), and without
 * --pcap?  If not, what it cannot express and where. */
static bool netem_expresses(const struct world *w, const struct topology *t, int l, char *what,
			    size_t len, struct topo_pos *at)
{
	const struct topo_link *lk = &t->links[l];
	struct topo_dir cur[2] = {lk->dir[0], lk->dir[1]};

	*at = lk->pos;
	if (w->pcap_dir[0]) {
		snprintf(what, len, "packet captures (--pcap: the userspace emulator writes them)");
		return false;
	}
	for (int d = 0; d < 2; d++)
		if (!emu_netem_can_express(&cur[d], what, len))
			return false;
	for (int i = 0; i < t->nevents; i++) {
		const struct topo_event *ev = &t->events[i];

		if (ev->link != l || ev->action != TOPO_EV_SET)
			continue;
		for (int d = 0; d < 2; d++) {
			if (!(ev->dir_mask & (1 << d)))
				continue;
			topo_dir_apply(&cur[d], &ev->params);
			if (!emu_netem_can_express(&cur[d], what, len)) {
				*at = ev->pos;
				return false;
			}
		}
	}
	return true;
}

/* The backend a link gets.
 *  - user: asked for, or needed (delay, jitter, loss, ... now or by an event), or
 *    --pcap (the emulator writes the captures);
 *  - netem: asked for explicitly; only where netem can express the link (now and
 *    after each of its events; no --pcap) and the kernel has sch_netem.  `auto`
 *    never picks it: the userspace emulator is the one mpnet measures and tests
 *    (on every kernel, including those without sch_netem), it keeps every
 *    parameter exact, and a topology behaves the same on every machine;
 *  - htb (e0 <-> e1 redirects + HTB): everything else (rate and queue only).
 * A link that cannot get what it asks for fails here, before anything exists. */
static int pick_backend(struct world *w, const struct topology *t, int l, enum world_backend *out)
{
	const struct topo_link *lk = &t->links[l];
	enum topo_emulator want = lk->emulator_set ? lk->emulator : t->emulator;
	bool needs = link_needs_emulator(t, l);

	if (want == TOPO_EMU_NETEM) {
		char what[160];
		struct topo_pos at;

		/* what the topology asks for first (true on any kernel), then the kernel */
		if (!netem_expresses(w, t, l, what, sizeof(what), &at))
			return topo_errorf(t, at, w->err,
					   "link %s asks for emulator: netem, but netem cannot "
					   "express %s (use emulator: auto or user)",
					   lk->name, what);
		if (!emu_netem_available())
			return topo_errorf(
				t, lk->pos, w->err,
				"link %s asks for emulator: netem, but this kernel has no "
				"sch_netem (use emulator: auto or user)",
				lk->name);
		*out = WORLD_BACKEND_NETEM;
		return 0;
	}
	if (want == TOPO_EMU_USER || needs || w->pcap_dir[0]) {
		if (access(world_linkemu_path(), X_OK))
			return topo_errorf(
				t,
				needs ? lk->dir[lk->dir[0].set & TOPO_F_NEEDS_EMULATOR ? 0 : 1]
						.emu_pos
				      : lk->pos,
				w->err,
				"link %s needs the link emulator, but %s is missing (run make, "
				"or set MPNET_LINKEMU)",
				lk->name, world_linkemu_path());
		*out = WORLD_BACKEND_USER;
		return 0;
	}
	*out = WORLD_BACKEND_HTB;
	return 0;
}

static int check_queue(struct world *w, const struct topology *t, const struct topo_dir *d,
		       const char *link)
{
	if ((d->set & TOPO_F_QUEUE) && d->queue_unit == TOPO_QUEUE_TIME && !d->rate_bps)
		return topo_errorf(
			t, d->pos, w->err,
			"link %s: a queue given as a time needs a rate on that direction "
			"(give the queue in packets or bytes, or add rate:)",
			link);
	if ((d->set & TOPO_F_QUEUE) && d->queue > UINT32_MAX)
		return topo_errorf(t, d->pos, w->err, "link %s: queue too large (at most %u)", link,
				   UINT32_MAX);
	return 0;
}

static bool ns_exists(const char *name)
{
	char p[300];

	snprintf(p, sizeof(p), NETNS_RUN_DIR "/%s", name);
	return access(p, F_OK) == 0;
}

/* A kernel host's congestion: must be one this kernel offers now (its list of
 * available algorithms; a module not loaded yet is not in it). */
static int check_congestion(struct world *w, const struct topology *t, int h)
{
	const struct topo_host *ho = &t->hosts[h];
	char avail[512] = "", *tok, *save = NULL, list[512];
	FILE *f;

	if (!ho->congestion[0] || ho->stack == TOPO_STACK_MPT)
		return 0;
	f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "re");
	if (f) {
		if (!fgets(avail, sizeof(avail), f))
			avail[0] = '\0';
		fclose(f);
	}
	avail[strcspn(avail, "\n")] = '\0';
	snprintf(list, sizeof(list), "%s", avail);
	for (tok = strtok_r(list, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (!strcmp(tok, ho->congestion))
			return 0;
	return topo_errorf(t, ho->congestion_pos, w->err,
			   "host %s: congestion %s: this kernel has %s (modprobe tcp_%s to add it)",
			   ho->name, ho->congestion, avail[0] ? avail : "no list", ho->congestion);
}

int world_check(struct world *w, const struct topology *t)
{
	char name[256];

	if (geteuid() != 0)
		return werr(w, "mpnet: building a topology creates network namespaces, which needs "
			       "root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run mpnet as root");
	for (int l = 0; l < t->nlinks; l++) {
		enum world_backend b;

		if (pick_backend(w, t, l, &b))
			return -1;
		for (int d = 0; d < 2; d++)
			if (check_queue(w, t, &t->links[l].dir[d], t->links[l].name))
				return -1;
	}
	for (int h = 0; h < t->nhosts; h++)
		if (check_congestion(w, t, h))
			return -1;
	/* Every namespace of this topology must be new: hosts first, then links. */
	for (int i = 0; i < t->nhosts + t->nlinks; i++) {
		if (i < t->nhosts)
			world_host_ns_name(t, i, name, sizeof(name));
		else
			world_link_ns_name(t, i - t->nhosts, name, sizeof(name));
		if (ns_exists(name))
			return werr(w,
				    "mpnet: topology %s is already up (namespace %s exists); run: "
				    "mpnet down %s",
				    t->name, name, t->path);
	}
	return 0;
}

bool world_is_up(const struct topology *t)
{
	char name[256];

	if (t->nhosts == 0)
		return false;
	world_host_ns_name(t, 0, name, sizeof(name));
	return ns_exists(name);
}

/* --- building ------------------------------------------------------------------ */

static uint32_t queue_limit(const struct topo_dir *d, enum nlr_queue_kind *kind)
{
	*kind = NLR_QUEUE_PACKETS;
	if (!(d->set & TOPO_F_QUEUE) || d->queue == 0)
		return WORLD_DEFAULT_QUEUE_PACKETS;
	switch (d->queue_unit) {
	case TOPO_QUEUE_PACKETS:
		return (uint32_t)d->queue;
	case TOPO_QUEUE_BYTES:
		*kind = NLR_QUEUE_BYTES;
		return (uint32_t)d->queue;
	case TOPO_QUEUE_TIME: {
		uint64_t bytes = d->rate_bps / 8 * d->queue / 1000000000ull;
		*kind = NLR_QUEUE_BYTES;
		return bytes < 1514 ? 1514 : bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	}
	}
	return WORLD_DEFAULT_QUEUE_PACKETS;
}

/* Shape direction d of link l on the interface it leaves by (up: e1, down: e0). */
/* Whether an HTB link has (or an event gives it) a rate: then its queue is a
 * bottleneck that must see wire packets. */
static bool htb_shaped(const struct topology *t, int l)
{
	if (t->links[l].dir[0].rate_bps || t->links[l].dir[1].rate_bps)
		return true;
	for (int i = 0; i < t->nevents; i++)
		if (t->events[i].link == l && t->events[i].action == TOPO_EV_SET)
			return true;
	return false;
}

static int shape_dir(struct world *w, int l, int d)
{
	const struct topo_dir *p = &w->links[l].dir[d];
	enum nlr_queue_kind kind;
	uint32_t limit = queue_limit(p, &kind);
	struct nlr *r = w->link_rt[l];
	int err = nlr_shape(r, link_ifname[d == 0 ? 1 : 0], p->rate_bps, kind, limit);

	if (err)
		return werr(w, "link %s: shaping %s: %s", w->t->links[l].name, d ? "down" : "up",
			    nlr_last_error(r));
	return 0;
}

/* netem backend: build (changes = ~0u) or change direction d of link l on the
 * interface it leaves by: the parts of the tree emu_netem_changes() names. */
static int netem_dir(struct world *w, int l, int d, unsigned changes)
{
	const char *ifname = link_ifname[d == 0 ? 1 : 0];
	const char *link = w->t->links[l].name;
	struct nlr *r = w->link_rt[l];
	struct emu_netem_tree tree;
	char why[160], what[96];
	int idx = nlr_ifindex(r, ifname), err = 0;

	if (idx < 0)
		return werr(w, "link %s: %s: %s", link, ifname, strerror(-idx));
	struct topo_dir p = w->links[l].dir[d];

	if (!p.queue) { /* the same default queue as the other backends */
		p.queue = WORLD_DEFAULT_QUEUE_PACKETS;
		p.queue_unit = TOPO_QUEUE_PACKETS;
	}
	err = emu_netem_tree_build(&tree, idx, 1500, &p, why, sizeof(why));
	if (err)
		return werr(w, "link %s: netem %s: %s", link, d ? "down" : "up",
			    err == -EINVAL ? why : strerror(-err));
	if (changes & EMU_NETEM_CH_REBUILD)
		err = nlr_root_qdisc_delete(r, ifname);
	snprintf(what, sizeof(what), "link %s: %s: htb", link, ifname);
	if (!err && tree.htb && (changes & EMU_NETEM_CH_REBUILD))
		err = nlr_qdisc_put(r, tree.htb, what);
	snprintf(what, sizeof(what), "link %s: %s: htb class rate", link, ifname);
	if (!err && tree.cls && (changes & (EMU_NETEM_CH_REBUILD | EMU_NETEM_CH_CLASS)))
		err = nlr_class_put(r, tree.cls, what);
	snprintf(what, sizeof(what), "link %s: %s: netem", link, ifname);
	if (!err && (changes & (EMU_NETEM_CH_REBUILD | EMU_NETEM_CH_LEAF)))
		err = nlr_qdisc_put(r, tree.netem, what);
	emu_netem_tree_free(&tree);
	if (err)
		return werr(w, "%s", nlr_last_error(r));
	return 0;
}

static int open_ns(struct world *w, const char *name, int *fd, struct nlr **rt)
{
	int err = netnsfs_create(name);

	if (err)
		return werr(w, "creating namespace %s: %s", name, strerror(-err));
	*fd = netnsfs_open(name);
	if (*fd < 0)
		return werr(w, "opening namespace %s: %s", name, strerror(-*fd));
	*rt = nlr_open(*fd);
	if (!*rt)
		return werr(w, "netlink socket in %s: %s", name, strerror(errno));
	return 0;
}

/* Turn off TSO/GSO/GRO on a host's end of an emulated link, so the emulator
 * sees (and drops, delays, corrupts) wire-sized frames. */
static int host_offloads_off(struct world *w, int h, const char *ifname)
{
	int saved, err = netnsfs_enter(w->host_ns[h], &saved);

	if (err)
		return err;
	err = emu_disable_offloads(ifname);
	netnsfs_leave(saved);
	return err;
}

/* Run mpnet-linkemu in link l's namespace and wait until it forwards. */
static int start_emulator(struct world *w, int l)
{
	const struct topology *t = w->t;
	const struct topo_link *lk = &t->links[l];
	struct world_link_state *ls = &w->links[l];
	char cfg[512], stats[512], log[512], *argv[16];
	struct pollfd pfd;
	int p[2], n = 0, err;
	char buf[16];
	ssize_t got;
	FILE *f;

	for (int e = 0; e < 2; e++) {
		if ((err = nlr_link_set_up(w->link_rt[l], link_ifname[e], true)))
			return werr(w, "link %s: up: %s", lk->name, nlr_last_error(w->link_rt[l]));
		if ((err = host_offloads_off(w, lk->end[e].host, lk->name)))
			return werr(w, "link %s: offloads on %s: %s", lk->name,
				    t->hosts[lk->end[e].host].name, strerror(-err));
	}
	snprintf(cfg, sizeof(cfg), "%s/%s.json", w->state_dir, lk->name);
	snprintf(stats, sizeof(stats), "%s/%s.stats.json", w->state_dir, lk->name);
	snprintf(log, sizeof(log), "%s/%s.log", w->state_dir, lk->name);
	snprintf(ls->emu_ctl, sizeof(ls->emu_ctl), "%s/%s.ctl", w->state_dir, lk->name);
	f = fopen(cfg, "w");
	if (!f)
		return werr(w, "link %s: %s: %s", lk->name, cfg, strerror(errno));
	{
		/* the emulator gets the same default bottleneck queue as the HTB backend
		 * (and `mpnet show`): WORLD_DEFAULT_QUEUE_PACKETS, not its own 1000 */
		struct topo_dir dirs[2] = {lk->dir[0], lk->dir[1]};

		for (int d = 0; d < 2; d++)
			if (!(dirs[d].set & TOPO_F_QUEUE) || !dirs[d].queue) {
				dirs[d].set |= TOPO_F_QUEUE;
				dirs[d].queue = WORLD_DEFAULT_QUEUE_PACKETS;
				dirs[d].queue_unit = TOPO_QUEUE_PACKETS;
			}
		err = emu_config_write(f, lk->name, dirs, t->seed, lk->index);
	}
	if (fclose(f) || err)
		return werr(w, "link %s: writing %s failed", lk->name, cfg);

	argv[n++] = (char *)world_linkemu_path();
	argv[n++] = (char *)"--config";
	argv[n++] = cfg;
	argv[n++] = (char *)"--control";
	argv[n++] = ls->emu_ctl;
	argv[n++] = (char *)"--stats";
	argv[n++] = stats;
	argv[n++] = (char *)"--ready-fd";
	argv[n++] = (char *)"3";
	if (w->pcap_dir[0]) {
		argv[n++] = (char *)"--pcap-dir";
		argv[n++] = w->pcap_dir;
	}
	argv[n] = NULL;
	if (pipe(p))
		return werr(w, "pipe: %s", strerror(errno));
	ls->emu_pid = fork();
	if (ls->emu_pid == 0) {
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		close(p[0]);
		if (setns(w->link_ns[l], CLONE_NEWNET))
			_exit(127);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (p[1] != 3) {
			dup2(p[1], 3);
			close(p[1]);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (ls->emu_pid < 0) {
		close(p[0]);
		ls->emu_pid = 0;
		return werr(w, "fork: %s", strerror(errno));
	}
	pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
	got = poll(&pfd, 1, EMU_READY_TIMEOUT_MS) == 1 ? read(p[0], buf, sizeof(buf)) : -1;
	close(p[0]);
	if (got <= 0)
		return werr(w, "link %s: the link emulator did not start (see %s)", lk->name, log);
	return 0;
}

static int build_link(struct world *w, struct nlr *root, int l)
{
	const struct topology *t = w->t;
	const struct topo_link *lk = &t->links[l];
	struct nlr *r;
	char name[256];
	int err;

	world_link_ns_name(t, l, name, sizeof(name));
	if (open_ns(w, name, &w->link_ns[l], &w->link_rt[l]))
		return -1;
	r = w->link_rt[l];
	/* No IPv6 inside the link: its interfaces would send their own router
	 * solicitations and MLD reports into the path. */
	netnsfs_sysctl(w->link_ns[l], "net/ipv6/conf/all/disable_ipv6", "1");
	netnsfs_sysctl(w->link_ns[l], "net/ipv6/conf/default/disable_ipv6", "1");
	for (int e = 0; e < 2; e++) {
		err = nlr_veth_create(root, lk->name, w->host_ns[lk->end[e].host], link_ifname[e],
				      w->link_ns[l]);
		if (err)
			return werr(w, "link %s: veth: %s", lk->name, nlr_last_error(root));
	}
	w->links[l].dir[0] = lk->dir[0];
	w->links[l].dir[1] = lk->dir[1];
	if (pick_backend(w, t, l, &w->links[l].backend))
		return -1;
	if (w->links[l].backend == WORLD_BACKEND_USER)
		return start_emulator(w, l);
	if ((err = nlr_redirect(r, link_ifname[0], link_ifname[1], true)) ||
	    (err = nlr_redirect(r, link_ifname[1], link_ifname[0], true)))
		return werr(w, "link %s: redirect: %s", lk->name, nlr_last_error(r));
	for (int d = 0; d < 2; d++) {
		if (w->links[l].backend == WORLD_BACKEND_NETEM ? netem_dir(w, l, d, ~0u)
							       : shape_dir(w, l, d))
			return -1;
	}
	if (w->links[l].backend == WORLD_BACKEND_NETEM || htb_shaped(w->t, l)) {
		/* netem's loss, duplication and corruption count wire packets only
		 * when the hosts send no TSO/GSO super-frames; so does an HTB queue
		 * limit in packets: a 64 KiB super-frame would count as one packet,
		 * and a 100-packet queue hold seconds of data at a low rate */
		for (int e = 0; e < 2; e++)
			if ((err = host_offloads_off(w, lk->end[e].host, lk->name)))
				return werr(w, "link %s: offloads on %s: %s", lk->name,
					    t->hosts[lk->end[e].host].name, strerror(-err));
	}
	if ((err = nlr_link_set_up(r, link_ifname[0], true)) ||
	    (err = nlr_link_set_up(r, link_ifname[1], true)))
		return werr(w, "link %s: up: %s", lk->name, nlr_last_error(r));
	return 0;
}

static const struct topo_iface *host_iface(const struct topology *t, int h, int l)
{
	const struct topo_link *lk = &t->links[l];

	if (lk->end[0].host == h)
		return &lk->end[0];
	if (lk->end[1].host == h)
		return &lk->end[1];
	return NULL;
}

static int add_routes(struct world *w, int h, int only_link)
{
	const struct topology *t = w->t;
	struct nlr *r = w->host_rt[h];
	struct host_routing hr;
	int err = routing_compute(t, h, &hr);

	if (err)
		return werr(w, "routes of %s: %s", t->hosts[h].name, strerror(-err));
	for (int i = 0; i < hr.nrules && !err; i++) {
		const struct rule_entry *ru = &hr.rules[i];
		if (only_link >= 0 && ru->link != only_link)
			continue;
		err = nlr_rule_add(r, &ru->src, ru->table, ru->prio);
		if (err == -EEXIST)
			err = 0;
	}
	for (int i = 0; i < hr.nroutes && !err; i++) {
		const struct route_entry *e = &hr.routes[i];
		if (only_link >= 0 && e->link != only_link)
			continue;
		err = nlr_route_add(r, e->table, &e->dst, e->gw.family ? &e->gw : NULL,
				    t->links[e->link].name, e->src.family ? &e->src : NULL);
		if (err == -EEXIST)
			err = 0;
	}
	routing_free(&hr);
	if (err)
		return werr(w, "host %s: routes: %s", t->hosts[h].name, nlr_last_error(r));
	return 0;
}

static int add_endpoint(struct world *w, int h, int l)
{
	const struct topo_iface *i = host_iface(w->t, h, l);
	struct mptcp_pm_endpoint ep = {0};
	int err;

	if (!w->host_pm[h] || !i || !i->endpoint_set)
		return 0;
	ep.addr = i->addr4;
	ep.addr.prefixlen = 32;
	ep.id = (uint8_t)i->endpoint_id;
	ep.flags = i->endpoint_flags;
	ep.ifindex = nlr_ifindex(w->host_rt[h], i->ifname);
	if (ep.ifindex < 0)
		ep.ifindex = 0;
	err = mptcp_pm_add_endpoint(w->host_pm[h], &ep);
	if (err)
		return werr(w, "host %s: MPTCP endpoint on %s: %s", w->t->hosts[h].name, i->ifname,
			    mptcp_pm_last_error(w->host_pm[h]));
	return 0;
}

static int build_host(struct world *w, int h)
{
	const struct topology *t = w->t;
	const struct topo_host *ho = &t->hosts[h];
	char name[256];

	world_host_ns_name(t, h, name, sizeof(name));
	if (open_ns(w, name, &w->host_ns[h], &w->host_rt[h]))
		return -1;
	if (ho->forward) {
		netnsfs_sysctl(w->host_ns[h], "net/ipv4/ip_forward", "1");
		netnsfs_sysctl(w->host_ns[h], "net/ipv6/conf/all/forwarding", "1");
	}
	/* Source routing sends replies out of the link their address belongs to;
	 * strict reverse-path filtering would drop the asymmetric cases. */
	netnsfs_sysctl(w->host_ns[h], "net/ipv4/conf/all/rp_filter", "0");
	netnsfs_sysctl(w->host_ns[h], "net/ipv4/conf/default/rp_filter", "0");
	/* ipv6: false means no IPv6 at all: without this, every interface still
	 * sends link-local DAD, MLD reports and router solicitations at random
	 * times, which a link emulator sees (and draws its loss model for). */
	if (!t->ipv6) {
		netnsfs_sysctl(w->host_ns[h], "net/ipv6/conf/all/disable_ipv6", "1");
		netnsfs_sysctl(w->host_ns[h], "net/ipv6/conf/default/disable_ipv6", "1");
	}
	/* The apps get it per socket (mpt-perf -C); the namespace's default too where
	 * the kernel lets a namespace pick it (only the algorithms listed in
	 * net.ipv4.tcp_allowed_congestion_control), so `mpnet exec` tools share it. */
	if (ho->congestion[0] && ho->stack != TOPO_STACK_MPT)
		netnsfs_sysctl(w->host_ns[h], "net/ipv4/tcp_congestion_control", ho->congestion);
	if (nlr_link_set_up(w->host_rt[h], "lo", true))
		return werr(w, "host %s: lo: %s", ho->name, nlr_last_error(w->host_rt[h]));
	return 0;
}

static int configure_host(struct world *w, int h)
{
	const struct topology *t = w->t;
	const struct topo_host *ho = &t->hosts[h];
	struct nlr *r = w->host_rt[h];

	for (int l = 0; l < t->nlinks; l++) {
		const struct topo_iface *i = host_iface(t, h, l);
		int err;

		if (!i)
			continue;
		if ((err = nlr_addr_add(r, i->ifname, &i->addr4)) ||
		    (i->addr6.family && (err = nlr_addr_add(r, i->ifname, &i->addr6))) ||
		    (err = nlr_link_set_up(r, i->ifname, true)))
			return werr(w, "host %s: %s: %s", ho->name, i->ifname, nlr_last_error(r));
	}
	if (add_routes(w, h, -1))
		return -1;
	if (ho->stack == TOPO_STACK_KERNEL || ho->stack == TOPO_STACK_MPT) {
		/* The namespace's MPTCP limits and endpoints.  libmpt reads them from
		 * the kernel's path manager as the kernel's MPTCP does (stack/rt/rt_pm.c),
		 * so that a hand-run `mpt-perf --stack mpt` gets the topology's.  A kernel
		 * without MPTCP has no path manager: stack: kernel cannot run; libmpt
		 * keeps its defaults, and mpnet run puts them on the command line anyway
		 * (perf_argv.c). */
		struct mptcp_pm *pm = mptcp_pm_open(w->host_ns[h]);
		int err;

		if (!pm && ho->stack == TOPO_STACK_MPT)
			return 0;
		if (!pm)
			return werr(w,
				    "host %s: the kernel's MPTCP path manager is not reachable "
				    "(%s); stack: kernel needs a kernel with MPTCP",
				    ho->name, strerror(errno));
		w->host_pm[h] = pm;
		err = mptcp_pm_set_limits(pm, (uint32_t)ho->mptcp.subflows,
					  (uint32_t)ho->mptcp.add_addr_accepted);
		if (err)
			return werr(w, "host %s: MPTCP limits: %s", ho->name,
				    mptcp_pm_last_error(pm));
		for (int l = 0; l < t->nlinks; l++)
			if (add_endpoint(w, h, l))
				return -1;
	}
	return 0;
}

static int alloc_world(struct world *w, const struct topology *t)
{
	memset(w->err, 0, sizeof(w->err));
	w->t = t;
	w->host_ns = malloc(sizeof(int) * (size_t)t->nhosts);
	w->link_ns = malloc(sizeof(int) * (size_t)(t->nlinks ? t->nlinks : 1));
	w->host_rt = calloc((size_t)t->nhosts, sizeof(*w->host_rt));
	w->link_rt = calloc((size_t)(t->nlinks ? t->nlinks : 1), sizeof(*w->link_rt));
	w->host_pm = calloc((size_t)t->nhosts, sizeof(*w->host_pm));
	w->links = calloc((size_t)(t->nlinks ? t->nlinks : 1), sizeof(*w->links));
	if (!w->host_ns || !w->link_ns || !w->host_rt || !w->link_rt || !w->host_pm || !w->links)
		return werr(w, "out of memory");
	for (int i = 0; i < t->nhosts; i++)
		w->host_ns[i] = -1;
	for (int i = 0; i < t->nlinks; i++)
		w->link_ns[i] = -1;
	return 0;
}

int world_up(struct world *w, const struct topology *t)
{
	struct nlr *root = NULL;
	char saved[TOPO_ERR_MAX];

	if (alloc_world(w, t))
		goto fail;
	state_dir(t->name, w->state_dir, sizeof(w->state_dir));
	mkdir(WORLD_STATE_DIR, 0755);
	if (mkdir(w->state_dir, 0755) && errno != EEXIST) {
		werr(w, "creating %s: %s", w->state_dir, strerror(errno));
		goto fail;
	}
	root = nlr_open(-1);
	if (!root) {
		werr(w, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	for (int h = 0; h < t->nhosts; h++)
		if (build_host(w, h))
			goto fail;
	for (int l = 0; l < t->nlinks; l++)
		if (build_link(w, root, l))
			goto fail;
	for (int h = 0; h < t->nhosts; h++)
		if (configure_host(w, h))
			goto fail;
	nlr_close(root);
	return 0;
fail:
	nlr_close(root);
	memcpy(saved, w->err, sizeof(saved));
	world_release(w);
	world_down_topology(t);
	memcpy(w->err, saved, sizeof(saved));
	return -1;
}

/* SIGTERM (the emulator writes its final stats) and reap it. */
static void stop_emulator(struct world_link_state *ls)
{
	if (ls->emu_pid <= 0)
		return;
	kill(ls->emu_pid, SIGTERM);
	for (int i = 0; i < EMU_STOP_TIMEOUT_MS / 10; i++) {
		if (waitpid(ls->emu_pid, NULL, WNOHANG) != 0)
			goto done;
		usleep(10000);
	}
	kill(ls->emu_pid, SIGKILL);
	waitpid(ls->emu_pid, NULL, 0);
done:
	ls->emu_pid = 0;
}

void world_release(struct world *w)
{
	const struct topology *t = w->t;

	if (!t)
		return;
	for (int h = 0; w->host_ns && h < t->nhosts; h++) {
		if (w->host_pm && w->host_pm[h])
			mptcp_pm_close(w->host_pm[h]);
		if (w->host_rt && w->host_rt[h])
			nlr_close(w->host_rt[h]);
		if (w->host_ns[h] >= 0)
			close(w->host_ns[h]);
	}
	for (int l = 0; w->links && l < t->nlinks && !w->detach; l++)
		stop_emulator(&w->links[l]);
	for (int l = 0; w->link_ns && l < t->nlinks; l++) {
		if (w->link_rt && w->link_rt[l])
			nlr_close(w->link_rt[l]);
		if (w->link_ns[l] >= 0)
			close(w->link_ns[l]);
	}
	free(w->host_ns);
	free(w->link_ns);
	free(w->host_rt);
	free(w->link_rt);
	free(w->host_pm);
	free(w->links);
	w->host_ns = w->link_ns = NULL;
	w->host_rt = w->link_rt = NULL;
	w->host_pm = NULL;
	w->links = NULL;
	w->t = NULL;
}

/* --- tearing down -------------------------------------------------------------- */

static int rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

int world_down_topology(const struct topology *t)
{
	char name[256], dir[300];
	int n = 0;

	/* Links first: their emulators go with them, and each host's veths. */
	for (int l = 0; l < t->nlinks; l++) {
		world_link_ns_name(t, l, name, sizeof(name));
		if (ns_exists(name) && netnsfs_delete(name, NS_KILL_GRACE_MS) == 0)
			n++;
	}
	for (int h = 0; h < t->nhosts; h++) {
		world_host_ns_name(t, h, name, sizeof(name));
		if (ns_exists(name) && netnsfs_delete(name, NS_KILL_GRACE_MS) == 0)
			n++;
	}
	state_dir(t->name, dir, sizeof(dir));
	rm_tree(dir);
	rmdir(WORLD_STATE_DIR); /* only when nothing else is in it */
	return n;
}

static int delete_one(const char *name, void *arg)
{
	int *n = arg;

	if (netnsfs_delete(name, NS_KILL_GRACE_MS) == 0)
		(*n)++;
	return 0;
}

int world_down_all(void)
{
	int n = 0;

	char p[32];
	DIR *d;
	struct dirent *de;

	snprintf(p, sizeof(p), "%sl-", world_prefix());
	netnsfs_list(p, delete_one, &n);
	snprintf(p, sizeof(p), "%s-", world_prefix());
	netnsfs_list(p, delete_one, &n);
	d = opendir(WORLD_STATE_DIR);
	while (d && (de = readdir(d))) {
		char dir[512];

		if (strncmp(de->d_name, p, strlen(p)))
			continue;
		snprintf(dir, sizeof(dir), WORLD_STATE_DIR "/%s", de->d_name);
		rm_tree(dir);
	}
	if (d)
		closedir(d);
	rmdir(WORLD_STATE_DIR);
	return n;
}

/* --- events -------------------------------------------------------------------- */

static void merge_dir(struct topo_dir *cur, const struct topo_dir *p)
{
	if (p->set & TOPO_F_RATE)
		cur->rate_bps = p->rate_bps;
	if (p->set & TOPO_F_QUEUE) {
		cur->queue = p->queue;
		cur->queue_unit = p->queue_unit;
	}
	if (p->set & TOPO_F_DELAY)
		cur->delay_ns = p->delay_ns;
	if (p->set & TOPO_F_JITTER) {
		cur->jitter_ns = p->jitter_ns;
		cur->delay_corr = p->delay_corr;
	}
	if (p->set & TOPO_F_DIST)
		cur->dist = p->dist;
	if (p->set & TOPO_F_LOSS) {
		cur->loss_model = p->loss_model;
		memcpy(cur->loss, p->loss, sizeof(cur->loss));
	}
	if (p->set & TOPO_F_DUPLICATE) {
		cur->duplicate = p->duplicate;
		cur->duplicate_corr = p->duplicate_corr;
	}
	if (p->set & TOPO_F_CORRUPT) {
		cur->corrupt = p->corrupt;
		cur->corrupt_corr = p->corrupt_corr;
	}
	if (p->set & TOPO_F_REWRITE)
		cur->rewrite = p->rewrite;
	if (p->set & TOPO_F_REORDER) {
		cur->reorder = p->reorder;
		cur->reorder_corr = p->reorder_corr;
		cur->reorder_gap = p->reorder_gap;
	}
	if (p->set & TOPO_F_TRACE)
		memcpy(cur->trace, p->trace, sizeof(cur->trace));
	if (p->set & TOPO_F_AQM) {
		cur->codel = p->codel;
		cur->codel_target_ns = p->codel_target_ns;
		cur->codel_interval_ns = p->codel_interval_ns;
	}
	cur->set |= p->set;
}

static int set_carrier(struct world *w, int l, bool up)
{
	struct nlr *r = w->link_rt[l];
	int err;

	if ((err = nlr_link_set_up(r, link_ifname[0], up)) ||
	    (err = nlr_link_set_up(r, link_ifname[1], up)))
		return werr(w, "link %s: carrier %s: %s", w->t->links[l].name, up ? "up" : "down",
			    nlr_last_error(r));
	w->links[l].down = !up;
	return 0;
}

static int set_blackhole(struct world *w, int l, bool on)
{
	struct nlr *r = w->link_rt[l];
	int err;

	if (w->links[l].backend == WORLD_BACKEND_USER) {
		err = emu_ctl_blackhole(w->links[l].emu_ctl, on);
		if (err)
			return werr(w, "link %s: blackhole: emulator: %s", w->t->links[l].name,
				    strerror(-err));
		w->links[l].blackhole = on;
		return 0;
	}
	/* Without the redirects, frames arriving on e0/e1 go nowhere; carrier stays. */
	if ((err = nlr_redirect(r, link_ifname[0], link_ifname[1], !on)) ||
	    (err = nlr_redirect(r, link_ifname[1], link_ifname[0], !on)))
		return werr(w, "link %s: blackhole: %s", w->t->links[l].name, nlr_last_error(r));
	w->links[l].blackhole = on;
	return 0;
}

static int addr_change(struct world *w, int h, int l, bool add)
{
	const struct topology *t = w->t;
	const struct topo_iface *i = host_iface(t, h, l);
	struct nlr *r = w->host_rt[h];
	int err = 0;

	if (!add && w->host_pm[h] && i->endpoint_set) {
		/* As a connection manager would: the endpoint goes first, so the kernel
		 * announces REMOVE_ADDR and closes the subflows on it. */
		err = mptcp_pm_del_endpoint(w->host_pm[h], (uint8_t)i->endpoint_id);
		if (err && err != -ENOENT && err != -EINVAL)
			return werr(w, "host %s: removing endpoint %d: %s", t->hosts[h].name,
				    i->endpoint_id, mptcp_pm_last_error(w->host_pm[h]));
	}
	if (add) {
		err = nlr_addr_add(r, i->ifname, &i->addr4);
		if (!err && i->addr6.family)
			err = nlr_addr_add(r, i->ifname, &i->addr6);
	} else {
		err = nlr_addr_del(r, i->ifname, &i->addr4);
		if (!err && i->addr6.family)
			err = nlr_addr_del(r, i->ifname, &i->addr6);
	}
	if (err && err != -EEXIST && err != -EADDRNOTAVAIL && err != -ENOENT)
		return werr(w, "host %s: %s address on %s: %s", t->hosts[h].name,
			    add ? "adding" : "removing", i->ifname, nlr_last_error(r));
	if (add) {
		if (add_routes(w, h, l))
			return -1;
		if (add_endpoint(w, h, l))
			return -1;
	}
	return 0;
}

int world_apply_event(struct world *w, const struct topo_event *ev)
{
	int l = ev->link;

	switch (ev->action) {
	case TOPO_EV_DOWN:
		return set_carrier(w, l, false);
	case TOPO_EV_UP:
		return set_carrier(w, l, true);
	case TOPO_EV_BLACKHOLE:
		return set_blackhole(w, l, true);
	case TOPO_EV_RESTORE:
		return set_blackhole(w, l, false);
	case TOPO_EV_ADDR_DEL:
		return addr_change(w, ev->host, l, false);
	case TOPO_EV_ADDR_ADD:
		return addr_change(w, ev->host, l, true);
	case TOPO_EV_SET:
		if (w->links[l].backend == WORLD_BACKEND_USER) {
			int err = emu_ctl_set(w->links[l].emu_ctl, ev->dir_mask, &ev->params);
			if (err)
				return werr(w, "link %s: set: emulator: %s", w->t->links[l].name,
					    strerror(-err));
			for (int d = 0; d < 2; d++)
				if (ev->dir_mask & (1 << d))
					merge_dir(&w->links[l].dir[d], &ev->params);
			return 0;
		}
		for (int d = 0; d < 2; d++) {
			struct topo_dir before = w->links[l].dir[d];

			if (!(ev->dir_mask & (1 << d)))
				continue;
			merge_dir(&w->links[l].dir[d], &ev->params);
			if (w->links[l].backend == WORLD_BACKEND_NETEM) {
				unsigned ch = emu_netem_changes(&before, &w->links[l].dir[d]);

				if (ch && netem_dir(w, l, d, ch))
					return -1;
			} else if (shape_dir(w, l, d)) {
				return -1;
			}
		}
		return 0;
	}
	return werr(w, "unknown event");
}

/* Emulator stats of direction d ("up"/"down") from its control socket. */
static json_t *emu_dir_stats_json(struct world *w, int l, int d)
{
	char *text = NULL;
	json_t *all, *dir;
	json_error_t je;

	if (emu_ctl_stats(w->links[l].emu_ctl, &text))
		return NULL;
	all = json_loads(text, 0, &je);
	free(text);
	dir = all ? json_incref(json_object_get(all, d ? "down" : "up")) : NULL;
	json_decref(all);
	return dir;
}

int world_link_counters(struct world *w, int l, int d, struct world_link_counters *out)
{
	struct nlr_link_counters c;
	int err;

	memset(out, 0, sizeof(*out));
	if (w->links[l].backend == WORLD_BACKEND_USER) {
		json_t *j = emu_dir_stats_json(w, l, d), *v;
		const char *k;

		if (!j)
			return werr(w, "link %s: the emulator did not answer for its counters",
				    w->t->links[l].name);
		out->tx_bytes = (uint64_t)json_integer_value(json_object_get(j, "bytes_out"));
		out->tx_packets = (uint64_t)json_integer_value(json_object_get(j, "pkts_out"));
		out->backlog_bytes =
			(uint64_t)json_integer_value(json_object_get(j, "queued_bytes"));
		json_object_foreach(json_object_get(j, "drops"), k, v) out->dropped +=
			(uint64_t)json_integer_value(v);
		json_decref(j);
		return 0;
	}
	if (w->links[l].backend == WORLD_BACKEND_NETEM) {
		struct nlr_qdisc_stats q;

		/* the root of the direction's tree: what it sent, and every drop in
		 * it (HTB counts its netem leaf's drops, loss included) */
		err = nlr_qdisc_stats(w->link_rt[l], link_ifname[d == 0 ? 1 : 0], 0, &q);
		if (err || !q.found)
			return werr(w, "link %s: netem counters: %s", w->t->links[l].name,
				    err ? nlr_last_error(w->link_rt[l]) : "no qdisc");
		out->tx_bytes = q.bytes;
		out->tx_packets = q.packets;
		out->dropped = q.drops;
		out->backlog_bytes = q.backlog;
		return 0;
	}
	err = nlr_link_counters(w->link_rt[l], link_ifname[d == 0 ? 1 : 0], &c);
	if (err)
		return werr(w, "link %s: counters: %s", w->t->links[l].name,
			    nlr_last_error(w->link_rt[l]));
	out->tx_bytes = c.tx_bytes;
	out->tx_packets = c.tx_packets;
	out->dropped = c.tx_dropped + c.qdisc_drops;
	out->backlog_bytes = c.qdisc_backlog;
	return 0;
}

json_t *world_link_json(struct world *w, int l, int d)
{
	struct world_link_counters c;
	json_t *o =
		json_pack("{s:s, s:s, s:s}", "name", w->t->links[l].name, "dir", d ? "down" : "up",
			  "backend", world_backend_name(w->links[l].backend));

	if (world_link_counters(w, l, d, &c) == 0) {
		json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c.tx_bytes));
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)c.tx_packets));
		json_object_set_new(o, "dropped", json_integer((json_int_t)c.dropped));
		json_object_set_new(o, "backlog_bytes", json_integer((json_int_t)c.backlog_bytes));
	} else {
		json_object_set_new(o, "error", json_string(w->err));
	}
	if (w->links[l].backend == WORLD_BACKEND_USER) {
		json_t *j = emu_dir_stats_json(w, l, d);
		if (j)
			json_object_set_new(o, "emulator", j);
	}
	if (w->links[l].backend == WORLD_BACKEND_NETEM) {
		struct nlr_qdisc_stats q;

		if (nlr_qdisc_stats(w->link_rt[l], link_ifname[d == 0 ? 1 : 0], EMU_NETEM_LEAF,
				    &q) == 0 &&
		    q.found)
			json_object_set_new(
				o, "netem",
				json_pack("{s:I, s:I, s:I, s:I, s:I}", "packets",
					  (json_int_t)q.packets, "bytes", (json_int_t)q.bytes,
					  "drops", (json_int_t)q.drops, "qlen", (json_int_t)q.qlen,
					  "backlog_bytes", (json_int_t)q.backlog));
	}
	return o;
}

int world_enter_host(const struct topology *t, int host)
{
	char name[256];
	int fd, err, saved;

	world_host_ns_name(t, host, name, sizeof(name));
	fd = netnsfs_open(name);
	if (fd < 0)
		return fd;
	err = netnsfs_enter(fd, &saved);
	close(fd);
	if (!err)
		close(saved);
	return err;
}
