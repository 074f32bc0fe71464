/* status.c - `labvirt status [--json]`: a line per guest. */
#include <string.h>

#include "cmd.h"
#include "lvm.h"
#include "storage.h"

#define GIB (1024ULL * 1024 * 1024)

static const char *state_name(const struct inv_domain *d)
{
	if (d->state != DOM_ABSENT && d->foreign)
		return "foreign";
	switch (d->state) {
	case DOM_ABSENT:
		return "absent";
	case DOM_SHUTOFF:
		return "shut-off";
	case DOM_RUNNING:
		return "running";
	case DOM_PAUSED:
		return "paused";
	default:
		return "other";
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* "virtio0=32G,ide2=cdrom" */
static char *disks_text(const struct lab_guest *g)
{
	char *s = xstrdup("");
	for (size_t d = 0; d < g->n_disks; d++) {
		const struct lab_disk *k = &g->disks[d];
		char *n;
		if (k->media == MEDIA_CDROM)
			n = xasprintf("%s%s%s=cdrom", s, d ? "," : "", k->key);
		else if (k->allocate && k->size)
			n = xasprintf("%s%s%s=%llu%c", s, d ? "," : "", k->key,
				      (unsigned long long)(k->size >> (k->size % GIB ? 20 : 30)),
				      k->size % GIB ? 'M' : 'G');
		else if (k->bind || k->subvol) /* a container's folder */
			n = xasprintf("%s%s%s=folder", s, d ? "," : "", k->key);
		else
			n = xasprintf("%s%s%s=image", s, d ? "," : "", k->key);
		free(s);
		s = n;
	}
	return s;
}

static char *bridges_text(const struct lab_guest *g)
{
	char *s = xstrdup(g->n_nets ? "" : "-");
	for (size_t i = 0; i < g->n_nets; i++) {
		char *n = xasprintf("%s%s%s", s, i ? "," : "", g->nets[i].bridge);
		free(s);
		s = n;
	}
	return s;
}

/* The use of each storage that has one (lvmthin pools, lvm volume groups, btrfs file
 * systems); an error is shown, not fatal. */
static int storage_use(struct ctx *c, size_t i, struct storage_usage *u, struct lv_error *e)
{
	*u = (struct storage_usage){0};
	*e = (struct lv_error){0};
	return storage_usage(&c->lab->storages[i], u, e);
}

static void print_storages_table(struct ctx *c)
{
	for (size_t i = 0; i < c->lab->n_storages; i++) {
		const struct lab_storage *s = &c->lab->storages[i];
		struct storage_usage u;
		struct lv_error e;
		int rc = storage_use(c, i, &u, &e);
		char data[32], meta[32];
		lvm_size_text(u.data_size, data);
		lvm_size_text(u.meta_size, meta);
		const char *type = lab_storage_type_name(s);
		_cleanup_free_ char *prefix = xasprintf("%s storage '%s': ", type, s->id);
		_cleanup_free_ char *prefix2 = xasprintf("storage '%s': ", s->id);
		const char *why = startswith(e.msg, prefix)    ? e.msg + strlen(prefix)
				  : startswith(e.msg, prefix2) ? e.msg + strlen(prefix2)
							       : e.msg;
		bool thin = s->type == STORAGE_LVMTHIN, btrfs = s->type == STORAGE_BTRFS;
		bool zfs = s->type == STORAGE_ZFSPOOL;
		if (rc < 0 && (btrfs || zfs))
			fprintf(c->out, "storage %s (%s %s): unavailable: %s\n", s->id, type,
				btrfs ? s->path : s->pool, why);
		else if (rc < 0)
			fprintf(c->out, "storage %s (%s %s%s%s): unavailable: %s\n", s->id, type,
				s->vgname, thin ? "/" : "", thin ? s->thinpool : "", why);
		else if (rc > 0 && (btrfs || zfs))
			fprintf(c->out, "storage %s (%s %s): %.2f%% of %s used\n", s->id, type,
				u.pool, u.data_pct, data);
		else if (rc > 0 && !thin)
			fprintf(c->out, "storage %s (lvm %s): %.2f%% of %s allocated\n", s->id,
				u.pool, u.data_pct, data);
		else if (rc > 0)
			fprintf(
			    c->out,
			    "storage %s (lvmthin %s): data %.2f%% of %s, metadata %.2f%% of %s\n",
			    s->id, u.pool, u.data_pct, data, u.meta_pct, meta);
	}
}

static void print_storages_json(struct ctx *c)
{
	fprintf(c->out, ",\"storages\":[");
	for (size_t i = 0, k = 0; i < c->lab->n_storages; i++) {
		struct storage_usage u;
		struct lv_error e;
		int rc = storage_use(c, i, &u, &e);
		if (rc == 0)
			continue;
		fprintf(c->out, "%s{\"id\":", k++ ? "," : "");
		json_str(c->out, c->lab->storages[i].id);
		fprintf(c->out, ",\"type\":");
		json_str(c->out, lab_storage_type_name(&c->lab->storages[i]));
		if (rc < 0) {
			fprintf(c->out, ",\"error\":");
			json_str(c->out, e.msg);
		} else {
			fprintf(c->out, ",\"pool\":");
			json_str(c->out, u.pool);
			fprintf(c->out, ",\"data_bytes\":%llu,\"data_percent\":%.2f",
				(unsigned long long)u.data_size, u.data_pct);
			/* lvm: a volume group has no metadata of its own to show */
			if (c->lab->storages[i].type == STORAGE_LVMTHIN)
				fprintf(c->out,
					",\"metadata_bytes\":%llu,\"metadata_percent\":%.2f",
					(unsigned long long)u.meta_size, u.meta_pct);
		}
		fprintf(c->out, "}");
	}
	fprintf(c->out, "]");
}

struct row {
	const struct lab_guest *g;
	struct inv_domain dom;
	struct virt_dom_info info;
	struct virt_addr *addrs; /* running guests: what ctx_guest_addresses finds */
	size_t n_addrs;
};

/* "10.10.10.128/24,10.10.10.5/24", or "-". */
static char *addresses_text(const struct row *r)
{
	char *s = xstrdup(r->n_addrs ? "" : "-");
	for (size_t i = 0; i < r->n_addrs; i++) {
		char *n = xasprintf("%s%s%s", s, i ? "," : "", r->addrs[i].addr);
		free(s);
		s = n;
	}
	return s;
}

static void print_json(struct ctx *c, struct row *rows, size_t n)
{
	fprintf(c->out, "{\"lab\":");
	json_str(c->out, c->lab->name);
	fprintf(c->out, ",\"uri\":");
	json_str(c->out, virt_uri(c->virt));
	fprintf(c->out, ",\"guests\":[");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *disks = disks_text(rows[i].g);
		_cleanup_free_ char *br = bridges_text(rows[i].g);
		fprintf(c->out, "%s{\"name\":", i ? "," : "");
		json_str(c->out, rows[i].g->name);
		fprintf(c->out,
			",\"type\":\"%s\",\"state\":", rows[i].g->kind == KIND_CT ? "ct" : "vm");
		json_str(c->out, state_name(&rows[i].dom));
		fprintf(c->out, ",\"vcpus\":%d,\"memory_mib\":%llu,\"disks\":", rows[i].info.vcpus,
			rows[i].info.mem_mib);
		json_str(c->out, disks);
		fprintf(c->out, ",\"bridges\":");
		json_str(c->out, br);
		fprintf(c->out, ",\"console\":");
		json_str(c->out, rows[i].info.console);
		fprintf(c->out, ",\"addresses\":[");
		for (size_t k = 0; k < rows[i].n_addrs; k++) {
			fprintf(c->out, "%s", k ? "," : "");
			json_str(c->out, rows[i].addrs[k].addr);
		}
		fprintf(c->out, "]");
		fprintf(c->out, "}");
	}
	fprintf(c->out, "]");
	print_storages_json(c);
	fprintf(c->out, "}\n");
}

static void print_table(struct ctx *c, struct row *rows, size_t n)
{
	fprintf(c->out, "%-16s %-4s %-9s %4s %9s  %-24s %-10s %-12s %s\n", "GUEST", "TYPE", "STATE",
		"VCPU", "RAM", "DISKS", "BRIDGE", "CONSOLE", "ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *disks = disks_text(rows[i].g);
		_cleanup_free_ char *br = bridges_text(rows[i].g);
		_cleanup_free_ char *addrs = addresses_text(&rows[i]);
		char ram[32];
		snprintf(ram, sizeof(ram), "%llu MiB", rows[i].info.mem_mib);
		fprintf(c->out, "%-16s %-4s %-9s %4d %9s  %-24s %-10s %-12s %s\n", rows[i].g->name,
			rows[i].g->kind == KIND_CT ? "ct" : "vm", state_name(&rows[i].dom),
			rows[i].info.vcpus, ram, disks, br,
			rows[i].info.console[0] ? rows[i].info.console : "-", addrs);
	}
}

static int fill_row(struct ctx *c, const struct lab_guest *g, const struct inv_domain *d,
		    const struct virt_dom_info *live, struct row *r, struct lv_error *err)
{
	r->g = g;
	r->dom = *d;
	r->info = (struct virt_dom_info){.vcpus = g->cores * g->sockets, .mem_mib = g->memory_mib};
	if (r->dom.state == DOM_ABSENT || r->dom.foreign)
		return 0;
	if (d->vcpus > 0) /* its definition; a live domain's own figures below */
		r->info.vcpus = d->vcpus, r->info.mem_mib = d->mem_mib;
	if (r->dom.state == DOM_SHUTOFF)
		return 0;
	bool read = live->vcpus > 0; /* else ctx_guest_addresses reads it, or says why not */
	if (read)
		r->info = *live;
	bool agent;
	return ctx_guest_addresses(c, g, read ? &r->info : NULL, &r->addrs, &r->n_addrs, &agent,
				   err);
}

static void rows_free(struct row **rows)
{
	for (size_t i = 0; *rows && (*rows)[i].g; i++)
		free((*rows)[i].addrs);
	free(*rows);
}

int cmd_status(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool json = false;
	const struct verb_opt opts[] = {{"--json", &json, NULL}, {0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_free_ bool *sel = NULL;
	_cleanup_(inventory_freep) struct inventory *inv = NULL;
	if (first < 0 || ctx_connect(c, err) < 0 ||
	    ctx_select(c, argc - first, argv + first, &sel, err) < 0)
		return -1;
	virt_cache_leases(c->virt); /* one reading of each network's leases */
	inv = inventory_new(c->lab);
	_cleanup_free_ struct virt_dom_info *live = xcalloc(c->lab->n_guests + 1, sizeof(*live));
	if (virt_inventory_live(c->virt, c->lab, inv, live, err) < 0)
		return -1;
	_cleanup_(rows_free) struct row *rows = xcalloc(c->lab->n_guests + 1, sizeof(*rows));
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		if (sel[i] &&
		    fill_row(c, &c->lab->guests[i], &inv->doms[i], &live[i], &rows[n++], err) < 0)
			return -1;
	if (json)
		print_json(c, rows, n);
	else
		print_table(c, rows, n);
	if (!json)
		print_storages_table(c);
	return 0;
}
