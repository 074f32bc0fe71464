/* intent.c - writing the intent journal while `up` works, and recovering from
 * the one an interrupted run left. What labvirt makes is tagged as its own
 * (domain metadata, volume xattr or LVM tag, network name, bridge alias); the
 * journal covers what those tags cannot: a volume under its temporary name, a
 * volume made but not yet prepared, a bridge made but not yet tagged, a storage
 * directory it made (which carries no tag at all). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"
#include "intent.h"
#include "storage.h"

static char *journal_file(const struct engine *c)
{
	return xasprintf("%s.journal", c->lab->name);
}

void intent_init(struct intent *in, struct engine *c)
{
	*in = (struct intent){.c = c, .lock = PTHREAD_MUTEX_INITIALIZER};
	in->j.lab = xstrdup(c->lab->name);
	in->j.pid = (int)getpid();
}

void intent_clear(struct intent *in)
{
	journal_clear(&in->j);
	free(in->undone);
	in->undone = NULL;
}

/* The journal without the entries taken back. Under in->lock. */
static int save(struct intent *in, struct lv_error *err)
{
	struct journal live = {.lab = in->j.lab, .pid = in->j.pid};
	live.entries = xcalloc(in->j.n + 1, sizeof(*live.entries));
	for (size_t i = 0; i < in->j.n; i++)
		if (!in->undone[i])
			live.entries[live.n++] = in->j.entries[i];
	_cleanup_free_ char *text = journal_format(&live);
	free(live.entries);
	_cleanup_free_ char *name = journal_file(in->c);
	if (host_state_write(in->c->state_dir, name, text, err) < 0)
		return lv_prefix(err, "cannot record what up does");
	return 0;
}

int intent_begin(struct intent *in, const struct journal_entry *e, size_t *ret_id,
		 struct lv_error *err)
{
	pthread_mutex_lock(&in->lock);
	size_t cap = in->j.cap;
	size_t id = journal_add(&in->j, e);
	if (in->j.cap != cap) {
		in->undone = xrealloc(in->undone, in->j.cap * sizeof(bool));
		memset(in->undone + cap, 0, (in->j.cap - cap) * sizeof(bool));
	}
	int rc = save(in, err);
	if (rc < 0)
		in->undone[id] = true; /* never begun */
	pthread_mutex_unlock(&in->lock);
	*ret_id = id;
	return rc;
}

int intent_done(struct intent *in, size_t id, struct lv_error *err)
{
	pthread_mutex_lock(&in->lock);
	in->j.entries[id].done = true;
	int rc = save(in, err);
	pthread_mutex_unlock(&in->lock);
	return rc;
}

void intent_undone(struct intent *in, size_t id)
{
	pthread_mutex_lock(&in->lock);
	in->undone[id] = true;
	pthread_mutex_unlock(&in->lock);
}

int intent_finish(struct intent *in, bool failed, struct lv_error *err)
{
	bool open = false;
	for (size_t i = 0; i < in->j.n; i++)
		open = open || (!in->undone[i] && (failed || !in->j.entries[i].done));
	if (in->j.n == 0)
		return 0;
	_cleanup_free_ char *name = journal_file(in->c);
	if (open)
		return save(in, err);
	return host_state_remove(in->c->state_dir, name, err);
}

/* ---- recovery ---- */

/* The guest part of a volume's owner tag "LAB/GUEST/DISK". */
static char *owner_guest(const char *owner)
{
	const char *a = owner ? strchr(owner, '/') : NULL;
	const char *b = a ? strchr(a + 1, '/') : NULL;
	return b ? xstrndup(a + 1, (size_t)(b - a - 1)) : NULL;
}

static bool domain_running(struct engine *c, const char *name)
{
	struct inv_domain d;
	return name && virt_domain_query(c->virt, c->lab->name, name, &d, NULL) == 0 &&
	       !d.foreign && (d.state == DOM_RUNNING || d.state == DOM_PAUSED);
}

/* A volume entry's volume, if its storage is still in the layout. */
static bool entry_vol(struct engine *c, const struct journal_entry *e, struct storage_vol *v)
{
	const struct lab_storage *s = e->storage ? lab_find_storage(c->lab, e->storage) : NULL;
	*v = (struct storage_vol){.storage = s, .path = e->name, .owner = e->owner};
	return s && e->owner;
}

static int remove_volume(struct engine *c, const struct journal_entry *e, const char *why,
			 struct lv_error *err)
{
	struct storage_vol v;
	bool exists = false, foreign = false;
	_cleanup_free_ char *guest = owner_guest(e->owner);
	if (!entry_vol(c, e, &v)) {
		fprintf(c->errout,
			"labvirt: recover: storage '%s' is no longer in the layout: '%s' "
			"left alone\n",
			e->storage ? e->storage : "?", e->name);
		return 0;
	}
	if (storage_query(&v, &exists, &foreign, err) < 0)
		return -1;
	if (!exists) /* never made; a storage may still have made parts of it (lvmthin) */
		return storage_remove(&v, err);
	if (foreign)
		return 0; /* not ours: nothing to take back */
	if (domain_running(c, guest)) {
		fprintf(c->errout, "labvirt: recover: '%s' is in use by running domain %s: left\n",
			e->name, guest);
		return 0;
	}
	if (storage_remove(&v, err) < 0)
		return -1;
	fprintf(c->out, "recover: removed %s volume %s\n", why, e->name);
	return 0;
}

/* A volume under its temporary name: a file, a folder or a btrfs subvolume. */
static int remove_temp(struct engine *c, const struct journal_entry *e, struct lv_error *err)
{
	struct stat st;
	if (lstat(e->temp, &st) < 0 && errno == ENOENT)
		return 0;
	if (storage_remove_temp(lab_find_storage(c->lab, e->storage), e->temp, err) < 0)
		return -1;
	fprintf(c->out, "recover: removed temporary %s %s\n",
		S_ISDIR(st.st_mode) ? "folder" : "file", e->temp);
	return 0;
}

/* A bridge made by `ip link add` and killed before its alias was set has
 * none; the plan only makes a bridge that did not exist, so it is ours. */
static int remove_bridge(struct engine *c, const char *name, struct lv_error *err)
{
	char alias[128];
	_cleanup_free_ char *mine = xasprintf("labvirt:%s", c->lab->name);
	if (!host_link_exists(name) || host_link_alias(name, alias, sizeof(alias)) < 0 ||
	    !(alias[0] == '\0' || streq(alias, mine)))
		return 0;
	if (host_bridge_delete(name, err) < 0)
		return -1;
	fprintf(c->out, "recover: removed half-made bridge %s\n", name);
	return 0;
}

/* A storage directory the interrupted run made (recorded before its mkdir,
 * so perhaps never made): removed when it is still an empty directory of
 * this user's. One with anything in it stays: the volumes in it are kept or
 * removed on their own, and an empty directory is no harm where rmdir fails. */
static void remove_dir(struct engine *c, const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return;
	if (rmdir(dir) == 0)
		fprintf(c->out, "recover: removed directory %s\n", dir);
	else if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		fprintf(c->errout, "labvirt: recover: cannot remove directory '%s': %s: left\n",
			dir, strerror(errno));
}

/* A start the interrupted run asked for may still be under way in the
 * daemon (the domain paused while QEMU starts): wait for it to end, so that
 * the plan sees the domain as it will be. */
static void wait_started(struct engine *c, const char *name)
{
	struct timespec tick = {0, 100 * 1000000L};
	struct inv_domain d;
	for (int i = 0; i < 3000; i++) { /* at most five minutes: then plan as it is */
		if (virt_domain_query(c->virt, c->lab->name, name, &d, NULL) < 0 || d.foreign ||
		    d.state != DOM_PAUSED)
			return;
		if (i == 0)
			fprintf(c->errout,
				"labvirt: waiting for domain %s, which the interrupted run was "
				"starting\n",
				name);
		nanosleep(&tick, NULL);
	}
}

/* What a step that began and did not finish can leave half-made. A domain
 * defined or started, a network defined: libvirt made them whole, and they
 * carry the lab's name; `up` goes on from them, `destroy` removes them. */
static int recover_begun(struct engine *c, const struct journal_entry *e, struct lv_error *err)
{
	switch (e->kind) {
	case JOURNAL_VOLUME:
		if (e->temp && remove_temp(c, e, err) < 0)
			return -1;
		return remove_volume(c, e, e->prepare ? "unprepared" : "half-made", err);
	case JOURNAL_BRIDGE:
		return remove_bridge(c, e->name, err);
	case JOURNAL_START:
		wait_started(c, e->name);
		return 0;
	case JOURNAL_NETWORK:
	case JOURNAL_DOMAIN:
	case JOURNAL_DIR: /* last, done or not: intent_recover_dirs */
		return 0;
	case JOURNAL_FILE:
		if (unlink(e->temp) == 0)
			fprintf(c->out, "recover: removed temporary file %s\n", e->temp);
		else if (errno != ENOENT)
			return lv_fail_errno(err, errno, "cannot remove '%s'", e->temp);
		return 0;
	}
	return 0;
}

static bool layout_has_domain(const struct lab *lab, const char *name)
{
	return lab_find_guest((struct lab *)lab, name) != NULL;
}

static bool layout_has_volume(const struct lab *lab, const char *path)
{
	for (size_t i = 0; i < lab->n_guests; i++)
		for (size_t d = 0; d < lab->guests[i].n_disks; d++) {
			if (!lab->guests[i].disks[d].allocate)
				continue;
			_cleanup_free_ char *p =
			    lab_disk_path(lab, &lab->guests[i], &lab->guests[i].disks[d]);
			if (p && streq(p, path))
				return true;
		}
	return false;
}

/* `destroy` of the whole lab: what the journal names and the layout no
 * longer has (the layout changed after the interrupted run). The domains
 * go first, the volumes they use after. */
static int remove_named(struct engine *c, const struct journal_entry *e, enum journal_kind pass,
			struct lv_error *err)
{
	struct inv_domain d;
	if (e->kind != pass)
		return 0;
	if (pass == JOURNAL_VOLUME)
		return layout_has_volume(c->lab, e->name) ? 0 : remove_volume(c, e, "left", err);
	if (layout_has_domain(c->lab, e->name))
		return 0;
	if (virt_domain_query(c->virt, c->lab->name, e->name, &d, err) < 0)
		return -1;
	if (d.state == DOM_ABSENT || d.foreign)
		return 0;
	if (d.state != DOM_SHUTOFF && virt_domain_poweroff(c->virt, e->name, err) < 0)
		return -1;
	/* Its efidisk0 is unknown here: a <nvram> file stays rather than one not made
	 * by labvirt goes. */
	if (d.persistent && virt_domain_undefine(c->virt, e->name, true, err) < 0)
		return -1;
	fprintf(c->out, "recover: removed domain %s\n", e->name);
	return 0;
}

/* The journal an interrupted run left: 1 and *j filled, or 0 when none. */
static int journal_load(struct engine *c, struct journal *j, struct lv_error *err)
{
	_cleanup_free_ char *name = journal_file(c), *text = NULL;
	_cleanup_free_ char *where = xasprintf("%s/%s", c->state_dir, name);
	if (host_state_read(c->state_dir, name, &text, err) < 0)
		return lv_prefix(err, "recover");
	if (!text)
		return 0;
	if (journal_parse(text, where, j, err) < 0)
		return lv_prefix(err, "recover: remove or repair it");
	if (!streq(j->lab, c->lab->name))
		return lv_fail(err, LV_EXIT_FAIL, "recover: %s is lab '%s''s, not '%s''s", where,
			       j->lab, c->lab->name);
	return 1;
}

static size_t open_steps(const struct journal *j)
{
	size_t open = 0;
	for (size_t i = 0; i < j->n; i++)
		open += !j->entries[i].done;
	return open;
}

int intent_pending(struct engine *c, int *ret_pid, size_t *ret_open, struct lv_error *err)
{
	_cleanup_(journal_clearp) struct journal j = {0};
	int rc = journal_load(c, &j, err);
	if (rc == 1) {
		*ret_pid = j.pid;
		*ret_open = open_steps(&j);
	}
	return rc;
}

/* A restore killed after its config took its name (the rename is its last step) and
 * before the journal said so: complete. */
static bool file_landed(const struct journal *j)
{
	struct stat st;
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->entries[i];
		if (e->kind == JOURNAL_FILE && !e->done && lstat(e->name, &st) == 0 &&
		    lstat(e->temp, &st) < 0 && errno == ENOENT)
			return true;
	}
	return false;
}

int intent_recover(struct engine *c, bool everything, struct journal *ret_left,
		   struct lv_error *err)
{
	_cleanup_(journal_clearp) struct journal j = {0};
	int rc = journal_load(c, &j, err);
	if (rc <= 0)
		return rc;
	size_t open = open_steps(&j);
	bool landed = file_landed(&j);
	fprintf(c->out, "recover: run %d of lab %s was interrupted (%zu step%s not finished)\n",
		j.pid, j.lab, open, open == 1 ? "" : "s");
	if (landed)
		fprintf(c->out, "recover: its guest config had landed: the run was complete\n");
	for (size_t i = 0; i < j.n && !landed; i++)
		if (!j.entries[i].done && recover_begun(c, &j.entries[i], err) < 0)
			return lv_prefix(err, "recover: %s", j.entries[i].step);
	for (size_t pass = 0; everything && pass < 2; pass++)
		for (size_t i = 0; i < j.n; i++)
			if (remove_named(c, &j.entries[i], pass ? JOURNAL_VOLUME : JOURNAL_DOMAIN,
					 err) < 0)
				return lv_prefix(err, "recover: %s", j.entries[i].step);
	if (ret_left) { /* the journal stays until then: a failed destroy recovers again */
		*ret_left = j;
		j = (struct journal){0};
		return 1;
	}
	return intent_recover_dirs(c, &j, err);
}

int intent_recover_dirs(struct engine *c, const struct journal *left, struct lv_error *err)
{
	if (!left->lab)
		return 0;
	/* Latest first: a directory made inside another the run made. */
	for (size_t i = left->n; i-- > 0;)
		if (left->entries[i].kind == JOURNAL_DIR)
			remove_dir(c, left->entries[i].name);
	_cleanup_free_ char *name = journal_file(c);
	return host_state_remove(c->state_dir, name, err);
}
