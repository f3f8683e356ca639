#include "perf_sampler.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return true;
}

void perf_sampler_init(struct perf_sampler *sp, int fd, uint64_t interval_ns,
		       const struct sockaddr_storage *local, const struct sockaddr_storage *remote)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	memset(sp, 0, sizeof(*sp));
	sp->fd = fd;
	sp->interval_ns = interval_ns;
	if (local)
		sp->conn_local = *local;
	if (remote)
		sp->conn_remote = *remote;
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0)
		sp->is_mptcp = proto == IPPROTO_MPTCP;
	atomic_init(&sp->app_bytes, 0);
	pthread_mutex_init(&sp->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&sp->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
}

static int peer_index(struct perf_sampler *sp, const struct perf_subflow *sf)
{
	for (int i = 0; i < sp->n_peer; i++)
		if (same_addr(&sp->peer[i].local, &sf->local) &&
		    same_addr(&sp->peer[i].remote, &sf->remote))
			return i;
	if (sp->n_peer == PERF_MAX_SUBFLOWS)
		return -1;
	sp->peer[sp->n_peer].local = sf->local;
	sp->peer[sp->n_peer].remote = sf->remote;
	return sp->n_peer++;
}

int perf_sampler_add(struct perf_sampler *sp, uint64_t t_ns, uint64_t app_bytes,
		     const struct perf_subflow *sub, int n)
{
	struct perf_sample *s;

	if (sp->n >= PERF_MAX_SAMPLES)
		goto drop;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 256;
		struct perf_sample *ns = realloc(sp->s, cap * sizeof(*ns));

		if (!ns)
			goto drop;
		sp->s = ns;
		sp->cap = cap;
	}
	if (sp->n_sub + (size_t)n > sp->cap_sub) {
		size_t cap = sp->cap_sub ? sp->cap_sub * 2 : 512;
		struct perf_sample_sub *nsub;

		while (cap < sp->n_sub + (size_t)n)
			cap *= 2;
		nsub = realloc(sp->sub, cap * sizeof(*nsub));
		if (!nsub)
			goto drop;
		sp->sub = nsub;
		sp->cap_sub = cap;
	}
	s = &sp->s[sp->n++];
	*s = (struct perf_sample){.t_ns = t_ns, .app_bytes = app_bytes, .first = sp->n_sub};
	for (int i = 0; i < n; i++) {
		const struct tcp_info *ti = &sub[i].ti;
		int p = peer_index(sp, &sub[i]);

		if (p < 0)
			continue;
		sp->sub[sp->n_sub++] = (struct perf_sample_sub){
			.bytes_acked = ti->tcpi_bytes_acked,
			.bytes_sent = ti->tcpi_bytes_sent,
			.bytes_retrans = ti->tcpi_bytes_retrans,
			.bytes_received = ti->tcpi_bytes_received,
			.total_retrans = ti->tcpi_total_retrans,
			.peer = (uint8_t)p,
		};
		s->n++;
	}
	return 0;
drop:
	sp->truncated = true;
	return -1;
}

/* One sample from the socket. */
static void take_sample(struct perf_sampler *sp)
{
	struct perf_subflow sub[PERF_MAX_SUBFLOWS];
	uint64_t t = mono_ns(), app = atomic_load(&sp->app_bytes);
	int n = -1;

	if (sp->is_mptcp)
		n = perf_sockinfo_subflows(sp->fd, sub, PERF_MAX_SUBFLOWS, NULL);
	if (n < 0) {
		socklen_t len = sizeof(sub[0].ti);

		memset(&sub[0], 0, sizeof(sub[0]));
		sub[0].local = sp->conn_local;
		sub[0].remote = sp->conn_remote;
		n = getsockopt(sp->fd, IPPROTO_TCP, TCP_INFO, &sub[0].ti, &len) == 0 ? 1 : 0;
	}
	perf_sampler_add(sp, t, app, sub, n);
}

static void *sampler_main(void *arg)
{
	struct perf_sampler *sp = arg;
	uint64_t next = mono_ns();

	pthread_mutex_lock(&sp->lock);
	while (!sp->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&sp->lock);
		take_sample(sp);
		pthread_mutex_lock(&sp->lock);
		next += sp->interval_ns;
		{
			uint64_t now = mono_ns();

			if (next < now) /* fell behind: skip, do not burst */
				next = now + sp->interval_ns - (now - next) % sp->interval_ns;
		}
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		while (!sp->stop && pthread_cond_timedwait(&sp->cond, &sp->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

int perf_sampler_start(struct perf_sampler *sp)
{
	sigset_t stop, old;
	int rc;

	if (!sp->interval_ns || sp->running)
		return 0;
	sp->stop = false;
	/* SIGTERM / SIGINT go to the main thread, whose blocking call they interrupt */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	rc = pthread_create(&sp->thread, NULL, sampler_main, sp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	sp->running = true;
	return 0;
}

void perf_sampler_stop(struct perf_sampler *sp)
{
	if (!sp->running)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stop = true;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->thread, NULL);
	sp->running = false;
	take_sample(sp);
}

static double rel_s(uint64_t t, uint64_t t0)
{
	return t >= t0 ? (double)(t - t0) / 1e9 : -(double)(t0 - t) / 1e9;
}

void perf_sampler_json(const struct perf_sampler *sp, uint64_t t0_ns, json_t *obj)
{
	json_t *samples = json_array(), *ivls = json_array();

	for (size_t i = 0; i < sp->n; i++) {
		const struct perf_sample *s = &sp->s[i];
		json_t *subs = json_array();

		for (size_t k = s->first; k < s->first + s->n; k++) {
			const struct perf_sample_sub *x = &sp->sub[k];

			json_array_append_new(
				subs,
				json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "local",
					  perf_sockaddr_json(&sp->peer[x->peer].local), "remote",
					  perf_sockaddr_json(&sp->peer[x->peer].remote),
					  "bytes_acked", (json_int_t)x->bytes_acked, "bytes_sent",
					  (json_int_t)x->bytes_sent, "bytes_retrans",
					  (json_int_t)x->bytes_retrans, "bytes_received",
					  (json_int_t)x->bytes_received, "total_retrans",
					  (json_int_t)x->total_retrans));
		}
		json_array_append_new(samples,
				      json_pack("{s:f, s:I, s:o}", "t", rel_s(s->t_ns, t0_ns),
						"app_bytes", (json_int_t)s->app_bytes, "subflows",
						subs));
		if (i > 0)
			json_array_append_new(
				ivls,
				json_pack("{s:f, s:f, s:I}", "start",
					  rel_s(sp->s[i - 1].t_ns, t0_ns), "end",
					  rel_s(s->t_ns, t0_ns), "bytes",
					  (json_int_t)(s->app_bytes - sp->s[i - 1].app_bytes)));
	}
	json_object_set_new(obj, "subflow_samples", samples);
	json_object_set_new(obj, "app_intervals", ivls);
	json_object_set_new(obj, "samples_truncated", json_boolean(sp->truncated));
}

void perf_sampler_free(struct perf_sampler *sp)
{
	perf_sampler_stop(sp);
	free(sp->s);
	free(sp->sub);
	sp->s = NULL;
	sp->sub = NULL;
	sp->n = sp->cap = sp->n_sub = sp->cap_sub = 0;
	pthread_cond_destroy(&sp->cond);
	pthread_mutex_destroy(&sp->lock);
}
