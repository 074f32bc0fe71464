/* cloudinit.h - the files of Proxmox's cloud-init drive (`ide2: local:cloudinit`),
 * made as PVE/QemuServer/Cloudinit.pm makes them: `nocloud` (volume label
 * `cidata`: user-data, network-config, meta-data, vendor-data) and `configdrive2`
 * (label `config-2`: openstack/latest/..., openstack/content/0000) and
 * `opennebula` (label `CONTEXT`: context.sh). Pure: no
 * library, no file access; cloudinit_guest.c fills the input from a parsed
 * guest, isofs.h writes the files into an ISO 9660 image. */
#ifndef CLOUDINIT_H
#define CLOUDINIT_H

#include "lv.h"

#define CI_MAX_NETS 32 /* net0..net31, as Proxmox */

/* Proxmox caps the four files together at 3 MiB (they go on a 4 MiB volume). */
#define CI_MAX_TOTAL (3 * 1024 * 1024)

/* citype. DEFAULT is Proxmox's choice: configdrive2 for a Windows ostype,
 * else nocloud. */
enum ci_format {
	CI_FORMAT_DEFAULT,
	CI_FORMAT_NOCLOUD,
	CI_FORMAT_CONFIGDRIVE2,
	CI_FORMAT_OPENNEBULA,
};

/* One netN that has an ipconfigN (Proxmox leaves the others out). Strings are
 * as written in the config; NULL when absent. */
struct ci_net {
	int index;       /* N */
	const char *mac; /* netN's MAC address (any case) */
	const char *ip;  /* ip=: "A.B.C.D/P" or "dhcp" */
	const char *gw;  /* gw= */
	const char *ip6; /* ip6=: "ADDR/P", "dhcp" or "auto" */
	const char *gw6; /* gw6= */
	const char *mtu; /* netN's mtu=, or NULL (opennebula writes it) */
};

/* A cicustom= snippet, already read: it replaces the part Proxmox would make. */
struct ci_blob {
	const char *data; /* NULL: not given */
	size_t len;
};

/* What Cloudinit.pm reads from a guest's config. All pointers are borrowed. */
struct ci_input {
	const char *name; /* name:, or NULL (Proxmox then says "VM<vmid>") */
	int vmid;
	const char *ostype; /* for the default citype; may be NULL */
	enum ci_format format;
	const char *user;         /* ciuser */
	const char *password;     /* cipassword as stored (Proxmox stores a crypt(3) hash) */
	const char *sshkeys;      /* sshkeys, URL-decoded: keys separated by newlines */
	const char *nameserver;   /* blank-separated, or NULL: then the host's */
	const char *searchdomain; /* blank-separated, or NULL: then the host's */
	bool no_upgrade;          /* ciupgrade: 0 (Proxmox's default is 1) */
	/* The host's /etc/resolv.conf as Proxmox reads it (cloudinit_resolv_conf()),
	 * used where the guest gives no nameserver or searchdomain. */
	const char *host_search;
	const char *host_nameservers[3]; /* NULL-terminated when fewer */
	struct ci_net nets[CI_MAX_NETS];
	size_t n_nets;
	struct ci_blob custom_user, custom_network, custom_meta, custom_vendor;
};

/* One file of the drive: a path relative to the image's root ("user-data",
 * "openstack/latest/user_data") and its bytes (NUL-terminated for convenience;
 * len does not count the NUL). */
struct ci_file {
	const char *path; /* static */
	char *data;
	size_t len;
};

/* The drive's files, in the order Proxmox lists them, and its volume label. */
struct ci_drive {
	const char *volume_id; /* "cidata", "config-2" or "CONTEXT" */
	struct ci_file files[4];
	size_t n_files;
};

/* Makes the drive's files. Fails (LV_EXIT_USAGE) where Proxmox dies: an ip= that
 * is not a CIDR, a net without a MAC, more than CI_MAX_TOTAL bytes. opennebula
 * ignores cicustom, as Proxmox does. ret is
 * untouched on failure; free it with cloudinit_drive_free(). */
int cloudinit_make(const struct ci_input *in, struct ci_drive *ret, struct lv_error *err);
void cloudinit_drive_free(struct ci_drive *d);

/* The format DEFAULT resolves to for this input. */
enum ci_format cloudinit_format(const struct ci_input *in);

/* Reads resolv.conf text as Proxmox does (PVE::INotify::read_etc_resolv_conf):
 * the last `search` or `domain` line's first domain, the first three
 * `nameserver` addresses. ret_search and ret_ns[] point into buf, a copy of text
 * that the caller frees; unset entries are NULL. */
void cloudinit_resolv_conf(const char *text, char **ret_buf, const char **ret_search,
			   const char *ret_ns[3]);

/* ---- from a parsed guest (cloudinit_guest.c) ---- */

struct lab_guest;

/* An input filled from a guest of the layout, with what it owns: the cicustom
 * snippets it read and the host's resolv.conf. */
struct ci_guest_input {
	struct ci_input in;
	char *resolv_buf;
	char *snippets[4];         /* user, network, meta, vendor */
	char mtu[CI_MAX_NETS][12]; /* netN's mtu=, as text */
};

/* The input of g (which must outlive it): *ret->in is what cloudinit_make()
 * takes. resolv_conf is the text of the host's /etc/resolv.conf, or NULL. Reads
 * the cicustom snippets (at most 1 MiB each, as Proxmox). The layout does not
 * keep citype, ciupgrade, ip6= or gw6=: the defaults apply (nocloud, upgrade,
 * no IPv6). Free *ret with cloudinit_guest_input_free(). */
int cloudinit_input_from_guest(const struct lab_guest *g, const char *resolv_conf,
			       struct ci_guest_input **ret, struct lv_error *err);
void cloudinit_guest_input_free(struct ci_guest_input *gi);
static inline void cloudinit_guest_input_freep(struct ci_guest_input **gi)
{
	cloudinit_guest_input_free(*gi);
}

#endif
