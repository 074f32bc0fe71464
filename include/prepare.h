/* prepare.h - first-boot preparation of new disks with libguestfs: the
 * guest's cloud-init keys (Proxmox's ciuser, ipconfigN, ...) written into its
 * disk, in the way of the OS that libguestfs inspection finds there. */
#ifndef PREPARE_H
#define PREPARE_H

#include "layout.h"

struct prepare_disk {
	const struct lab *lab;
	const struct lab_guest *g;
	const char *path; /* the new qcow2 volume */
	char os[64];      /* out: what inspection found, e.g. "alpine 3.20" */
	bool skipped;     /* out: prepared before (it carries the marker) */
};

/* Whether the volume carries the marker user.labvirt.prepared. */
bool prepare_done(const char *path);

/* Prepares every disk with one libguestfs appliance launch (tcg: the
 * appliance runs without KVM). Each disk gets the marker when done; on
 * failure nothing is marked and the caller removes the new volumes. The
 * guest's filesystems are only ever mounted inside the appliance. written,
 * when not NULL, is called once the first disk's files are written, the
 * appliance still running (a test hook: SIGKILL in the middle). */
int prepare_disks(struct prepare_disk *disks, size_t n, bool tcg, void (*written)(void),
		  struct lv_error *err);

#endif
