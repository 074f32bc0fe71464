/* lvm.h - lvm2 as the lvmthin and lvm backends use it: the commands it runs (argument
 * vectors) and the parsing of their machine-readable output (lvm2's JSON
 * report, qemu-img's JSON info). Pure: nothing here runs a program, so all of
 * it is unit tested without lvm. */
#ifndef LVM_H
#define LVM_H

#include "lv.h"

/* Ownership tags on the LVs labvirt makes. LVM allows [A-Za-z0-9_+.-/=!:&#]. */
#define LVM_TAG_OWNER "labvirt:"      /* + "LAB/GUEST/DISK" */
#define LVM_TAG_BASE  "labvirt-base:" /* + "LAB": a base image kept as a thin volume */

/* The fields labvirt asks `lvs` and `vgs` for, in this order. */
#define LVM_LV_FIELDS                                                                              \
	"lv_name,vg_name,lv_size,segtype,pool_lv,origin,lv_tags,data_percent,"                     \
	"metadata_percent,lv_metadata_size"
#define LVM_VG_FIELDS "vg_name,vg_size,vg_free,vg_extent_size"

/* One row of an `lvs` report. Percentages are -1 where lvm2 leaves them empty. */
struct lvm_lv {
	char name[128], vg[128], pool[128], origin[128], segtype[32];
	char *tags; /* comma-separated, as lvm2 reports them */
	uint64_t size, meta_size;
	double data_pct, meta_pct;
};

struct lvm_vg {
	char name[128];
	uint64_t size, free, extent;
};

/* Parse `lvs/vgs --reportformat json --units b --nosuffix -o FIELDS` output.
 * Every field of the list must be present in every row; anything else is an
 * error naming what was wrong. *ret_* are left untouched on failure. */
int lvm_parse_lvs(const char *json, struct lvm_lv **ret_lvs, size_t *ret_n, struct lv_error *err);
int lvm_parse_vgs(const char *json, struct lvm_vg **ret_vgs, size_t *ret_n, struct lv_error *err);
void lvm_lvs_free(struct lvm_lv *lvs, size_t n);

const struct lvm_lv *lvm_find_lv(const struct lvm_lv *lvs, size_t n, const char *name);
/* The LV carries exactly this tag (tags are compared whole, not as prefixes). */
bool lvm_lv_has_tag(const struct lvm_lv *lv, const char *tag);

/* What `qemu-img info --output=json IMAGE` says about an import image. */
struct lvm_image {
	char format[16]; /* "raw", "qcow2", ... */
	uint64_t virtual_size;
	bool backing;   /* has a backing file of its own */
	bool data_file; /* qcow2 with an external data file */
};
int lvm_parse_image_info(const char *json, struct lvm_image *ret, struct lv_error *err);

/* Commands, as NULL-terminated argument vectors (free with lvm_argv_free). */
char **lvm_cmd_vgs(void);
char **lvm_cmd_lvs(const char *vg);
/* A thin volume of size bytes in vg/pool, tagged. */
char **lvm_cmd_create_thin(const char *vg, const char *pool, const char *name, uint64_t size,
			   const char *tag);
/* A thin snapshot of vg/origin, activated like any volume (-kn: no activation skip). */
char **lvm_cmd_snapshot(const char *vg, const char *origin, const char *name, const char *tag);
/* A thick (linear) volume of size bytes in vg, tagged, active, with any old
 * file system or partition signature at its start wiped (-Wy): the extents
 * may hold an earlier LV's data, as on Proxmox. */
char **lvm_cmd_create_thick(const char *vg, const char *name, uint64_t size, const char *tag);
/* Activates vg/name (its /dev node) when it is not active. */
char **lvm_cmd_activate(const char *vg, const char *name);
char **lvm_cmd_extend(const char *vg, const char *name, uint64_t size);
char **lvm_cmd_remove(const char *vg, const char *name);
/* qemu-img info of image: its format probed (format NULL), or given (a volume of the
 * lab, whose contents a guest wrote: never probed). */
char **lvm_cmd_image_info(const char *image, const char *format);
/* Writes image (of format) into the block device dev, skipping zeroes (a new
 * thin volume reads as zeroes), bypassing the page cache. */
char **lvm_cmd_image_write(const char *image, const char *format, const char *dev);
/* The same into a thick volume, which may hold old data: every byte is
 * written, zeroes included. */
char **lvm_cmd_image_write_all(const char *image, const char *format, const char *dev);
void lvm_argv_free(char **argv);
static inline void lvm_argv_freep(char ***p)
{
	lvm_argv_free(*p);
}
#define _cleanup_argv_ _cleanup_(lvm_argv_freep)

/* "LAB-base-<16 hex>": the base volume of an image, from the lab's name and a
 * key that changes when the image does (its real path, size and mtime). */
char *lvm_base_name(const char *lab, const char *image_key);
/* Byte counts for messages: "64.0 GiB", "512.0 MiB", "4096 B". */
void lvm_size_text(uint64_t bytes, char buf[32]);

#endif
