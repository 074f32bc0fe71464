/* render.h - libvirt XML for a lab's guests and networks, built with libxml2.
 * Pure and deterministic: the same lab renders byte-identical XML. */
#ifndef RENDER_H
#define RENDER_H

#include "layout.h"

/* The XML namespace of labvirt's <metadata> element. */
#define LV_XMLNS "https://labvirt.org/xmlns/lab/1"

/* Domain XML of guest g; accel must be ACCEL_KVM or ACCEL_TCG (already resolved).
 * The XML carries <metadata><labvirt:owner lab= guest= config=/></metadata>,
 * where config is render_hash() of the XML rendered without that attribute. */
int render_domain(const struct lab *lab, const struct lab_guest *g, enum lab_accel accel,
		  char **ret_xml, struct lv_error *err);

/* Network XML for a nat or isolated bridge (libvirt's network driver). */
int render_network(const struct lab *lab, const struct lab_bridge *b, char **ret_xml,
		   struct lv_error *err);

/* The machine type libvirt knows for Proxmox's machine (allocated): without the
 * "+pveN" of Proxmox's own QEMU builds (pc-i440fx-8.1+pve0) and the legacy
 * ".pxe" (pc-q35-5.1.pxe, which only picked iPXE option ROMs), in that order. */
char *render_machine_type(const char *machine);

/* What a versioned machine type (pc-q35-8.1) runs as on a host whose QEMU has
 * the machine types machines[n]: itself when the host has it, else the newest
 * of its family that is not newer (pc-q35-7.2), else NULL (not versioned, or no
 * such family: left to libvirt). Allocated. */
char *render_machine_for_host(const char *machine, char *const *machines, size_t n);

/* render_domain with the machine type replaced by machine (NULL: as the layout says). */
int render_domain_as(const struct lab *lab, const struct lab_guest *g, enum lab_accel accel,
		     const char *machine, char **ret_xml, struct lv_error *err);

/* 16 lower-case hex digits: FNV-1a 64 of data; used for the config stamp. */
void render_hash(const char *data, size_t len, char ret_hex[17]);

#endif
