#include "topo_json.h"

#include "units.h"

#include <stdio.h>
#include <string.h>

static const char *const ep_names[] = {"signal", "subflow", "backup", "fullmesh"};

json_t *topo_json_endpoint_flags(uint32_t flags)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < 4; i++)
		if (flags & (1u << i))
			json_array_append_new(a, json_string(ep_names[i]));
	return a;
}

const char *topo_endpoint_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (flags & (1u << i))
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "," : "", ep_names[i]);
	if (!off)
		snprintf(buf, len, "-");
	return buf;
}

static json_t *pct(double f)
{
	return json_real(f * 100.0);
}

json_t *topo_json_dir(const struct topo_dir *d)
{
	static const char *const dists[] = {"uniform", "normal", "pareto", "paretonormal"};
	static const char *const qunits[] = {"packets", "bytes", "ns"};
	json_t *o = json_object();

	if (d->set & TOPO_F_RATE)
		json_object_set_new(o, "rate_bps", json_integer((json_int_t)d->rate_bps));
	if (d->set & TOPO_F_DELAY)
		json_object_set_new(o, "delay_ns", json_integer((json_int_t)d->delay_ns));
	if (d->set & TOPO_F_JITTER) {
		json_object_set_new(o, "jitter_ns", json_integer((json_int_t)d->jitter_ns));
		json_object_set_new(o, "delay_correlation_pct", pct(d->delay_corr));
	}
	if (d->set & TOPO_F_DIST)
		json_object_set_new(o, "distribution", json_string(dists[d->dist & 3]));
	if (d->set & TOPO_F_LOSS) {
		json_t *l = json_object();
		switch (d->loss_model) {
		case TOPO_LOSS_RANDOM:
			json_object_set_new(l, "model", json_string("random"));
			json_object_set_new(l, "p_pct", pct(d->loss[0]));
			json_object_set_new(l, "correlation_pct", pct(d->loss[1]));
			break;
		case TOPO_LOSS_GEMODEL:
			json_object_set_new(l, "model", json_string("gemodel"));
			json_object_set_new(l, "p_pct", pct(d->loss[0]));
			json_object_set_new(l, "r_pct", pct(d->loss[1]));
			json_object_set_new(l, "1-h_pct", pct(d->loss[2]));
			json_object_set_new(l, "1-k_pct", pct(d->loss[3]));
			break;
		case TOPO_LOSS_STATE4:
			json_object_set_new(l, "model", json_string("state4"));
			json_object_set_new(l, "p13_pct", pct(d->loss[0]));
			json_object_set_new(l, "p31_pct", pct(d->loss[1]));
			json_object_set_new(l, "p32_pct", pct(d->loss[2]));
			json_object_set_new(l, "p23_pct", pct(d->loss[3]));
			json_object_set_new(l, "p14_pct", pct(d->loss[4]));
			break;
		case TOPO_LOSS_NONE:
			json_object_set_new(l, "model", json_string("none"));
			break;
		}
		json_object_set_new(o, "loss", l);
	}
	if (d->set & TOPO_F_DUPLICATE)
		json_object_set_new(o, "duplicate_pct", pct(d->duplicate));
	if (d->set & TOPO_F_CORRUPT)
		json_object_set_new(o, "corrupt_pct", pct(d->corrupt));
	if (d->set & TOPO_F_REWRITE)
		json_object_set_new(o, "rewrite", json_integer(d->rewrite));
	if (d->set & TOPO_F_REORDER) {
		json_object_set_new(o, "reorder_pct", pct(d->reorder));
		json_object_set_new(o, "reorder_gap", json_integer(d->reorder_gap));
	}
	if (d->set & TOPO_F_QUEUE) {
		json_object_set_new(o, "queue", json_integer((json_int_t)d->queue));
		json_object_set_new(o, "queue_unit", json_string(qunits[d->queue_unit % 3]));
	}
	if (d->set & TOPO_F_TRACE)
		json_object_set_new(o, "trace", json_string(d->trace));
	if (d->set & TOPO_F_AQM) {
		json_t *c = d->codel ? json_pack("{s:I, s:I}", "target_ns",
						 (json_int_t)d->codel_target_ns, "interval_ns",
						 (json_int_t)d->codel_interval_ns)
				     : json_false();

		json_object_set_new(o, "codel", c);
	}
	return o;
}

static json_t *addr_json(const struct netaddr *a)
{
	char b[NETADDR_STRLEN];

	if (!a->family)
		return json_null();
	return json_string(netaddr_fmt(a, true, b, sizeof(b)));
}

json_t *topo_json(const struct topology *t)
{
	json_t *o = json_object(), *hosts = json_array(), *links = json_array();
	json_t *apps = json_array(), *events = json_array();

	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "file", json_string(t->path));
	json_object_set_new(o, "seed", json_integer((json_int_t)t->seed));
	json_object_set_new(o, "ipv6", json_boolean(t->ipv6));
	json_object_set_new(o, "emulator", json_string(topo_emulator_name(t->emulator)));
	for (int h = 0; h < t->nhosts; h++) {
		const struct topo_host *ho = &t->hosts[h];
		json_t *j = json_pack("{s:s, s:s, s:b}", "name", ho->name, "stack",
				      topo_stack_name(ho->stack), "forward", ho->forward);
		if (ho->stack == TOPO_STACK_KERNEL || ho->stack == TOPO_STACK_MPT)
			json_object_set_new(j, "mptcp",
					    json_pack("{s:i, s:i}", "subflows", ho->mptcp.subflows,
						      "add_addr_accepted",
						      ho->mptcp.add_addr_accepted));
		json_array_append_new(hosts, j);
	}
	for (int l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		json_t *j = json_object(), *ends = json_array();

		json_object_set_new(j, "name", json_string(lk->name));
		for (int e = 0; e < 2; e++) {
			const struct topo_iface *i = &lk->end[e];
			json_t *je = json_object();
			json_object_set_new(je, "host", json_string(t->hosts[i->host].name));
			json_object_set_new(je, "ifname", json_string(i->ifname));
			json_object_set_new(je, "ipv4", addr_json(&i->addr4));
			json_object_set_new(je, "ipv6", addr_json(&i->addr6));
			if (i->endpoint_set) {
				json_object_set_new(je, "endpoint",
						    topo_json_endpoint_flags(i->endpoint_flags));
				json_object_set_new(je, "endpoint_id",
						    json_integer(i->endpoint_id));
			}
			json_array_append_new(ends, je);
		}
		json_object_set_new(j, "between", ends);
		json_object_set_new(j, "up", topo_json_dir(&lk->dir[0]));
		json_object_set_new(j, "down", topo_json_dir(&lk->dir[1]));
		json_object_set_new(j, "emulator",
				    json_string(topo_emulator_name(
					    lk->emulator_set ? lk->emulator : t->emulator)));
		json_array_append_new(links, j);
	}
	for (int a = 0; a < t->napps; a++) {
		const struct topo_app *ap = &t->apps[a];
		char b[NETADDR_STRLEN];
		json_t *j = json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:f}", "name", ap->name, "client",
			t->hosts[ap->client].name, "server", t->hosts[ap->server].name,
			"server_address", netaddr_fmt(&ap->server_addr, false, b, sizeof(b)),
			"server_link", t->links[ap->server_link].name, "port", (int)ap->port,
			"direction", ap->direction == TOPO_UPLOAD ? "upload" : "download",
			"start_s", (double)ap->start_ns / 1e9);
		json_object_set_new(j, "mode", json_string(topo_mode_name(ap->mode)));
		if (ap->mode == TOPO_MODE_COMMAND) /* unknown until the run's counters say */
			json_object_del(j, "direction");
		if (ap->mode == TOPO_MODE_RR)
			json_object_set_new(j, "rr",
					    json_pack("{s:I, s:I, s:i}", "request",
						      (json_int_t)ap->request, "response",
						      (json_int_t)ap->response, "exchanges",
						      (int)ap->exchanges));
		else if (ap->mode == TOPO_MODE_COMMAND)
			json_object_set_new(j, "command",
					    json_pack("{s:s, s:s}", "client", ap->client_cmd,
						      "server", ap->server_cmd));
		else if (ap->bytes)
			json_object_set_new(j, "bytes", json_integer((json_int_t)ap->bytes));
		else
			json_object_set_new(j, "time_s", json_real((double)ap->time_ns / 1e9));
		if (ap->mode == TOPO_MODE_STREAM)
			json_object_set_new(j, "stream",
					    json_pack("{s:I, s:I}", "rate_bps",
						      (json_int_t)ap->rate_bps, "chunk",
						      (json_int_t)ap->chunk));
		json_object_set_new(j, "timeout_s", json_real((double)ap->timeout_ns / 1e9));
		json_array_append_new(apps, j);
	}
	for (int i = 0; i < t->nevents; i++) {
		const struct topo_event *ev = &t->events[i];
		json_t *j =
			json_pack("{s:f, s:s, s:s}", "at_s", (double)ev->at_ns / 1e9, "action",
				  topo_action_name(ev->action), "link", t->links[ev->link].name);
		if (ev->host >= 0)
			json_object_set_new(j, "host", json_string(t->hosts[ev->host].name));
		if (ev->action == TOPO_EV_SET) {
			json_object_set_new(j, "dir",
					    json_string(ev->dir_mask == 3   ? "both"
							: ev->dir_mask == 1 ? "up"
									    : "down"));
			json_object_set_new(j, "params", topo_json_dir(&ev->params));
		}
		json_array_append_new(events, j);
	}
	json_object_set_new(o, "hosts", hosts);
	json_object_set_new(o, "links", links);
	json_object_set_new(o, "apps", apps);
	json_object_set_new(o, "events", events);
	return o;
}
