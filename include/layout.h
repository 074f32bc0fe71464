/* layout.h - the lab as read from its folder: domains/<guest>.conf files in
 * Proxmox's qemu-server syntax (VMs, also in qemu-server/), lxc/<ct>.conf in
 * pve-container's syntax (containers) and domains/lab.cfg in storage.cfg's stanza
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

/* STORAGE_OTHER: a Proxmox type labvirt does not run (zfspool, nfs, ...): kept,
 * an error for a guest that uses it. */
enum lab_storage_type {
	STORAGE_DIR,
	STORAGE_LVMTHIN,
	STORAGE_LVM,
	STORAGE_BTRFS,
	STORAGE_ZFSPOOL,
	STORAGE_OTHER
};

/* BUS_MP: a container's rootfs (index -1) or mpN (index N), mounted at mp. */
enum lab_bus { BUS_VIRTIO, BUS_SCSI, BUS_SATA, BUS_IDE, BUS_MP };

/* A VM (qemu-server/, QEMU) or a container (lxc/, libvirt's LXC driver). */
enum lab_kind { KIND_VM, KIND_CT };

enum lab_media { MEDIA_DISK, MEDIA_CDROM };

/* `dir: local` / `lvmthin: local-lvm` / `lvm: vgstore` in lab.cfg. */
struct lab_storage {
	char *id;
	enum lab_storage_type type;
	char *path;        /* dir, btrfs: where volumes live */
	char *vgname;      /* lvmthin, lvm */
	char *thinpool;    /* lvmthin */
	double overcommit; /* lvmthin, labvirt-only: error past this many times the pool; 0: none */
	bool saferemove;   /* lvm: zero an LV before it is removed */
	char *base;        /* lvm: Proxmox's base volume (an iSCSI LUN): kept, not used */
	bool nocow;        /* btrfs: No_COW on its raw files */
	char *pool;        /* zfspool: the dataset holding the volumes ("rpool/data") */
	char *blocksize;   /* zfspool: zvols' volblocksize ("16k"), or NULL */
	bool sparse;       /* zfspool: zvols without a reservation */
	char *mountpoint;  /* zfspool: where the pool's datasets are mounted (default /POOL) */
	char *other_type;  /* STORAGE_OTHER: Proxmox's type name */
	bool disabled;     /* disable 1 */
	char *file;        /* lab.cfg or storage.cfg, for messages */
	bool from_storage_cfg;
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
	bool named;        /* STORAGE:NAME form (Proxmox's vm-ID-disk-N): used as it is,
			      made empty at size= when missing */
	bool cloudinit;    /* STORAGE:cloudinit or STORAGE:vm-ID-cloudinit */
	char *format;      /* format=, or NULL */
	bool iothread, ssd, no_backup, no_replicate, shared, snapshot;
	char *aio, *serial, *wwn, *detect_zeroes, *rerror, *werror;
	int queues;
	uint64_t iops[6], mbps[6]; /* iops, iops_rd, iops_wr, *_max; mbps likewise, in bytes/s */
	/* a container's rootfs and mpN */
	char *mp;           /* where it is mounted in the container ("/" for rootfs) */
	bool bind;          /* a host folder (path) bind-mounted, not a volume */
	bool subvol;        /* a folder volume (STORAGE:0 on dir, subvol-ID-disk-N) */
	bool acl_set, acl;  /* acl= given, and its value */
	bool quota;         /* quota=1 */
	char *mountoptions; /* "noatime;nosuid" */
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
	bool firewall;
	int queues, mtu, tag; /* 0: none */
	double rate;          /* MB/s, 0: none */
	char *trunks;         /* "10;20-30" */
	/* a container's netN */
	char *name;      /* name=eth0: the device inside the container */
	char *ip, *gw;   /* ip=CIDR|dhcp|manual, gw= */
	char *ip6, *gw6; /* ip6=CIDR|auto|dhcp|manual, gw6= */
	int line;
};

/* `ipconfig0: ip=10.0.0.5/24,gw=10.0.0.1` or `ip=dhcp`, for netN. */
struct lab_ipconfig {
	int index;
	char *ip;  /* "CIDR" or "dhcp", or NULL */
	char *gw;  /* or NULL */
	char *ip6; /* "CIDR", "dhcp" or "auto", or NULL */
	char *gw6; /* or NULL */
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
	char *type;      /* citype: nocloud, configdrive2, opennebula; NULL: by ostype */
	bool no_upgrade; /* ciupgrade: 0 */
	struct lab_ipconfig ipconfig[LAB_MAX_NETS];
	size_t n_ipconfig;
};

/* cpu: [cputype=]MODEL,flags=+F;-F,... */
struct lab_cpu {
	char *model;   /* as written ("host", "kvm64", "x86-64-v2-AES"), NULL: Proxmox's default */
	char *flags;   /* "+aes;-pcid", or NULL */
	int phys_bits; /* 0: QEMU's default, -1: host */
	bool hidden;   /* hide the hypervisor from the guest */
};

/* numaN: cpus=0-1,memory=1024,hostnodes=0,policy=preferred */
struct lab_numa_cell {
	int index;
	char *cpus;
	uint64_t memory_mib;
	char *hostnodes, *policy;
};
#define LAB_MAX_NUMA 8

/* efidisk0 / tpmstate0: a small volume beside the disks. */
struct lab_state_disk {
	bool set;
	char *volume;      /* as written: "local:100/vm-100-disk-1.raw" */
	char *path;        /* on a dir storage: the file, else NULL */
	bool pre_enrolled; /* efidisk0 pre-enrolled-keys=1 */
	bool small;        /* efidisk0 efitype=2m (Proxmox's default) rather than 4m */
	char *version;     /* tpmstate0: v1.2 or v2.0 */
	int line;
};

/* Devices beside the disks and nets (Proxmox's rngN, watchdog, audioN, serialN,
 * parallelN, usbN, hostpciN, virtiofsN). */
struct lab_devices {
	bool rng_set; /* rng0 given: else labvirt's default virtio-rng from /dev/urandom */
	char *rng_source;
	uint64_t rng_max_bytes, rng_period;
	char *watchdog_model, *watchdog_action;
	char *audio_device, *audio_driver;
	char *serial[4]; /* serialN: "socket" or a host device path */
	char *parallel[3];
	char *usb[14]; /* usbN as written (host-bound) */
	char *hostpci[16];
	char *virtiofs[10];
	char *ivshmem_name;
	uint64_t ivshmem_mib;
};

/* smbios1's fields, decoded from base64 when base64=1. */
struct lab_smbios {
	char *family, *manufacturer, *product, *serial, *sku, *version;
};

/* What only a container has (lxc/VMID.conf). Its rootfs and mpN are disks on
 * BUS_MP, its netN nets with name/ip/gw; nameserver and searchdomain are the
 * guest's ci.nameserver and ci.searchdomain, as for a VM's cloud-init. */
struct lab_ct {
	uint64_t swap_mib; /* swap: (Proxmox's default 512) */
	bool unprivileged;
	bool nesting, keyctl, fuse, mknod, force_rw_sys; /* features: */
	char *mount_fs;                                  /* features: mount=nfs;cifs */
	char *cmode;                                     /* tty (default), console, shell */
	bool console;                                    /* console: (default 1) */
	int tty;                                         /* tty: (default 2) */
	char *timezone;
	char *entrypoint;     /* entrypoint: (default /sbin/init) */
	char *env;            /* env: NAME=VALUE joined by NUL in Proxmox; here by '\0' */
	char *ostemplate;     /* labvirt-only: STORAGE:vztmpl/FILE, a path, or an image name */
	char *template_path;  /* where ostemplate resolves to, NULL for a catalogue image */
	char *template_image; /* ostemplate names this catalogue image, or NULL */
	char *password;       /* labvirt-only, pct create --password */
	char *ssh_keys;       /* labvirt-only ssh-public-keys: FILE, its keys read */
	char *devs[256];      /* devN as written (host-bound) */
	char *raw_lxc;        /* the first lxc.* key (host-bound), or NULL */
	int raw_lxc_line;
};

struct lab_guest {
	enum lab_kind kind;
	struct lab_ct *ct; /* KIND_CT only */
	char *name;        /* `name:` (a CT's `hostname:`; Proxmox's rule) or the file's stem */
	char *file;        /* path of its .conf, for messages */
	int vmid;          /* the file's stem when numeric (Proxmox style), else 0 */
	int cores, sockets;
	uint64_t memory_mib;
	char *ostype;
	char *description;
	char uuid[37]; /* smbios1 uuid= or derived */
	bool uuid_given;
	char *machine;     /* machine: pc, q35, ... or NULL for libvirt's default */
	char *viommu;      /* machine: viommu=intel|virtio, or NULL */
	char *boot_legacy; /* boot: legacy letters (c, d, n), or NULL */
	char *bootdisk;    /* bootdisk: for the legacy c */
	char *vga;         /* std, qxl, virtio, serial0, none, ... or NULL */
	char *graphics;    /* labvirt-only graphics: vnc, spice, none; or NULL (from vga) */
	bool agent;
	bool agent_isa; /* agent: type=isa */
	bool onboot;
	char *boot_order[LAB_MAX_DISKS + LAB_MAX_NETS]; /* "virtio0", "net0", ... */
	size_t n_boot;
	char *kernel, *initrd, *cmdline; /* labvirt-only: direct kernel boot */
	struct lab_net nets[LAB_MAX_NETS];
	size_t n_nets;
	struct lab_disk disks[LAB_MAX_DISKS];
	size_t n_disks;
	struct lab_cloudinit ci;
	/* Proxmox's hardware keys */
	struct lab_cpu cpu;
	bool numa;
	struct lab_numa_cell numa_cells[LAB_MAX_NUMA];
	size_t n_numa;
	bool balloon_set;     /* balloon: given; 0 disables the balloon device */
	uint64_t balloon_mib; /* the target the balloon may shrink to */
	uint64_t shares;      /* memory shares for auto-ballooning (bookkeeping on a host) */
	char *bios;           /* seabios (default) or ovmf */
	struct lab_state_disk efidisk, tpmstate;
	char *scsihw;    /* lsi (Proxmox's default), virtio-scsi-single, ... */
	int tablet;      /* -1: Proxmox's default (1) */
	int localtime;   /* -1: by ostype (Windows: 1) */
	bool no_kvm;     /* kvm: 0: TCG for this guest */
	bool no_acpi;    /* acpi: 0 */
	bool no_reboot;  /* reboot: 0: a reboot powers off */
	bool freeze;     /* freeze: 1: start paused */
	bool tdf;        /* tdf: 1: time drift fix */
	int vcpus;       /* vcpus: hot-plugged vCPUs at start; 0: all */
	double cpulimit; /* 0: none */
	uint64_t cpuunits;
	char *affinity;  /* host CPUs, "0-3,8" */
	char *hugepages; /* any, 2, 1024 */
	char *vmgenid;   /* a UUID, or "1"/"auto": libvirt makes one */
	struct lab_smbios smbios;
	char *keyboard;
	char *arch; /* x86_64 (default) or aarch64 */
	char *args; /* host-bound: extra QEMU arguments */
	char *hookscript;
	struct lab_devices dev;
	bool spice_folders;                          /* spice_enhancements foldersharing=1 */
	char *spice_streaming;                       /* spice_enhancements videostreaming= */
	uint64_t vga_memory_mib;                     /* vga: memory= */
	int startup_order, startup_up, startup_down; /* startup:; -1 unset */
	/* bookkeeping: kept, no effect on the host */
	char *tags, *lock;
	bool protection, template;
};

struct lab {
	char *dir;  /* the lab folder */
	char *name; /* `lab: NAME` */
	char *uri;  /* lab's own libvirt URI, or NULL */
	enum lab_accel accel;
	bool skip_host_devices; /* labvirt-only `host-devices skip`: host-bound devices this
				   host lacks are left out, not an error */
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
/* lab_load with one more guest file that is not in the folder yet: text, read as the
 * lab's file fname ("qemu-server/100.conf") would be, its messages naming where.
 * How `restore` checks a guest before it lands. */
int lab_load_with(const char *dir, const char *fname, const char *text, const char *where,
		  struct lab **ret_lab, struct lv_diag *diags);
void lab_free(struct lab *lab);
static inline void lab_freep(struct lab **lab)
{
	lab_free(*lab);
}
#define _cleanup_lab_ _cleanup_(lab_freep)

/* Frees what guest g holds (not g itself: it lives in lab->guests). */
void lab_guest_free(struct lab_guest *g);

struct lab_guest *lab_find_guest(const struct lab *lab, const char *name);
struct lab_storage *lab_find_storage(const struct lab *lab, const char *id);
/* A storage whose volumes are files under its path, with Proxmox's folders (images/,
 * import/, template/): dir and btrfs. */
static inline bool lab_storage_files(const struct lab_storage *s)
{
	return s && (s->type == STORAGE_DIR || s->type == STORAGE_BTRFS);
}
/* A storage whose disk volumes are block devices (an LV, a zvol). */
static inline bool lab_storage_block(const struct lab_storage *s)
{
	return s &&
	       (s->type == STORAGE_LVMTHIN || s->type == STORAGE_LVM || s->type == STORAGE_ZFSPOOL);
}
/* A storage that keeps folder volumes (a container's subvol-): dir, btrfs, zfspool. */
static inline bool lab_storage_folders(const struct lab_storage *s)
{
	return s && (lab_storage_files(s) || s->type == STORAGE_ZFSPOOL);
}
/* zfspool: where volume NAME is: a zvol's device link, or a folder volume's mount. */
char *lab_zfs_path(const struct lab_storage *s, const char *name, bool folder);
struct lab_bridge *lab_find_bridge(const struct lab *lab, const char *name);
struct lab_image *lab_find_image(const struct lab *lab, const char *name);

/* Names labvirt gives what it creates; all carry the lab's name. */
char *lab_volume_name(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d);
char *lab_network_name(const struct lab *lab, const struct lab_bridge *b);
/* Where a disk lives on the host: dir storage "<path>/<volume name>", an ISO
 * volume "<path>/template/iso/<file>", lvmthin and lvm "/dev/<vg>/<volume name>", a plain
 * path as given; NULL for an empty CD-ROM drive. */
char *lab_disk_path(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d);

/* Where labvirt mounts a volume (an ext4 image or LV) of an unprivileged container
 * on the host before its start, as Proxmox does, since libvirt's LXC driver cannot
 * mount one inside a user namespace: /run/labvirt/ct/LAB/GUEST/DISK; NULL for a
 * volume libvirt takes as it is (a folder, a bind mount, a privileged container's). */
char *lab_ct_mount_dir(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d);

/* Proxmox's rule for a guest's name (a DNS name; capitals allowed). */
bool lab_is_guest_name(const char *s);

const char *lab_accel_name(enum lab_accel a);
const char *lab_bridge_mode_name(enum lab_bridge_mode m);
/* "dir", "lvmthin", "lvm", or Proxmox's name of another type. */
const char *lab_storage_type_name(const struct lab_storage *s);
/* lvmthin and lvm: volumes are LVs, block devices /dev/<vg>/<name>. */
static inline bool lab_storage_is_lvm(const struct lab_storage *s)
{
	return s && (s->type == STORAGE_LVMTHIN || s->type == STORAGE_LVM);
}
/* The guest's graphical console: "vnc", "spice", or NULL for none. Asked for
 * by `graphics:`, else by a display `vga:` (qxl: spice; std, cirrus, vmware,
 * virtio: vnc); a guest without either has none. */
const char *lab_guest_graphics(const struct lab_guest *g);

#endif
