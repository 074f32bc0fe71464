/* host.h - the local host: labvirt's state directory, the per-lab lock,
 * running programs by argument vector, and Linux bridges. */
#ifndef HOST_H
#define HOST_H

#include "lv.h"

/* LABVIRT_STATE_DIR, else /var/lib/labvirt for root, else
 * $XDG_STATE_HOME/labvirt or ~/.local/state/labvirt. Created 0711. */
int host_state_dir(char **ret_dir, struct lv_error *err);
/* mkdir -p: path and the folders above it (0755), path itself with mode. */
int host_mkdir_p(const char *path, int mode, struct lv_error *err);

/* Files of the state directory (the intent journal, ...). Written atomically:
 * a temporary file (mode 0600) written and fsynced, renamed over NAME, the
 * directory fsynced. Reading an absent file gives *ret = NULL and 0; removing
 * one is not an error. */
int host_state_write(const char *state_dir, const char *name, const char *data,
		     struct lv_error *err);
int host_state_read(const char *state_dir, const char *name, char **ret, struct lv_error *err);
int host_state_remove(const char *state_dir, const char *name, struct lv_error *err);

/* Takes the lab's lock (flock on STATE/LAB.lock) for `what` ("up", ...). When
 * another labvirt holds it, calls waiting(holder, ctx) once and then waits. */
struct host_lock;
int host_lock_lab(const char *state_dir, const char *lab, const char *what,
		  void (*waiting)(const char *holder, void *ctx), void *ctx,
		  struct host_lock **ret_lock, struct lv_error *err);
void host_unlock(struct host_lock *lock);
static inline void host_unlockp(struct host_lock **l)
{
	host_unlock(*l);
}

/* Runs argv[0] (looked up in PATH) with argv, no shell. Non-zero exit is an
 * error carrying the program's last line of stderr. ret_out may be NULL. */
int host_run(const char *const argv[], char **ret_out, struct lv_error *err);
/* Runs argv[0] with argv, no shell, writing input (len bytes, may be NULL:
 * stdin is then inherited) to its stdin; its stdout and stderr are ours. Waits
 * for it and returns its exit status (128 + N for signal N), or -1. */
int host_run_feed(const char *const argv[], const char *input, size_t len, struct lv_error *err);

/* Whether PATH has an executable program called name. */
bool host_find_program(const char *name);

/* Linux bridges, for when no libvirt network driver makes them. Ownership is
 * the interface alias "labvirt:LAB". */
bool host_link_exists(const char *ifname);
bool host_is_bridge(const char *ifname);
/* Reads the alias; "" when none. */
int host_link_alias(const char *ifname, char *buf, size_t len);
/* cidr may be NULL ("10.10.10.1/24" sets the host's address on it). */
int host_bridge_create(const char *name, const char *alias, const char *cidr, struct lv_error *err);
int host_bridge_delete(const char *name, struct lv_error *err);

/* An ext4 volume (image file through a loop device, or block device) mounted on
 * target (made as needed); already mounted there is no error. */
int host_mount_volume(const char *source, const char *target, bool readonly, struct lv_error *err);
/* Unmounts target when it is mounted, then removes it and the empty folders
 * above it below /run/labvirt. */
int host_unmount_volume(const char *target, struct lv_error *err);

#endif
