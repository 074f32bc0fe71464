/* plan.h - what `up` must do: the lab compared with what exists. Pure: the
 * adapters gather the inventory, the planner only reads it. */
#ifndef PLAN_H
#define PLAN_H

#include "layout.h"

enum dom_state { DOM_ABSENT, DOM_SHUTOFF, DOM_RUNNING, DOM_PAUSED, DOM_OTHER };

/* What exists of one guest's domain. */
struct inv_domain {
	enum dom_state state;
	bool foreign;    /* exists and is not this lab's */
	char owner[64];  /* the lab that owns it, "" if none */
	char config[17]; /* the config stamp in its metadata */
	bool persistent;
	int vcpus; /* from its definition (0: not read) */
	unsigned long long mem_mib;
};

struct inv_volume {
	bool exists;
	bool foreign;
};

/* A bridge: a libvirt network (nat, isolated with a daemon), a bridge labvirt
 * made itself (no network driver), or a host bridge (mode host). */
struct inv_bridge {
	bool exists;
	bool foreign;
	bool active;
};

struct inventory {
	bool network_driver;     /* libvirt's network driver is there (not embedded) */
	struct inv_domain *doms; /* [lab->n_guests] */
	struct inv_volume (*vols)[LAB_MAX_DISKS]; /* [lab->n_guests][disk] */
	struct inv_bridge *bridges;               /* [lab->n_bridges] */
	bool *image_missing; /* [lab->n_images]: the catalogue image is not downloaded yet */
	char **machines;     /* the host QEMU's machine types (read only when a guest names
				a versioned one), or NULL */
	size_t n_machines;
};

struct inventory *inventory_new(const struct lab *lab);
void inventory_free(struct inventory *inv);
static inline void inventory_freep(struct inventory **p)
{
	inventory_free(*p);
}

enum step_op {
	STEP_IMAGE_FETCH,    /* download a catalogue image (`up` does it before it plans) */
	STEP_NETWORK_CREATE, /* define and start a libvirt network */
	STEP_NETWORK_START,
	STEP_BRIDGE_CREATE, /* make the bridge ourselves (no network driver) */
	STEP_VOLUME_CREATE,
	STEP_VOLUME_PREPARE, /* first-boot preparation of the volume just created */
	STEP_DOMAIN_DEFINE,
	STEP_DOMAIN_REDEFINE,
	STEP_DOMAIN_START,
	STEP_RESTART_NEEDED, /* running with an old config: reported, not done */
};

struct plan_step {
	enum step_op op;
	size_t guest, disk, bridge, image;
};

struct plan {
	struct plan_step *steps;
	size_t n_steps;
	struct lv_diag conflicts; /* each one stops `up` before it changes anything */
	struct lv_diag notes;     /* what the user should know: printed, changes nothing */
	char **xml;               /* rendered domain XML per guest, NULL if not selected */
	size_t n_xml;
};

/* selected[i] says whether guest i takes part (NULL: every guest). The domain
 * XML is rendered for accel (resolved). */
int plan_build(const struct lab *lab, const bool *selected, const struct inventory *inv,
	       enum lab_accel accel, struct plan **ret_plan, struct lv_error *err);
void plan_free(struct plan *p);
static inline void plan_freep(struct plan **p)
{
	plan_free(*p);
}

/* Whether a new volume for disk d of g is prepared for first boot: the
 * guest's first disk made from an image, of a guest with cloud-init keys. */
bool plan_prepares(const struct lab_guest *g, size_t d);

/* Counts the steps that change something (all but STEP_RESTART_NEEDED). */
size_t plan_changes(const struct plan *p);
/* "create volume PATH for e2e-a/virtio0", "start domain e2e-a", ... */
char *plan_step_describe(const struct lab *lab, const struct plan_step *s);

#endif
