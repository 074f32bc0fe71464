/* template.h - Proxmox CT templates: a template archive extracted into a
 * folder (libarchive, in-process), that folder made into an ext4 volume
 * (mke2fs -d, nothing mounted), and Proxmox's index of templates, aplinfo.dat.
 *
 * Extraction does what Proxmox's restore_tar_archive (PVE/LXC/Create.pm) does
 * with `tar xpf - --numeric-owner --acls --xattrs --xattrs-include=user.*
 * --xattrs-include=security.capability --anchored` and an --exclude of what
 * is below ./dev/, run in the container's user namespace when it is
 * unprivileged:
 *
 *   - The compression is found from the content (gzip, bzip2, xz, zstd or
 *     none), not from the name. Only tar formats are read.
 *   - Owners are the archive's numbers (never looked up by name). For an
 *     unprivileged CT every uid, gid and ACL qualifier is shifted by
 *     uid_shift/gid_shift; an id >= id_count (which the namespace could not
 *     map) is an error naming the entry.
 *   - Every entry under ./dev/ is skipped, for privileged CTs too: Proxmox
 *     excludes what is below ./dev/ always (the container's /dev is made at start). ./dev
 *     itself is kept. For an unprivileged CT, device nodes elsewhere are
 *     skipped as well (tar in a user namespace cannot make them either);
 *     a privileged CT gets them. Both count in skipped_devices.
 *   - Modes are kept, setuid and setgid bits included (for an unprivileged CT
 *     they belong to shifted ids). Extended attributes: user.* and
 *     security.capability only, as Proxmox's tar flags say.
 *
 * Hostile archives never write outside dest_dir. Each refusal is an error
 * `template ARCHIVE: entry 'NAME': WHY`, and extraction stops there (what
 * was written so far stays in dest_dir, for the caller to remove):
 *
 *   - an absolute name (/etc/x) or hardlink target: refused. GNU tar would
 *     strip the '/', but no template is made that way.
 *   - a '..' component in a name or hardlink target: refused (GNU tar and
 *     libarchive's ARCHIVE_EXTRACT_SECURE_NODOTDOT both refuse).
 *   - a name, or a hardlink target, that passes through a symlink (evil ->
 *     /tmp/x, then evil/file): refused by ARCHIVE_EXTRACT_SECURE_SYMLINKS.
 *     Symlinks themselves are made as they are, absolute targets included
 *     (/etc/localtime -> /usr/share/zoneinfo/...): they are read inside the
 *     container, and extraction never follows one.
 *   - an entry named like an existing symlink replaces the symlink (libarchive
 *     unlinks it), so it never writes through it.
 *   - a hardlink to a symlink links the symlink itself; data for it is not
 *     written through the symlink.
 *
 * Names are made absolute under realpath(dest_dir) before libarchive sees
 * them, because the alternative (chdir) is process-wide: so the absolute-path
 * check is done here, not by ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, which
 * would refuse the prefixed names. */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <sys/types.h>

#include "lv.h"

/* Proxmox's one mapping for unprivileged CTs: container ids 0..65535 are host
 * ids 100000..165535 ('b:0:100000:65536'). */
#define TMPL_SHIFT    100000
#define TMPL_ID_COUNT 65536

struct tmpl_opts {
	bool unprivileged;
	uid_t uid_shift;
	gid_t gid_shift;
	uint32_t id_count;
};

struct tmpl_stats {
	uint64_t entries;         /* entries written (files, folders, links, nodes) */
	uint64_t bytes;           /* bytes of file data written */
	uint64_t skipped_devices; /* device nodes not made */
	uint64_t skipped_dev;     /* other entries under ./dev/ not made */
};

/* Extracts archive into dest_dir, an existing empty folder. stats may be NULL;
 * it is filled as far as extraction got, also on failure. */
int tmpl_extract(const char *archive, const char *dest_dir, const struct tmpl_opts *opts,
		 struct tmpl_stats *stats, struct lv_error *err);

/* The content of member ("etc/vzdump/pct.conf", with or without "./") of a tar
 * archive (compressed as templates are), at most max bytes; NUL-terminated. */
int tmpl_read_member(const char *archive, const char *member, size_t max, char **ret,
		     struct lv_error *err);

/* Makes an ext4 filesystem on target holding the tree (mke2fs -t ext4 -d TREE,
 * with Proxmox's -O mmp), its root folder owned by root_uid:root_gid (the
 * shifted root for an unprivileged CT). Owners and modes come from the tree.
 * target is a regular file, created or truncated to size_bytes, or a block
 * device (size_bytes 0: all of it). Nothing is mounted. On failure a file this
 * call created is removed. */
int rootfs_make_ext4(const char *tree, const char *target, uint64_t size_bytes, uid_t root_uid,
		     gid_t root_gid, struct lv_error *err);

/* One record of Proxmox's aplinfo.dat (`pveam available`): stanzas of
 * `Key: value` lines separated by blank lines, keys in any case, a value
 * continued on lines that start with a space or tab. Fields not read here are
 * ignored. Description's first line is the headline; its continuation lines,
 * joined by single spaces, are the description. */
struct aplinfo {
	char *package, *version, *type, *os, *section, *location, *infopage;
	char *architecture, *maintainer, *headline, *description;
	char *md5sum, *sha512sum; /* NULL when absent */
	char *template;           /* the file's name: Location's basename */
	int line;                 /* where the record starts */
};

/* Parses text (len bytes; file names it in messages). Every mistake is one
 * diagnostic `file:line: what is wrong`; returns 0 and the records
 * (Proxmox's pve-web-news record is left out), or -1 with *ret untouched. */
int aplinfo_parse(const char *text, size_t len, const char *file, struct aplinfo **ret, size_t *n,
		  struct lv_diag *diags);
/* The record of the template file (e.g. debian-12-standard_12.7-1_amd64.tar.zst), or NULL. */
const struct aplinfo *aplinfo_find(const struct aplinfo *list, size_t n, const char *template);
void aplinfo_free(struct aplinfo *list, size_t n);

#endif
