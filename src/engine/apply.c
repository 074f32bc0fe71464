/* apply.c - carries out a plan: bridges and networks first, then each guest's
 * steps in order, the guests side by side; when one fails, it undoes in reverse
 * plan order everything this run made, and names the step that failed. Each
 * step is recorded in the intent journal (intent.c) before its side effect and
 * marked done after, so that a run killed half-way can be recovered. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apply.h"
#include "cloudinit.h"
#include "hooks.h"
#include "host.h"
#include "intent.h"
#include "isofs.h"
#include "prepare.h"
#include "render.h"
#include "storage.h"

/* What one applied step left behind, and how to take it back. */
struct undo {
	struct plan_step step;
	char *old_xml; /* STEP_DOMAIN_REDEFINE: the definition it replaced */
	size_t entry;  /* its intent journal entry, or NO_ENTRY */
};

#define NO_ENTRY ((size_t)-1)

struct run {
	struct engine *c;
	struct plan *plan;
	struct undo *undo;
	size_t n_undo;
	struct intent intent;
	char **new_dirs;   /* storage directories this run is the first to need */
	size_t *dir_entry; /* [n_new_dirs]: journal entry of one this run made, or NO_ENTRY */
	bool *dir_seen;    /* [n_new_dirs]: made by this run, or found made by another */
	size_t n_new_dirs;
	pthread_mutex_t dirs_lock;
};

/* The accelerator: the lab's setting, or the best the hypervisor offers. */
static enum lab_accel engine_accel(const struct engine *c)
{
	return c->lab->accel != ACCEL_AUTO ? c->lab->accel : virt_best_accel(c->virt);
}

static bool to_prepare(const struct lab *lab, const struct plan_step *s);

/* ---- the intent journal entry of a step ---- */

static bool has_entry(const struct plan_step *s)
{
	/* A fetch is done before the plan; a preparation is recorded on its
	 * volume's entry ("prepare"), done once prepared. */
	return s->op != STEP_RESTART_NEEDED && s->op != STEP_IMAGE_FETCH &&
	       s->op != STEP_VOLUME_PREPARE;
}

/* Fills e (strings owned by the caller's buffers in *owned, freed after). */
static void step_entry(struct run *r, const struct plan_step *s, struct journal_entry *e,
		       char **owned)
{
	const struct lab *lab = r->c->lab;
	const struct lab_guest *g = &lab->guests[s->guest];
	*e = (struct journal_entry){.step = owned[0] = plan_step_describe(lab, s)};
	switch (s->op) {
	case STEP_NETWORK_CREATE:
	case STEP_NETWORK_START:
		e->kind = JOURNAL_NETWORK;
		e->name = owned[1] = lab_network_name(lab, &lab->bridges[s->bridge]);
		break;
	case STEP_BRIDGE_CREATE:
		e->kind = JOURNAL_BRIDGE;
		e->name = lab->bridges[s->bridge].name;
		break;
	case STEP_VOLUME_CREATE: {
		const struct lab_disk *d = &g->disks[s->disk];
		const struct lab_storage *st = lab_find_storage(lab, d->storage);
		e->kind = JOURNAL_VOLUME;
		e->name = owned[1] = lab_disk_path(lab, g, d);
		e->owner = owned[2] = xasprintf("%s/%s/%s", lab->name, g->name, d->key);
		e->storage = d->storage;
		e->prepare = to_prepare(lab, s);
		if (lab_storage_files(st))
			e->temp = owned[3] = storage_temp_path(st, e->name, (int)getpid());
		break;
	}
	case STEP_DOMAIN_DEFINE:
	case STEP_DOMAIN_REDEFINE:
	case STEP_DOMAIN_START:
		e->kind = s->op == STEP_DOMAIN_START ? JOURNAL_START : JOURNAL_DOMAIN;
		e->name = g->name;
		e->uuid = owned[2] = xstrdup(g->uuid);
		break;
	case STEP_IMAGE_FETCH:
	case STEP_VOLUME_PREPARE:
	case STEP_RESTART_NEEDED:
		break;
	}
}

static int do_step(struct run *r, const struct plan_step *s, struct undo *u, struct lv_error *err);
static int undo_step(struct run *r, struct undo *u);
static int make_dir(struct run *r, const char *vol, struct lv_error *err);

/* One step: the test hooks, the journal entry before (with its identity) and
 * after ("done"; a volume to prepare is done once prepared), the side effect
 * between. A step that fails while the daemon still answers made nothing (each
 * adapter call cleans up after itself), so its entry goes. */
static int apply_step(struct run *r, const struct plan_step *s, struct undo *u,
		      struct lv_error *err)
{
	*u = (struct undo){.step = *s, .entry = NO_ENTRY};
	char *owned[4] = {0};
	struct journal_entry e;
	step_entry(r, s, &e, owned);
	int rc = 0;
	hook_pause(r->c->hooks, r->c->errout, e.step);
	hook_trace(r->c->hooks, e.step);
	if (hook_fail(r->c->hooks, e.step))
		rc = lv_fail(err, LV_EXIT_FAIL, "injected fault");
	if (rc == 0 && e.temp) { /* a file storage's volume: its directory first */
		_cleanup_free_ char *entry =
		    storage_vol_entry(lab_find_storage(r->c->lab, e.storage), e.name);
		rc = make_dir(r, entry, err);
	}
	if (rc == 0 && has_entry(s))
		rc = intent_begin(&r->intent, &e, &u->entry, err);
	if (rc == 0) {
		hook_kill(r->c->hooks, e.step, HOOK_BEFORE, NULL, NULL);
		if (e.kind == JOURNAL_VOLUME)
			hook_kill(r->c->hooks, e.step, HOOK_DURING, e.temp, e.name);
		rc = do_step(r, s, u, err);
	}
	if (rc == 0)
		hook_kill(r->c->hooks, e.step, HOOK_AFTER, NULL, NULL);
	if (rc == 0 && u->entry != NO_ENTRY && !e.prepare &&
	    intent_done(&r->intent, u->entry, err) < 0) {
		undo_step(r, u); /* not recorded as done: not kept either */
		free(u->old_xml);
		rc = -1;
	} else if (rc < 0 && u->entry != NO_ENTRY && virt_alive(r->c->virt))
		intent_undone(&r->intent, u->entry);
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++)
		free(owned[i]);
	return rc;
}

/* Proxmox's cloud-init drive, made from the guest's keys before each start, as
 * Proxmox makes it: the files (cloudinit.c) as an ISO 9660 image (libisofs)
 * written into the drive's volume. No appliance boots for it. */
static int write_cloudinit_drives(const struct lab *lab, const struct lab_guest *g,
				  struct lv_error *err)
{
	for (size_t k = 0; k < g->n_disks; k++) {
		const struct lab_disk *d = &g->disks[k];
		if (!d->cloudinit)
			continue;
		_cleanup_free_ char *path = lab_disk_path(lab, g, d);
		_cleanup_free_ char *resolv = lv_read_file("/etc/resolv.conf", NULL);
		_cleanup_(cloudinit_guest_input_freep) struct ci_guest_input *in = NULL;
		struct ci_drive drive = {0};
		int rc = cloudinit_input_from_guest(g, resolv, &in, err);
		if (rc == 0)
			rc = cloudinit_make(&in->in, &drive, err);
		if (rc == 0)
			rc = isofs_write_into(&drive, path, err);
		cloudinit_drive_free(&drive);
		if (rc < 0)
			return lv_prefix(err, "cloud-init drive %s", d->key);
	}
	return 0;
}

static int do_step(struct run *r, const struct plan_step *s, struct undo *u, struct lv_error *err)
{
	struct engine *c = r->c;
	const struct lab *lab = c->lab;
	const struct lab_guest *g = &lab->guests[s->guest];
	const struct lab_bridge *br = &lab->bridges[s->bridge];
	switch (s->op) {
	case STEP_NETWORK_CREATE: {
		_cleanup_free_ char *xml = NULL;
		if (render_network(lab, br, &xml, err) < 0)
			return -1;
		return virt_network_create(c->virt, xml, err);
	}
	case STEP_NETWORK_START: {
		_cleanup_free_ char *name = lab_network_name(lab, br);
		return virt_network_start(c->virt, name, err);
	}
	case STEP_BRIDGE_CREATE: {
		_cleanup_free_ char *alias = xasprintf("labvirt:%s", lab->name);
		return host_bridge_create(br->name, alias, br->address, err);
	}
	case STEP_VOLUME_CREATE: {
		struct storage_vol v;
		_cleanup_free_ struct ct_fill *fill = NULL;
		storage_vol_init(&v, lab, g, &g->disks[s->disk]);
		ct_volume_fill(&v, &fill, lab, g, &g->disks[s->disk]);
		int rc = storage_create(&v, err);
		storage_vol_clear(&v);
		return rc;
	}
	case STEP_DOMAIN_REDEFINE:
		if (virt_domain_xml(c->virt, g->name, &u->old_xml, err) < 0)
			return -1;
		/* fall through */
	case STEP_DOMAIN_DEFINE:
		return virt_domain_define(c->virt, r->plan->xml[s->guest], g->onboot, err);
	case STEP_DOMAIN_START: {
		if (write_cloudinit_drives(lab, g, err) < 0 || ct_mount_volumes(lab, g, err) < 0)
			return -1;
		bool had_efidisk = efidisk_exists(lab, g);
		int rc = virt_domain_start(c->virt, g->name, err);
		if (!had_efidisk) /* libvirt made it from OVMF's template: labvirt's to remove */
			efidisk_claim(lab, g);
		return rc;
	}
	case STEP_IMAGE_FETCH:    /* done before the plan (fetch.c) */
	case STEP_VOLUME_PREPARE: /* done by prepare_phase */
	case STEP_RESTART_NEEDED:
		return 0;
	}
	return 0;
}

static int undo_step(struct run *r, struct undo *u)
{
	struct engine *c = r->c;
	const struct lab *lab = c->lab;
	const struct plan_step *s = &u->step;
	const struct lab_guest *g = &lab->guests[s->guest];
	struct lv_error err = {0};
	int rc = 0;
	switch (s->op) {
	case STEP_NETWORK_CREATE: {
		_cleanup_free_ char *name = lab_network_name(lab, &lab->bridges[s->bridge]);
		rc = virt_network_remove(c->virt, name, &err);
		break;
	}
	case STEP_BRIDGE_CREATE:
		rc = host_bridge_delete(lab->bridges[s->bridge].name, &err);
		break;
	case STEP_VOLUME_CREATE: {
		struct storage_vol v;
		storage_vol_init(&v, lab, g, &g->disks[s->disk]);
		rc = storage_remove(&v, &err);
		storage_vol_clear(&v);
		break;
	}
	case STEP_DOMAIN_DEFINE:
		rc = virt_domain_undefine(c->virt, g->name, efidisk_keep(lab, g), &err);
		break;
	case STEP_DOMAIN_REDEFINE:
		rc = virt_domain_define(c->virt, u->old_xml, false, &err);
		break;
	case STEP_DOMAIN_START:
		rc = virt_domain_poweroff(c->virt, g->name, &err);
		if (rc == 0)
			rc = ct_unmount_volumes(lab, g, &err);
		break;
	case STEP_IMAGE_FETCH:
	case STEP_VOLUME_PREPARE: /* undone with its volume */
	case STEP_NETWORK_START:
	case STEP_RESTART_NEEDED:
		break;
	}
	_cleanup_free_ char *what = plan_step_describe(lab, s);
	if (rc == 0 && u->entry != NO_ENTRY)
		intent_undone(&r->intent, u->entry);
	if (rc < 0)
		fprintf(c->errout, "labvirt: cannot undo '%s': %s\n", what, err.msg);
	else if (s->op != STEP_NETWORK_START && s->op != STEP_RESTART_NEEDED)
		fprintf(c->errout, "undone: %s\n", what);
	return rc;
}

/* "up: STEP: why", and when the daemon went away, that it did. */
static int step_failed(struct run *r, const struct plan_step *s, struct lv_error *err)
{
	_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
	if (s->op != STEP_BRIDGE_CREATE && s->op != STEP_VOLUME_CREATE && !virt_alive(r->c->virt))
		return lv_prefix(err, "up: %s: the libvirt daemon (%s) is gone", what,
				 virt_uri(r->c->virt));
	return lv_prefix(err, "up: %s", what);
}

static int run_step(struct run *r, size_t i, struct lv_error *err)
{
	const struct plan_step *s = &r->plan->steps[i];
	_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
	if (apply_step(r, s, &r->undo[r->n_undo], err) < 0) {
		free(r->undo[r->n_undo].old_xml);
		return step_failed(r, s, err);
	}
	r->n_undo++;
	fprintf(r->c->out, "%s%s\n", s->op == STEP_RESTART_NEEDED ? "note: " : "", what);
	return 0;
}

/* The disk labvirt prepares for first boot: a new volume made from an image
 * (the guest's first such disk) of a guest with cloud-init keys. */
static bool to_prepare(const struct lab *lab, const struct plan_step *s)
{
	return s->op == STEP_VOLUME_CREATE && plan_prepares(&lab->guests[s->guest], s->disk);
}

/* Creates the volumes to prepare ahead of the other steps and prepares them
 * all in one libguestfs appliance launch, before any guest starts. A failure
 * is undone like any step: the new volumes are removed. */
static int prepare_phase(struct run *r, bool *done, struct lv_error *err)
{
	const struct lab *lab = r->c->lab;
	_cleanup_free_ struct prepare_disk *disks = xcalloc(r->plan->n_steps, sizeof(*disks));
	_cleanup_free_ char **paths = xcalloc(r->plan->n_steps, sizeof(*paths));
	_cleanup_free_ const char **keys = xcalloc(r->plan->n_steps, sizeof(*keys));
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < r->plan->n_steps && rc == 0; i++) {
		const struct plan_step *s = &r->plan->steps[i];
		done[i] = s->op == STEP_IMAGE_FETCH || s->op == STEP_VOLUME_PREPARE;
		if (!to_prepare(lab, s))
			continue;
		rc = run_step(r, i, err);
		done[i] = true;
		paths[n] = lab_disk_path(lab, &lab->guests[s->guest],
					 &lab->guests[s->guest].disks[s->disk]);
		keys[n] = lab->guests[s->guest].disks[s->disk].key;
		disks[n] = (struct prepare_disk){
		    .lab = lab, .g = &lab->guests[s->guest], .path = paths[n]};
		n++;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == 0 && n) {
		hook_pause(r->c->hooks, r->c->errout, "prepare disks");
		if (hook_fail(r->c->hooks, "prepare disks"))
			rc = lv_fail(err, LV_EXIT_FAIL, "injected fault");
		if (rc == 0)
			hook_kill(r->c->hooks, "prepare disks", HOOK_BEFORE, NULL, NULL);
		if (rc == 0)
			rc = prepare_disks(disks, n, engine_accel(r->c) == ACCEL_TCG,
					   hook_kill_callback(r->c->hooks, "prepare disks"), err);
		if (rc == 0) /* prepared, not yet recorded as done */
			hook_kill(r->c->hooks, "prepare disks", HOOK_AFTER, NULL, NULL);
	}
	/* Now the new volumes are complete; before, the next run remakes them. */
	for (size_t i = 0; i < r->n_undo && rc == 0; i++)
		if (r->undo[i].step.op == STEP_VOLUME_CREATE && r->undo[i].entry != NO_ENTRY)
			rc = intent_done(&r->intent, r->undo[i].entry, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t prepared = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		prepared += !disks[i].skipped;
		fprintf(r->c->out, "prepare volume %s for %s/%s (%s)\n", disks[i].path,
			disks[i].g->name, keys[i],
			disks[i].skipped ? "prepared before" : disks[i].os);
	}
	if (rc == 0 && prepared)
		fprintf(r->c->out, "prepared %zu disk%s in one libguestfs launch (%.1f s)\n",
			prepared, prepared == 1 ? "" : "s",
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	if (rc < 0 && n && !strstr(err->msg, "up: "))
		lv_prefix(err, "up: prepare disks");
	return rc;
}

/* Bridges and networks come first: every guest needs them. */
static bool is_shared(const struct plan_step *s)
{
	return s->op == STEP_NETWORK_CREATE || s->op == STEP_NETWORK_START ||
	       s->op == STEP_BRIDGE_CREATE;
}

/* The other steps run as one chain per guest (its volumes, define, start),
 * the chains side by side: most of `up` is waiting for QEMU to start, and
 * libvirt's connection serves several threads at once. A chain stops at its
 * first failure; the others finish theirs, so that what was done, printed and
 * recorded for undo in plan order, does not depend on which guest was quicker. */
#define APPLY_WORKERS 8

struct chain {
	size_t *steps; /* plan indices, in plan order */
	size_t n, n_done;
	struct undo *undo; /* [n] */
	struct lv_error err;
	bool failed;
};

struct pool {
	struct run *r;
	struct chain *chains;
	size_t *order; /* chains in the order they are taken: by startup order */
	size_t n, next;
	pthread_mutex_t lock;
	pthread_cond_t started; /* a chain started its guest, or ended */
	bool ordered;           /* some guest has startup: order= */
	bool *ended;            /* [n]: the chain has started its guest, or stopped */
	struct timespec *at;    /* [n]: when, for the up= delays */
};

/* Proxmox's startup order: guests with order= first, ascending; the others after. */
static long rank(const struct run *r, const struct chain *ch)
{
	const struct lab_guest *g = &r->c->lab->guests[r->plan->steps[ch->steps[0]].guest];
	return g->startup_order >= 0 ? g->startup_order : LONG_MAX;
}

static bool starts(const struct run *r, const struct chain *ch)
{
	for (size_t i = ch->n_done; i < ch->n; i++)
		if (r->plan->steps[ch->steps[i]].op == STEP_DOMAIN_START)
			return true;
	return false;
}

/* Before chain k starts its guest: every guest of a lower startup order this run
 * starts has started (or failed), and the largest up= delay of those of the
 * order just below has passed since it started, as Proxmox starts guests. */
static void wait_turn(struct pool *p, size_t k)
{
	const struct run *r = p->r;
	long mine = rank(r, &p->chains[k]);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		bool waiting = false;
		long below = -1;
		struct timespec until = {0};
		for (size_t j = 0; j < p->n; j++) {
			long theirs = rank(r, &p->chains[j]);
			if (j == k || theirs >= mine)
				continue;
			waiting = waiting || !p->ended[j];
			below = theirs > below ? theirs : below;
		}
		for (size_t j = 0; !waiting && j < p->n; j++) {
			const struct lab_guest *g =
			    &r->c->lab->guests[r->plan->steps[p->chains[j].steps[0]].guest];
			if (rank(r, &p->chains[j]) != below || g->startup_up <= 0 ||
			    !p->at[j].tv_sec)
				continue;
			struct timespec t = p->at[j];
			t.tv_sec += g->startup_up;
			if (t.tv_sec > until.tv_sec)
				until = t;
		}
		if (waiting) {
			pthread_cond_wait(&p->started, &p->lock);
			continue;
		}
		if (until.tv_sec &&
		    pthread_cond_timedwait(&p->started, &p->lock, &until) != ETIMEDOUT)
			continue;
		break;
	}
	pthread_mutex_unlock(&p->lock);
}

static void chain_ended(struct pool *p, size_t k, bool started)
{
	pthread_mutex_lock(&p->lock);
	if (!p->ended[k]) {
		p->ended[k] = true;
		if (started)
			clock_gettime(CLOCK_REALTIME, &p->at[k]);
	}
	pthread_cond_broadcast(&p->started);
	pthread_mutex_unlock(&p->lock);
}

static void chain_run(struct pool *p, size_t k)
{
	struct chain *ch = &p->chains[k];
	if (!starts(p->r, ch))
		chain_ended(p, k, false); /* nobody waits for a guest this run does not start */
	for (; ch->n_done < ch->n; ch->n_done++) {
		const struct plan_step *s = &p->r->plan->steps[ch->steps[ch->n_done]];
		if (s->op == STEP_DOMAIN_START && p->ordered)
			wait_turn(p, k);
		if (apply_step(p->r, s, &ch->undo[ch->n_done], &ch->err) == 0) {
			if (s->op == STEP_DOMAIN_START)
				chain_ended(p, k, true);
			continue;
		}
		free(ch->undo[ch->n_done].old_xml);
		step_failed(p->r, s, &ch->err);
		ch->failed = true;
		break;
	}
	chain_ended(p, k, false);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i == p->n)
			return NULL;
		chain_run(p, p->order[i]);
	}
}

/* Splits the steps not done yet into chains, one per guest. */
static size_t make_chains(struct run *r, const bool *done, struct chain *chains)
{
	size_t n = 0, last = (size_t)-1;
	for (size_t i = 0; i < r->plan->n_steps; i++) {
		if (done[i] || is_shared(&r->plan->steps[i]))
			continue;
		if (n == 0 || r->plan->steps[i].guest != last) {
			chains[n].steps = xcalloc(r->plan->n_steps, sizeof(size_t));
			chains[n].undo = xcalloc(r->plan->n_steps, sizeof(struct undo));
			last = r->plan->steps[i].guest;
			n++;
		}
		chains[n - 1].steps[chains[n - 1].n++] = i;
	}
	return n;
}

static int apply_guests(struct run *r, const bool *done, struct lv_error *err)
{
	_cleanup_free_ struct chain *chains = xcalloc(r->plan->n_steps, sizeof(*chains));
	struct pool p = {.r = r,
			 .chains = chains,
			 .lock = PTHREAD_MUTEX_INITIALIZER,
			 .started = PTHREAD_COND_INITIALIZER};
	p.n = make_chains(r, done, chains);
	_cleanup_free_ size_t *order = xcalloc(p.n + 1, sizeof(size_t));
	_cleanup_free_ bool *ended = xcalloc(p.n + 1, sizeof(bool));
	_cleanup_free_ struct timespec *at = xcalloc(p.n + 1, sizeof(struct timespec));
	p.order = order, p.ended = ended, p.at = at;
	/* Taken in startup order (a stable insertion sort: plan order within an
	 * order), so that a chain only ever waits for chains already taken. */
	for (size_t k = 0; k < p.n; k++) {
		size_t j = k;
		p.ordered = p.ordered || rank(r, &chains[k]) != LONG_MAX;
		for (; j > 0 && rank(r, &chains[order[j - 1]]) > rank(r, &chains[k]); j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
	pthread_t t[APPLY_WORKERS];
	size_t n_threads = 0;
	while (p.n > 1 && n_threads < APPLY_WORKERS && n_threads < p.n &&
	       pthread_create(&t[n_threads], NULL, worker, &p) == 0)
		n_threads++;
	worker(&p); /* this thread works too (alone for a single guest) */
	for (size_t k = 0; k < n_threads; k++)
		pthread_join(t[k], NULL);
	int rc = 0;
	for (size_t k = 0; k < p.n; k++) {
		for (size_t j = 0; j < chains[k].n_done; j++) {
			const struct plan_step *s = &r->plan->steps[chains[k].steps[j]];
			_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
			r->undo[r->n_undo++] = chains[k].undo[j];
			fprintf(r->c->out, "%s%s\n", s->op == STEP_RESTART_NEEDED ? "note: " : "",
				what);
		}
		if (chains[k].failed && rc == 0) {
			if (err)
				*err = chains[k].err;
			rc = -1;
		}
		free(chains[k].steps);
		free(chains[k].undo);
	}
	return rc;
}

/* dir and those of its parents that do not exist yet, outermost first
 * (images/ and images/100/ for a Proxmox volume images/100/vm-100-disk-0.qcow2). */
static void note_missing_dirs(struct run *r, const char *dir)
{
	struct stat sb;
	bool seen = stat(dir, &sb) == 0 || errno != ENOENT;
	for (size_t k = 0; k < r->n_new_dirs && !seen; k++)
		seen = streq(r->new_dirs[k], dir);
	if (seen)
		return;
	_cleanup_free_ char *copy = xstrdup(dir);
	const char *parent = dirname(copy);
	if (!streq(parent, dir) && !streq(parent, "/") && !streq(parent, "."))
		note_missing_dirs(r, parent);
	r->new_dirs = xrealloc(r->new_dirs, (r->n_new_dirs + 1) * sizeof(char *));
	r->new_dirs[r->n_new_dirs++] = xstrdup(dir);
}

/* The dir storages' directories that do not exist yet: a volume step makes
 * them, and the undo removes them again (when empty). */
static void note_new_dirs(struct run *r)
{
	const struct lab *lab = r->c->lab;
	r->new_dirs = NULL;
	for (size_t i = 0; i < r->plan->n_steps; i++) {
		const struct plan_step *s = &r->plan->steps[i];
		const struct lab_guest *g = &lab->guests[s->guest];
		if (s->op != STEP_VOLUME_CREATE)
			continue;
		const struct lab_storage *st = lab_find_storage(lab, g->disks[s->disk].storage);
		_cleanup_free_ char *path = lab_disk_path(lab, g, &g->disks[s->disk]);
		if (!lab_storage_files(st) || !path)
			continue;
		_cleanup_free_ char *entry = storage_vol_entry(st, path);
		note_missing_dirs(r, dirname(entry));
	}
	r->dir_entry = xcalloc(r->n_new_dirs + 1, sizeof(size_t));
	r->dir_seen = xcalloc(r->n_new_dirs + 1, sizeof(bool));
	for (size_t k = 0; k < r->n_new_dirs; k++)
		r->dir_entry[k] = NO_ENTRY;
}

/* The directory of volume vol, when this run is the first to need it: made
 * (0711, as the dir backend would) by the first volume step that needs it,
 * the others waiting, and recorded in the journal before and after, so that
 * a run killed before a volume is in it can still take it back. A directory
 * that exists by then (made meanwhile by someone else) is not recorded. */
static int make_one_dir(struct run *r, size_t k, struct lv_error *err)
{
	const char *dir = r->new_dirs[k];
	pthread_mutex_lock(&r->dirs_lock);
	int rc = 0;
	struct stat sb;
	if (!r->dir_seen[k] && stat(dir, &sb) < 0 && errno == ENOENT) {
		_cleanup_free_ char *step = xasprintf("create directory %s", dir);
		struct journal_entry e = {.kind = JOURNAL_DIR, .step = step, .name = (char *)dir};
		size_t id = NO_ENTRY;
		rc = intent_begin(&r->intent, &e, &id, err);
		if (rc == 0)
			hook_kill(r->c->hooks, step, HOOK_BEFORE, NULL, NULL);
		/* Traversable by the hypervisor's user, not listable by others. */
		if (rc == 0 && mkdir(dir, 0711) < 0) {
			int errnum = errno;
			intent_undone(&r->intent, id);
			if (errnum != EEXIST)
				rc = lv_fail_errno(err, errnum,
						   "cannot create storage directory '%s'", dir);
		} else if (rc == 0) {
			r->dir_entry[k] = id;
			hook_kill(r->c->hooks, step, HOOK_AFTER, NULL, NULL);
			rc = intent_done(&r->intent, id, err);
			if (rc < 0 && rmdir(dir) == 0) { /* not recorded as done: not kept */
				intent_undone(&r->intent, id);
				r->dir_entry[k] = NO_ENTRY;
			}
		}
	}
	r->dir_seen[k] = rc == 0;
	pthread_mutex_unlock(&r->dirs_lock);
	return rc;
}

/* The directory of volume vol and its parents this run has to make, outermost
 * first; one that was there before the run is the backend's to check. */
static int make_dir(struct run *r, const char *vol, struct lv_error *err)
{
	_cleanup_free_ char *copy = xstrdup(vol);
	const char *dir = dirname(copy);
	size_t n = 0;
	for (size_t k = 0; k < r->n_new_dirs; k++) {
		n = strlen(r->new_dirs[k]);
		bool ancestor = strncmp(dir, r->new_dirs[k], n) == 0 && (!dir[n] || dir[n] == '/');
		if (ancestor && make_one_dir(r, k, err) < 0)
			return -1;
	}
	return 0;
}

/* The directories this run made, when empty again. */
static void remove_new_dirs(struct run *r)
{
	for (size_t k = r->n_new_dirs; k-- > 0;) {
		if (r->dir_entry[k] == NO_ENTRY || rmdir(r->new_dirs[k]) < 0)
			continue;
		intent_undone(&r->intent, r->dir_entry[k]);
		fprintf(r->c->errout, "undone: create directory %s\n", r->new_dirs[k]);
	}
}

/* Undoes in reverse plan order. Once a guest's step cannot be undone (the
 * daemon gone, say: its domain still runs), what that step stands on stays:
 * the guest's earlier steps (its volumes) and the network. The journal keeps
 * them for the next run. */
static void undo_all(struct run *r)
{
	_cleanup_free_ bool *stuck = xcalloc(r->c->lab->n_guests, sizeof(bool));
	bool any = false;
	while (r->n_undo > 0) {
		struct undo *u = &r->undo[--r->n_undo];
		bool shared = is_shared(&u->step);
		if (shared ? any : stuck[u->step.guest]) {
			_cleanup_free_ char *what = plan_step_describe(r->c->lab, &u->step);
			fprintf(r->c->errout, "kept: %s (what stands on it could not be undone)\n",
				what);
			continue;
		}
		if (undo_step(r, u) < 0 && !shared)
			stuck[u->step.guest] = any = true;
	}
}

static int apply(struct run *r, struct lv_error *err)
{
	r->undo = xcalloc(r->plan->n_steps, sizeof(*r->undo));
	_cleanup_free_ bool *done = xcalloc(r->plan->n_steps, sizeof(bool));
	note_new_dirs(r);
	int rc = prepare_phase(r, done, err);
	for (size_t i = 0; i < r->plan->n_steps && rc == 0; i++)
		rc = done[i] || !is_shared(&r->plan->steps[i]) ? 0 : run_step(r, i, err);
	if (rc == 0)
		rc = apply_guests(r, done, err);
	if (rc < 0) {
		undo_all(r);
		remove_new_dirs(r);
	}
	/* Kept when something could not be undone (the daemon gone, say). */
	struct lv_error ferr = {0};
	if (intent_finish(&r->intent, rc < 0, &ferr) < 0)
		fprintf(r->c->errout, "labvirt: %s\n", ferr.msg);
	return rc;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n_undo; i++)
		free(r->undo[i].old_xml);
	free(r->undo);
	for (size_t k = 0; k < r->n_new_dirs; k++)
		free(r->new_dirs[k]);
	free(r->new_dirs);
	free(r->dir_entry);
	free(r->dir_seen);
	intent_clear(&r->intent);
}

int apply_plan(struct engine *c, struct plan *p, struct lv_error *err)
{
	struct run r = {.c = c, .plan = p, .dirs_lock = PTHREAD_MUTEX_INITIALIZER};
	intent_init(&r.intent, c);
	int rc = apply(&r, err);
	run_free(&r);
	return rc;
}
