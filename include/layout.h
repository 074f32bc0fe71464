/* layout.h - the lab as read from its folder: domains/<guest>.conf files in
 * Proxmox's qemu-server syntax and domains/lab.cfg in storage.cfg's stanza
 * syntax. Pure: parsing and validation read the layout files and nothing else. */
#ifndef LAYOUT_H
#define LAYOUT_H

#include "lv.h"

#define LAB_MAX_NETS  32 /* net0..net31, as Proxmox */
#define LAB_MAX_DISKS 64 /* all buses together */

enum lab_accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

enum lab_bridge_mode {
	BRIDGE_NAT,      /* a libvirt network with DHCP and NAT whose bridge has this name */
	BRIDGE_ISOLATED, /* a bridge with no uplink */
	BRIDGE_HOST,     /* an existing host bridge, the Proxmox way */
};

enum lab_storage_type { STORAGE_DIR, STORAGE_LVMTHIN };

enum lab_bus { BUS_VIRTIO, BUS_SCSI, BUS_SATA, BUS_IDE };

enum lab_media { MEDIA_DISK, MEDIA_CDROM };

/* `dir: local` / `lvmthin: local-lvm` in lab.cfg. */
struct lab_storage {
	char *id;
	enum lab_storage_type type;
	char *path;        /* dir: where volumes live */
	char *vgname;      /* lvmthin */
	char *thinpool;    /* lvmthin */
	double overcommit; /* lvmthin, labvirt-only: error past this many times the pool; 0: none */
	int line;
};

/* `bridge: vmbr0` in lab.cfg (labvirt's own stanza). */
struct lab_bridge {
	char *name;
	enum lab_bridge_mode mode;
	char *address;               /* host side "10.10.10.1/24", or NULL */
	char *dhcp_start, *dhcp_end; /* nat: DHCP range (defaults from address) */
	int line;
};

/* `image: alpine-3.20` in lab.cfg: an image the lab downloads and checks
 * (labvirt-only stanza). Kept as <dir storage path>/import/<file>. */
enum lab_sum { SUM_SHA256, SUM_SHA512 };
struct lab_image {
	char *name;
	char *url;
	enum lab_sum sum_type;
	char *sum;     /* the hex digest (lower case), or NULL with sum_url */
	char *sum_url; /* a checksum file listing the image (SHA256SUMS, x.sha512) */
	char *format;  /* qcow2 (default) or raw */
	char *storage; /* the dir storage whose import/ folder keeps it */
	char *file;    /* the file name there: file= or the URL's last part */
	char *path;    /* <storage path>/import/<file>, NULL when the storage is bad */
	int line;
};

/* A disk or CD-ROM: `virtio0: local:32`, `ide2: local:iso/x.iso,media=cdrom`,
 * `ide2: none,media=cdrom`, `scsi0: local:0,import-from=/img.qcow2`. */
struct lab_disk {
	char key[16]; /* "virtio0" */
	enum lab_bus bus;
	int index;
	enum lab_media media;
	char *storage;     /* storage id, or NULL for a plain path or "none" */
	uint64_t size;     /* bytes to allocate; 0 with import_from: the image's size */
	bool allocate;     /* STORAGE:SIZE form: labvirt makes the volume */
	char *volume;      /* STORAGE:VOLUME form (e.g. "iso/x.iso"), or NULL */
	char *path;        /* absolute path (plain path, or volume resolved), or NULL */
	char *import_from; /* import-from= image path (resolved) */
	char *image;       /* import-from= named this catalogue image, or NULL */
	bool full_clone;   /* labvirt-only clone=full; default a linked clone */
	char *cache;       /* cache= (none, writeback, ...) or NULL */
	bool discard;      /* discard=on */
	bool readonly;     /* ro=1 */
	bool empty;        /* "none" (an empty CD-ROM drive) */
	int line;
};

/* `net0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0`. */
struct lab_net {
	int index;
	char model[16]; /* virtio, e1000, rtl8139, vmxnet3 */
	char mac[18];   /* "52:54:00:..." lower case; derived when not given */
	bool mac_given;
	char *bridge;
	bool link_down;
	int line;
};

/* `ipconfig0: ip=10.0.0.5/24,gw=10.0.0.1` or `ip=dhcp`, for netN. */
struct lab_ipconfig {
	int index;
	char *ip; /* "CIDR" or "dhcp" */
	char *gw; /* or NULL */
	int line;
};

/* Proxmox's cloud-init keys: what labvirt writes into the guest's disk before
 * its first boot. */
struct lab_cloudinit {
	bool set;           /* any cloud-init key was given */
	char *user;         /* ciuser */
	char *password;     /* cipassword: as written (plain or a crypt(3) hash) */
	char *sshkeys;      /* sshkeys, URL-decoded: one key per line */
	char *nameserver;   /* blank-separated addresses */
	char *searchdomain; /* blank-separated domains */
	char *custom_user, *custom_network, *custom_meta, *custom_vendor; /* cicustom paths */
	struct lab_ipconfig ipconfig[LAB_MAX_NETS];
	size_t n_ipconfig;
};

struct lab_guest {
	char *name; /* DNS label; `name:` or the file's stem */
	char *file; /* path of its .conf, for messages */
	int vmid;   /* the file's stem when numeric (Proxmox style), else 0 */
	int cores, sockets;
	uint64_t memory_mib;
	char *ostype;
	char *description;
	char uuid[37]; /* smbios1 uuid= or derived */
	bool uuid_given;
	char *machine;  /* machine: pc, q35, ... or NULL for libvirt's default */
	char *vga;      /* std, qxl, virtio, serial0, none, ... or NULL */
	char *graphics; /* labvirt-only graphics: vnc, spice, none; or NULL (from vga) */
	bool agent;
	bool onboot;
	char *boot_order[LAB_MAX_DISKS + LAB_MAX_NETS]; /* "virtio0", "net0", ... */
	size_t n_boot;
	char *kernel, *initrd, *cmdline; /* labvirt-only: direct kernel boot */
	struct lab_net nets[LAB_MAX_NETS];
	size_t n_nets;
	struct lab_disk disks[LAB_MAX_DISKS];
	size_t n_disks;
	struct lab_cloudinit ci;
};

struct lab {
	char *dir;  /* the lab folder */
	char *name; /* `lab: NAME` */
	char *uri;  /* lab's own libvirt URI, or NULL */
	enum lab_accel accel;
	struct lab_storage *storages;
	size_t n_storages;
	struct lab_bridge *bridges;
	size_t n_bridges;
	struct lab_image *images; /* the image catalogue, in file order */
	size_t n_images;
	struct lab_guest *guests; /* sorted by name */
	size_t n_guests;
};

/* Reads and validates the lab in dir. On failure returns -1, with every
 * problem found in diags as "file:line: message"; *ret_lab is untouched. */
int lab_load(const char *dir, struct lab **ret_lab, struct lv_diag *diags);
void lab_free(struct lab *lab);
static inline void lab_freep(struct lab **lab)
{
	lab_free(*lab);
}
#define _cleanup_lab_ _cleanup_(lab_freep)

struct lab_guest *lab_find_guest(const struct lab *lab, const char *name);
struct lab_storage *lab_find_storage(const struct lab *lab, const char *id);
struct lab_bridge *lab_find_bridge(const struct lab *lab, const char *name);
struct lab_image *lab_find_image(const struct lab *lab, const char *name);

/* Names labvirt gives what it creates; all carry the lab's name. */
char *lab_volume_name(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d);
char *lab_network_name(const struct lab *lab, const struct lab_bridge *b);
/* Where a disk lives on the host: dir storage "<path>/<volume name>", an ISO
 * volume "<path>/template/iso/<file>", lvmthin "/dev/<vg>/<volume name>", a plain
 * path as given; NULL for an empty CD-ROM drive. */
char *lab_disk_path(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d);

const char *lab_accel_name(enum lab_accel a);
const char *lab_bridge_mode_name(enum lab_bridge_mode m);
/* The guest's graphical console: "vnc", "spice", or NULL for none. Asked for
 * by `graphics:`, else by a display `vga:` (qxl: spice; std, cirrus, vmware,
 * virtio: vnc); a guest without either has none. */
const char *lab_guest_graphics(const struct lab_guest *g);

#endif
