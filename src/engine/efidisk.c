/* efidisk.c - efidisk0, libvirt's <nvram> file, as a volume of labvirt's
 * (engine.h). */
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "storage.h"

/* efidisk0 as a volume: the file of its dir storage, owner LAB/GUEST/efidisk0. */
static bool efidisk_vol(struct storage_vol *v, const struct lab *lab, const struct lab_guest *g)
{
	if (!g->efidisk.path || !g->efidisk.volume)
		return false;
	_cleanup_free_ char *sid = xstrndup(g->efidisk.volume, strcspn(g->efidisk.volume, ":"));
	*v = (struct storage_vol){
	    .storage = lab_find_storage(lab, sid),
	    .path = xstrdup(g->efidisk.path),
	    .owner = xasprintf("%s/%s/efidisk0", lab->name, g->name),
	};
	if (v->storage)
		return true;
	storage_vol_clear(v);
	return false;
}

/* -1: cannot tell, 0: absent, 1: labvirt's, 2: not labvirt's */
static int efidisk_state(const struct lab *lab, const struct lab_guest *g)
{
	struct storage_vol v;
	if (!efidisk_vol(&v, lab, g))
		return 0;
	bool exists = false, foreign = false;
	struct lv_error err = {0};
	int rc = storage_query(&v, &exists, &foreign, &err);
	storage_vol_clear(&v);
	return rc < 0 ? -1 : !exists ? 0 : foreign ? 2 : 1;
}

bool efidisk_exists(const struct lab *lab, const struct lab_guest *g)
{
	return efidisk_state(lab, g) != 0;
}

void efidisk_claim(const struct lab *lab, const struct lab_guest *g)
{
	struct storage_vol v;
	struct lv_error err = {0};
	if (!efidisk_vol(&v, lab, g))
		return;
	if (access(v.path, F_OK) == 0)
		(void)storage_dir_tag(&v, &err); /* untagged, destroy keeps it: no harm */
	storage_vol_clear(&v);
}

bool efidisk_keep(const struct lab *lab, const struct lab_guest *g)
{
	int state = efidisk_state(lab, g);
	return state == -1 || state == 2;
}
