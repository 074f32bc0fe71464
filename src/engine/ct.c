/* ct.c - a container's volumes, made once by `up` as `pct create` makes them: the
 * rootfs from its ostemplate (extracted in-process, ids shifted for an unprivileged
 * container), with what Proxmox's setup writes for the container's identity
 * (hostname, hosts, resolv.conf, the network config of its OS type, root's password
 * and SSH keys), then made an ext4 volume (mke2fs -d) or kept as a folder; an
 * mpN volume starts empty. Nothing is mounted on the host. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "engine.h"
#include "host.h"
#include "storage.h"
#include "template.h"

struct ct_fill {
	const struct lab *lab;
	const struct lab_guest *g;
	const struct lab_disk *d;
	const char *archive; /* a vzdump archive the rootfs is restored from, or NULL */
};

static uid_t root_id(const struct lab_guest *g)
{
	return g->ct->unprivileged ? TMPL_SHIFT : 0;
}

/* The template an ostemplate names: a file, or a catalogue image (fetched by up). */
const char *ct_template(const struct lab *lab, const struct lab_guest *g)
{
	if (!g->ct || g->ct->template_path)
		return g->ct ? g->ct->template_path : NULL;
	const struct lab_image *im =
	    g->ct->template_image ? lab_find_image(lab, g->ct->template_image) : NULL;
	return im ? im->path : NULL;
}

/* Opens rel as the container would resolve it, below root (a folder fd): '..' and
 * absolute symlinks stay inside the tree (RESOLVE_IN_ROOT), so a template's
 * symlink (etc -> /etc) can never send a write, or a read, to the host's files. */
static int open_in(int root, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .mode = flags & O_CREAT ? mode : 0,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
}

/* The folder rel/.. of the tree, made (owned by the container's root) as needed. */
static int parent_in(int root, const char *rel, uid_t owner, struct lv_error *err)
{
	_cleanup_free_ char *dir = xstrdup(rel);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return open_in(root, ".", O_PATH | O_DIRECTORY, 0);
	*slash = '\0';
	int fd = open_in(root, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd
			       : lv_fail_errno(err, errno, "cannot open '%s' in the rootfs", dir);
	_cleanup_close_ int up = parent_in(root, dir, owner, err);
	const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	if (up < 0)
		return -1;
	if ((mkdirat(up, name, 0755) < 0 && errno != EEXIST) ||
	    fchownat(up, name, owner, owner, AT_SYMLINK_NOFOLLOW) < 0)
		return lv_fail_errno(err, errno, "cannot create '%s' in the rootfs", dir);
	fd = open_in(root, dir, O_PATH | O_DIRECTORY, 0);
	return fd >= 0 ? fd : lv_fail_errno(err, errno, "cannot open '%s' in the rootfs", dir);
}

/* Writes text to rel in the tree (its folders made as needed), owned by owner. */
static int put_file(int root, const char *rel, const char *text, mode_t mode, uid_t owner,
		    struct lv_error *err)
{
	_cleanup_close_ int dir = parent_in(root, rel, owner, err);
	if (dir < 0)
		return -1;
	int fd = open_in(root, rel, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot write '%s' in the rootfs", rel);
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n && fchown(fd, owner, owner) == 0 &&
		  fchmod(fd, mode) == 0;
	int saved = errno;
	if (close(fd) < 0 || !ok)
		return lv_fail_errno(err, ok ? errno : saved, "cannot write '%s' in the rootfs",
				     rel);
	return 0;
}

static char *hosts_file(const struct lab_guest *g)
{
	const char *ip = NULL;
	for (size_t i = 0; i < g->n_nets && !ip; i++)
		if (g->nets[i].ip && strchr(g->nets[i].ip, '/'))
			ip = g->nets[i].ip;
	_cleanup_free_ char *addr = ip ? xstrndup(ip, strcspn(ip, "/")) : xstrdup("127.0.1.1");
	return xasprintf("127.0.0.1 localhost.localdomain localhost\n"
			 "::1 localhost ip6-localhost ip6-loopback\n"
			 "%s %s\n",
			 addr, g->name);
}

static char *resolv_file(const struct lab_guest *g)
{
	char *text = xstrdup("# written by labvirt (nameserver/searchdomain of the config)\n");
	if (g->ci.searchdomain) {
		char *t = xasprintf("%ssearch %s\n", text, g->ci.searchdomain);
		free(text), text = t;
	}
	_cleanup_free_ char *ns = g->ci.nameserver ? xstrdup(g->ci.nameserver) : NULL;
	char *save = NULL;
	for (char *w = ns ? strtok_r(ns, " \t", &save) : NULL; w;
	     w = strtok_r(NULL, " \t", &save)) {
		char *t = xasprintf("%snameserver %s\n", text, w);
		free(text), text = t;
	}
	return text;
}

/* Debian, Ubuntu, Devuan: ifupdown's /etc/network/interfaces; Alpine the same
 * format (busybox ifupdown), as Proxmox's setup writes for them. */
static char *interfaces_file(const struct lab_guest *g)
{
	char *text = xstrdup("auto lo\niface lo inet loopback\n");
	for (size_t i = 0; i < g->n_nets; i++) {
		const struct lab_net *n = &g->nets[i];
		char *t = NULL;
		if (n->ip && streq(n->ip, "dhcp"))
			t = xasprintf("%s\nauto %s\niface %s inet dhcp\n", text, n->name, n->name);
		else if (n->ip && strchr(n->ip, '/'))
			t = xasprintf("%s\nauto %s\niface %s inet static\n\taddress %s\n%s%s%s",
				      text, n->name, n->name, n->ip, n->gw ? "\tgateway " : "",
				      n->gw ? n->gw : "", n->gw ? "\n" : "");
		if (t)
			free(text), text = t;
		if (n->ip6 && (streq(n->ip6, "dhcp") || streq(n->ip6, "auto")))
			t = xasprintf("%s\niface %s inet6 %s\n", text, n->name, n->ip6);
		else if (n->ip6 && strchr(n->ip6, '/'))
			t = xasprintf("%s\niface %s inet6 static\n\taddress %s\n%s%s%s", text,
				      n->name, n->ip6, n->gw6 ? "\tgateway " : "",
				      n->gw6 ? n->gw6 : "", n->gw6 ? "\n" : "");
		else
			t = NULL;
		if (t)
			free(text), text = t;
	}
	return text;
}

/* root's password in /etc/shadow, hashed with yescrypt (libxcrypt), as
 * `pct create --password` sets it. */
static int set_password(int root, const struct lab_guest *g, struct lv_error *err)
{
	int fd = open_in(root, "etc/shadow", O_RDONLY, 0);
	struct stat st;
	_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0 && !f)
			close(fd);
		return lv_fail_errno(err, e,
				     "cannot set root's password: etc/shadow of the rootfs");
	}
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		return lv_fail_errno(err, errno, "cannot make a password salt");
	struct crypt_data cd = {0};
	const char *hash = crypt_r(g->ct->password, salt, &cd);
	if (!hash || hash[0] == '*')
		return lv_fail(err, LV_EXIT_FAIL, "cannot hash root's password");
	char *out = xstrdup("");
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		const char *rest = startswith(line, "root:") ? strchr(line + 5, ':') : NULL;
		char *t =
		    rest ? xasprintf("%sroot:%s%s", out, hash, rest) : xasprintf("%s%s", out, line);
		free(out), out = t;
	}
	explicit_bzero(&cd, sizeof(cd));
	int rc = put_file(root, "etc/shadow", out, st.st_mode & 07777, st.st_uid, err);
	explicit_bzero(out, strlen(out));
	free(out);
	return rc;
}

/* What Proxmox's setup (PVE::LXC::Setup) writes for the container's identity,
 * for the OS types it manages; unmanaged (and a template without /etc) gets none. */
static int ct_setup(const char *tree, const struct lab_guest *g, struct lv_error *err)
{
	const char *os = g->ostype ? g->ostype : "unmanaged";
	uid_t owner = root_id(g);
	_cleanup_close_ int root = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", tree);
	_cleanup_close_ int etc = open_in(root, "etc", O_PATH | O_DIRECTORY, 0);
	if (streq(os, "unmanaged") || etc < 0)
		return 0;
	_cleanup_free_ char *hostname = xasprintf("%s\n", g->name);
	_cleanup_free_ char *hosts = hosts_file(g);
	_cleanup_free_ char *resolv = resolv_file(g);
	if (put_file(root, "etc/hostname", hostname, 0644, owner, err) < 0 ||
	    put_file(root, "etc/hosts", hosts, 0644, owner, err) < 0 ||
	    ((g->ci.nameserver || g->ci.searchdomain) &&
	     put_file(root, "etc/resolv.conf", resolv, 0644, owner, err) < 0))
		return -1;
	bool ifupdown = streq(os, "debian") || streq(os, "ubuntu") || streq(os, "devuan") ||
			streq(os, "alpine");
	_cleanup_free_ char *ifaces = interfaces_file(g);
	if (ifupdown && put_file(root, "etc/network/interfaces", ifaces, 0644, owner, err) < 0)
		return -1;
	if (g->ct->ssh_keys &&
	    put_file(root, "root/.ssh/authorized_keys", g->ct->ssh_keys, 0600, owner, err) < 0)
		return -1;
	if (g->ct->password && set_password(root, g, err) < 0)
		return -1;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* A restored rootfs keeps nothing of vzdump's own: its etc/vzdump/pct.conf and pct.fw
 * (the config, which went to lxc/VMID.conf), as pct restore removes them. */
static int drop_vzdump_files(const char *tree, struct lv_error *err)
{
	_cleanup_close_ int root = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dir =
	    root < 0 ? -1 : open_in(root, "etc/vzdump", O_PATH | O_DIRECTORY, 0);
	if (dir < 0)
		return 0;
	static const char *const names[] = {"pct.conf", "pct.fw"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (unlinkat(dir, names[i], 0) < 0 && errno != ENOENT)
			return lv_fail_errno(err, errno, "cannot remove etc/vzdump/%s", names[i]);
	if (unlinkat(root, "etc/vzdump", AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    errno != ENOTEMPTY && errno != ENOTDIR)
		return lv_fail_errno(err, errno, "cannot remove etc/vzdump");
	return 0;
}

/* Fills a new volume at path (a file, an LV or a folder, under its temporary name). */
static int ct_fill(const char *path, void *opaque, struct lv_error *err)
{
	const struct ct_fill *f = opaque;
	const struct lab_guest *g = f->g;
	const struct lab_disk *d = f->d;
	const char *tmpl = !streq(d->key, "rootfs") ? NULL
			   : f->archive             ? f->archive
						    : ct_template(f->lab, g);
	uid_t root = root_id(g);
	struct stat st;
	bool folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_free_ char *tree =
	    folder ? xstrdup(path) : xasprintf("%s/.labvirt-ct-tree-XXXXXX", dirname(copy));
	if (strncmp(path, "/dev/", 5) == 0) { /* an LV: the tree beside labvirt's state */
		free(tree);
		tree = xstrdup("/var/tmp/labvirt-ct-tree-XXXXXX");
	}
	if (!folder && !mkdtemp(tree))
		return lv_fail_errno(err, errno, "cannot create a folder beside '%s'", path);
	struct tmpl_opts o = {g->ct->unprivileged, TMPL_SHIFT, TMPL_SHIFT, TMPL_ID_COUNT};
	struct tmpl_stats stats = {0};
	int rc = chown(tree, root, root) < 0 || chmod(tree, 0755) < 0
		     ? lv_fail_errno(err, errno, "cannot set the owner of '%s'", tree)
		     : 0;
	if (rc == 0 && tmpl)
		rc = tmpl_extract(tmpl, tree, &o, &stats, err);
	if (rc == 0 && tmpl && !f->archive)
		rc = ct_setup(tree, g, err);
	if (rc == 0 && f->archive)
		rc = drop_vzdump_files(tree, err);
	if (rc == 0 && !folder)
		rc = rootfs_make_ext4(tree, path, strncmp(path, "/dev/", 5) == 0 ? 0 : d->size,
				      root, root, err);
	if (!folder)
		nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (rc < 0)
		return lv_prefix(err, "%s/%s", g->name, d->key);
	return 0;
}

void ct_volume_fill(struct storage_vol *v, struct ct_fill **holder, const struct lab *lab,
		    const struct lab_guest *g, const struct lab_disk *d)
{
	if (g->kind != KIND_CT || d->bus != BUS_MP || d->bind)
		return;
	*holder = xmalloc(sizeof(**holder));
	**holder = (struct ct_fill){lab, g, d, NULL};
	v->fill = ct_fill;
	v->fill_opaque = *holder;
}

void ct_volume_fill_restore(struct storage_vol *v, struct ct_fill **holder, const struct lab *lab,
			    const struct lab_guest *g, const struct lab_disk *d,
			    const char *archive)
{
	ct_volume_fill(v, holder, lab, g, d);
	if (*holder)
		(*holder)->archive = archive;
}

/* Before an unprivileged container starts: each of its ext4 volumes mounted where
 * its XML says (lab_ct_mount_dir). */
int ct_mount_volumes(const struct lab *lab, const struct lab_guest *g, struct lv_error *err)
{
	for (size_t i = 0; g->kind == KIND_CT && i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		_cleanup_free_ char *dir = lab_ct_mount_dir(lab, g, d);
		_cleanup_free_ char *path = dir ? lab_disk_path(lab, g, d) : NULL;
		if (dir && (!path || host_mount_volume(path, dir, d->readonly, err) < 0))
			return path ? lv_prefix(err, "%s/%s", g->name, d->key)
				    : lv_fail(err, LV_EXIT_FAIL, "%s/%s: no volume path", g->name,
					      d->key);
	}
	return 0;
}

/* Once the container is off (down, destroy): those mounts undone. */
int ct_unmount_volumes(const struct lab *lab, const struct lab_guest *g, struct lv_error *err)
{
	int rc = 0;
	for (size_t i = g->n_disks; g->kind == KIND_CT && i-- > 0;) {
		_cleanup_free_ char *dir = lab_ct_mount_dir(lab, g, &g->disks[i]);
		if (dir && host_unmount_volume(dir, err) < 0)
			rc = -1;
	}
	return rc;
}
