/* pvesnap.h - a guest config's snapshot sections as Proxmox keeps them
 * (PVE::AbstractConfig's snapshot_prepare/commit, rollback and delete, and
 * write_vm_config's layout): `[NAME]` sections holding the config as it was, with
 * snaptime, vmstate and the snapshot's description as comment lines, and `parent:` in
 * the current config naming the snapshot it grew from. Pure: text in, text out,
 * written as Proxmox writes a config (description first, keys sorted, sections after). */
#ifndef PVESNAP_H
#define PVESNAP_H

#include "lv.h"

struct pvesnap {
	char *name;
	char *parent;      /* or NULL */
	char *description; /* decoded, lines joined by '\n', or NULL */
	long long snaptime;
	bool vmstate;
};

/* The snapshots of a config in the order of their sections, and the current
 * config's parent (or NULL). where names the file in errors. */
int pvesnap_list(const char *text, const char *where, struct pvesnap **ret, size_t *ret_n,
		 char **ret_parent, struct lv_error *err);
void pvesnap_free(struct pvesnap *s, size_t n);

/* Proxmox's rule for a snapshot's name (pve-configid, at most 40, not "current",
 * "pending" or "vzdump"). */
bool pvesnap_valid_name(const char *name);

/* The config with snapshot name added: a copy of the current config (not lock,
 * digest, description, unusedN), snaptime t, vmstate (a volume, or NULL) and
 * description (or NULL); the current config's parent: becomes name. Fails when the
 * name is taken or the config is locked. */
char *pvesnap_take(const char *text, const char *where, const char *name, const char *description,
		   long long t, const char *vmstate, struct lv_error *err);
/* The config with the current config replaced by snapshot name's (its description
 * kept) and parent: name. */
char *pvesnap_rollback(const char *text, const char *where, const char *name, struct lv_error *err);
/* The config without snapshot name; what had it as parent gets its parent. */
char *pvesnap_delete(const char *text, const char *where, const char *name, struct lv_error *err);

#endif
