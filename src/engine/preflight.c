/* preflight.c - what `up` checks before it creates anything (engine.h): the
 * files the guests need that labvirt does not make, and room on each storage. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "storage.h"

static int check_file(const struct engine *c, const struct lab_guest *g, const char *what,
		      const char *path, const char *hint)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	if (errno == EACCES)
		fprintf(c->errout, "%s: %s '%s' cannot be reached: %s\n", g->name, what, path,
			strerror(errno));
	else
		fprintf(c->errout, "%s: %s '%s' is missing: %s\n", g->name, what, path, hint);
	return 1;
}

/* An image labvirt copies or clones itself must be readable by labvirt. */
static int check_readable(const struct engine *c, const struct lab_guest *g, const char *what,
			  const char *path, const char *hint)
{
	if (check_file(c, g, what, path, hint))
		return 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	fprintf(c->errout, "%s: %s '%s' cannot be read: %s\n", g->name, what, path,
		strerror(errno));
	return 1;
}

/* Files a guest needs that labvirt does not make: each missing one is named,
 * with where to put it. Returns how many are missing. */
static int missing_files(const struct engine *c, const struct lab_guest *g)
{
	int n = 0;
	for (size_t d = 0; d < g->n_disks; d++) {
		const struct lab_disk *k = &g->disks[d];
		_cleanup_free_ char *path = lab_disk_path(c->lab, g, k);
		_cleanup_free_ char *what = xasprintf("%s: %s", k->key,
						      k->import_from ? "import-from image"
						      : k->media == MEDIA_CDROM ? "ISO"
										: "disk image");
		if (k->image)
			continue; /* a catalogue image: `up` has fetched it (fetch.c) */
		if (k->import_from)
			n += check_readable(c, g, what, k->import_from,
					    "put the image there or change import-from=");
		else if (!k->allocate && path)
			n += check_file(
			    c, g, what, path,
			    "download it and put it there (README: \"Operating systems\")");
	}
	const struct lab_disk *rootfs = NULL;
	for (size_t d = 0; g->kind == KIND_CT && d < g->n_disks; d++)
		if (streq(g->disks[d].key, "rootfs"))
			rootfs = &g->disks[d];
	_cleanup_free_ char *root =
	    rootfs && rootfs->named ? lab_disk_path(c->lab, g, rootfs) : NULL;
	struct stat st;
	/* a container's existing root file system (an image, an LV or a folder) */
	if (root && stat(root, &st) < 0) {
		fprintf(c->errout,
			"%s: rootfs volume '%s' is missing: restore the container's backup there, "
			"or make a new one (rootfs: STORAGE:SIZE with ostemplate:)\n",
			g->name, root);
		n++;
	}
	if (g->ct && g->ct->template_path)
		n += check_readable(
		    c, g, "ostemplate", g->ct->template_path,
		    "put the template there (pveam download, or an image: of lab.cfg)");
	if (g->kernel)
		n += check_file(c, g, "kernel", g->kernel, "put the kernel there");
	if (g->initrd)
		n += check_file(c, g, "initrd", g->initrd, "put the initrd there");
	return n;
}

/* Before anything is created, each storage checks the volumes the plan makes
 * on it (lvmthin: group, pool, tools, room; lvm: group, tools, free extents); its
 * warnings are printed. */
static int check_storages(const struct engine *c, const struct plan *p, struct lv_error *err)
{
	const struct lab *lab = c->lab;
	int rc = 0;
	for (size_t s = 0; rc == 0 && s < lab->n_storages; s++) {
		struct storage_vol *vols = xcalloc(p->n_steps, sizeof(*vols));
		size_t n = 0;
		for (size_t i = 0; i < p->n_steps; i++) {
			const struct lab_guest *g = &lab->guests[p->steps[i].guest];
			const struct lab_disk *d = &g->disks[p->steps[i].disk];
			if (p->steps[i].op == STEP_VOLUME_CREATE &&
			    streq(d->storage, lab->storages[s].id))
				storage_vol_init(&vols[n++], lab, g, d);
		}
		char *note = NULL;
		rc = n ? storage_check(&lab->storages[s], vols, n, &note, err) : 0;
		if (note)
			fprintf(c->errout, "warning: %s\n", note);
		free(note);
		for (size_t i = 0; i < n; i++)
			storage_vol_clear(&vols[i]);
		free(vols);
	}
	return rc;
}

int preflight_check(const struct engine *c, const bool *selected, const struct plan *p,
		    struct lv_error *err)
{
	int missing = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		missing += selected[i] ? missing_files(c, &c->lab->guests[i]) : 0;
	if (missing)
		return lv_fail(err, LV_EXIT_FAIL, "%d file%s the lab needs %s missing", missing,
			       missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
	return check_storages(c, p, err);
}
