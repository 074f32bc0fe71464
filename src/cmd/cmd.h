/* cmd.h - what every command shares: the context and its helpers. Only the
 * commands and main print. */
#ifndef CMD_H
#define CMD_H

#include "engine.h"
#include "host.h"
#include "layout.h"
#include "plan.h"
#include "virt.h"

struct ctx {
	const char *lab_dir; /* -L, default "domains" */
	const char *uri;     /* -c or LABVIRT_URI, else the lab's own, else picked */
	struct lab *lab;
	char *state_dir;
	struct virt *virt;
	bool events; /* set before ctx_connect by a command that waits on events */
	FILE *out, *errout;
};

/* What the engine (src/engine/) works on: the context's, once connected. */
static inline struct engine ctx_engine(const struct ctx *c)
{
	return (struct engine){c->lab, c->virt, c->state_dir, c->out, c->errout};
}

/* Loads the layout; layout errors are printed here (all of them) and make
 * the command fail with LV_EXIT_USAGE. */
int ctx_load(struct ctx *c, struct lv_error *err);
/* Loads the layout and connects (to the LXC driver too when the lab has containers). */
int ctx_connect(struct ctx *c, struct lv_error *err);
/* Loads the layout and connects to the QEMU driver only (xml's probe of the accelerator). */
int ctx_open(struct ctx *c, struct lv_error *err);
void ctx_release(struct ctx *c);
/* The accelerator: the lab's setting, or the best the hypervisor offers. */
enum lab_accel ctx_accel(struct ctx *c);
/* Marks the named guests (all when none named); unknown names are an error. */
int ctx_select(struct ctx *c, int argc, char **argv, bool **ret_selected, struct lv_error *err);
/* Takes the lab's lock for `what`, saying so when it must wait. */
int ctx_lock(struct ctx *c, const char *what, struct host_lock **ret, struct lv_error *err);
/* Fills the inventory: domains and networks from libvirt, volumes from
 * storage, bridges from the host. */
int ctx_inventory(struct ctx *c, struct inventory *inv, struct lv_error *err);

/* Parses a verb's own options, wherever they stand before "--", and moves the
 * operands to the end of argv: returns the index of the first operand, or -1
 * with err set (usage). */
struct verb_opt {
	const char *name;   /* "--yes" */
	bool *flag;         /* set for a flag */
	const char **value; /* or takes a value */
};
int verb_options(int argc, char **argv, const struct verb_opt *opts, struct lv_error *err);

/* The lab's guest called name, which must be created and running (ip.c). */
int ctx_running_guest(struct ctx *c, const char *verb, const char *name,
		      const struct lab_guest **ret, struct lv_error *err);
/* A guest's addresses (ip.c): agent, the DHCP leases of its bridges' libvirt
 * networks, the neighbour table. ret_agent: its guest agent answered. known:
 * what virt_inventory_live just read of it, or NULL. */
int ctx_guest_addresses(struct ctx *c, const struct lab_guest *g, const struct virt_dom_info *known,
			struct virt_addr **ret, size_t *ret_n, bool *ret_agent,
			struct lv_error *err);
/* Waits until each selected running guest has an address or an agent that
 * answers; on timeout, fails naming the guests still without (ip.c). */
int ctx_wait_addresses(struct ctx *c, const bool *selected, int timeout_s, struct lv_error *err);

/* Fetches the catalogue images the selected guests use (all with all),
 * checking those already there (fetch.c). */
int fetch_images(struct ctx *c, const bool *selected, bool all, struct lv_error *err);
/* The same for the guests named (all when none): `up`'s first phase. */
int fetch_selected(struct ctx *c, int argc, char **argv, struct lv_error *err);

/* The test hooks of `up`, read once from the environment (hooks_env.c):
 * LABVIRT_FAIL_STEP, LABVIRT_PAUSE_STEP and LABVIRT_PAUSE_FILE,
 * LABVIRT_TRACE_FILE, LABVIRT_KILL_STEP and LABVIRT_KILL_AT. Returns the hooks
 * for struct engine, kept in *env, or NULL when none is set. */
struct env_hooks {
	const char *fail_step, *pause_step, *pause_file, *trace_file, *kill_step, *kill_at;
	struct engine_hooks hooks;
};
const struct engine_hooks *env_hooks_read(struct env_hooks *env);

int cmd_up(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_plan(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_status(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_console(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_down(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_destroy(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_xml(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_validate(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_fetch(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_ip(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_view(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_kiosk(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_backup(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_snapshot(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_rollback(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_delsnapshot(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_listsnapshot(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_restore(struct ctx *c, int argc, char **argv, struct lv_error *err);
int cmd_clone(struct ctx *c, int argc, char **argv, struct lv_error *err);

#endif
