/* lvm-host.h - what the lvmthin and lvm backends share on the host: running
 * lvm2 and qemu-img, and reading a volume group with its LVs. Errors name
 * the storage with its type ("lvm storage 'ID': ..."). */
#ifndef LVM_HOST_H
#define LVM_HOST_H

#include "layout.h"
#include "lvm.h"

int lvm_host_run(char **argv, char **ret_out, struct lv_error *err);
/* prog is an executable in one of $PATH's folders. */
bool lvm_host_in_path(const char *prog);
/* Runs a report command; lvm2's "Permission denied" becomes a clear error. */
int lvm_host_report(const struct lab_storage *s, char **argv, char **ret_out, struct lv_error *err);
/* qemu-img's view of an import image; one with a backing or data file of its
 * own is refused (it could expose host files). With format given, image is a volume of
 * the lab (a clone's source): not probed, and its backing chain is its own. */
int lvm_host_image_info(const char *image, const char *format, struct lvm_image *ret,
			struct lv_error *err);
/* s's volume group (must exist) and its LVs (free with lvm_lvs_free).
 * *ret_vg_missing (may be NULL) tells a missing group apart from other failures. */
int lvm_host_load(const struct lab_storage *s, struct lvm_vg *ret_vg, struct lvm_lv **ret_lvs,
		  size_t *ret_n, bool *ret_vg_missing, struct lv_error *err);
/* The LV name of a volume path /dev/VG/NAME. */
const char *lvm_host_lv_name(const char *path);

#endif
