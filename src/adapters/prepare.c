/* prepare.c - first-boot preparation with libguestfs; the only file that
 * includes guestfs.h. All new disks of one `up` go into one appliance launch.
 * libguestfs's own printing is silenced and its messages carried back.
 *
 * What is written, by the OS that inspection finds:
 * - Alpine: /etc/hostname, /etc/hosts, /etc/network/interfaces (ifupdown),
 *   /etc/resolv.conf, the user (passwd, group, shadow, authorized_keys);
 * - Ubuntu and Debian: cloud-init's NoCloud seed in /var/lib/cloud/seed/nocloud/
 *   (meta-data, user-data, network-config); Alpine gets it too when it has
 *   cloud-init, so that cloud-init agrees with the files above.
 * A disk done carries the attribute user.labvirt.prepared = "OS VERSION". */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <guestfs.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "prepare.h"

#define MARK_XATTR "user.labvirt.prepared"

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
static void strv_freep(char ***v)
{
	strv_free(*v);
}
#define _cleanup_strv_ _cleanup_(strv_freep)

static int gfail(guestfs_h *g, struct lv_error *err, const char *what)
{
	const char *why = guestfs_last_error(g);
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", what, why ? why : "failed");
}

bool prepare_done(const char *path)
{
	char buf[64];
	return getxattr(path, MARK_XATTR, buf, sizeof(buf)) > 0;
}

/* ---- text ---- */

static char *mem_text(FILE *f, char **buf)
{
	fclose(f);
	return *buf;
}

static void netmask_of(int prefix, char ret[16])
{
	uint32_t m = prefix ? ~0u << (32 - prefix) : 0;
	snprintf(ret, 16, "%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
}

/* "10.0.0.5/24" into address and netmask. */
static void split_cidr(const char *cidr, char addr[16], char mask[16])
{
	const char *slash = strchr(cidr, '/');
	snprintf(addr, 16, "%.*s", (int)(slash - cidr), cidr);
	netmask_of(atoi(slash + 1), mask);
}

/* The guest's position of netN: ethN counts the guest's nets in index order. */
static int eth_of(const struct lab_guest *g, int index)
{
	for (size_t i = 0; i < g->n_nets; i++)
		if (g->nets[i].index == index)
			return (int)i;
	return index;
}

static const struct lab_net *net_of(const struct lab_guest *g, int index)
{
	for (size_t i = 0; i < g->n_nets; i++)
		if (g->nets[i].index == index)
			return &g->nets[i];
	return NULL;
}

static char *alpine_interfaces(const struct lab_guest *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fprintf(f, "# written by labvirt: ipconfigN of %s\nauto lo\niface lo inet loopback\n",
		g->name);
	for (size_t i = 0; i < g->ci.n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &g->ci.ipconfig[i];
		int eth = eth_of(g, ic->index);
		if (streq(ic->ip, "dhcp")) {
			fprintf(f, "\nauto eth%d\niface eth%d inet dhcp\n", eth, eth);
			continue;
		}
		char addr[16], mask[16];
		split_cidr(ic->ip, addr, mask);
		fprintf(f, "\nauto eth%d\niface eth%d inet static\n\taddress %s\n\tnetmask %s\n",
			eth, eth, addr, mask);
		if (ic->gw)
			fprintf(f, "\tgateway %s\n", ic->gw);
	}
	return mem_text(f, &buf);
}

static char *resolv_conf(const struct lab_guest *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (g->ci.searchdomain)
		fprintf(f, "search %s\n", g->ci.searchdomain);
	_cleanup_free_ char *ns = xstrdup(g->ci.nameserver ? g->ci.nameserver : "");
	char *save = NULL;
	for (char *w = strtok_r(ns, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		fprintf(f, "nameserver %s\n", w);
	return mem_text(f, &buf);
}

static void yaml_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		*s == '\'' ? fputs("''", f) : fputc(*s, f);
	fputc('\'', f);
}

static void yaml_words(FILE *f, const char *indent, const char *words)
{
	_cleanup_free_ char *copy = xstrdup(words);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		fprintf(f, "%s- ", indent);
		yaml_quoted(f, w);
		fputc('\n', f);
	}
}

static char *seed_meta_data(const struct lab *lab, const struct lab_guest *g)
{
	return xasprintf("instance-id: labvirt-%s-%s\nlocal-hostname: %s\n", lab->name, g->name,
			 g->name);
}

/* As Proxmox generates it for the nocloud type. */
static char *seed_user_data(const struct lab_guest *g, const char *hash)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fprintf(f, "#cloud-config\nhostname: %s\nmanage_etc_hosts: true\nfqdn: %s", g->name,
		g->name);
	if (g->ci.searchdomain)
		fprintf(f, ".%.*s", (int)strcspn(g->ci.searchdomain, " \t"), g->ci.searchdomain);
	fputc('\n', f);
	if (g->ci.user)
		fprintf(f, "user: %s\n", g->ci.user);
	if (hash) {
		fputs("password: ", f);
		yaml_quoted(f, hash);
		fputs("\nchpasswd:\n  expire: false\n", f);
	}
	if (g->ci.sshkeys) {
		fputs("ssh_authorized_keys:\n", f);
		_cleanup_free_ char *keys = xstrdup(g->ci.sshkeys);
		char *save = NULL;
		for (char *k = strtok_r(keys, "\n", &save); k; k = strtok_r(NULL, "\n", &save)) {
			fputs("  - ", f);
			yaml_quoted(f, k);
			fputc('\n', f);
		}
	}
	fputs("users:\n  - default\n", f);
	return mem_text(f, &buf);
}

static char *seed_network_config(const struct lab_guest *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fputs("version: 1\nconfig:\n", f);
	for (size_t i = 0; i < g->ci.n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &g->ci.ipconfig[i];
		const struct lab_net *n = net_of(g, ic->index);
		fprintf(f, "  - type: physical\n    name: eth%d\n    mac_address: '%s'\n",
			eth_of(g, ic->index), n ? n->mac : "");
		fputs("    subnets:\n", f);
		if (streq(ic->ip, "dhcp")) {
			fputs("      - type: dhcp4\n", f);
			continue;
		}
		char addr[16], mask[16];
		split_cidr(ic->ip, addr, mask);
		fprintf(f, "      - type: static\n        address: '%s'\n        netmask: '%s'\n",
			addr, mask);
		if (ic->gw)
			fprintf(f, "        gateway: '%s'\n", ic->gw);
	}
	if (g->ci.nameserver || g->ci.searchdomain) {
		fputs("  - type: nameserver\n", f);
		if (g->ci.nameserver) {
			fputs("    address:\n", f);
			yaml_words(f, "      ", g->ci.nameserver);
		}
		if (g->ci.searchdomain) {
			fputs("    search:\n", f);
			yaml_words(f, "      ", g->ci.searchdomain);
		}
	}
	return mem_text(f, &buf);
}

/* cipassword is stored only hashed: a crypt(3) hash given is kept, plain
 * text becomes SHA-512 crypt. */
static int password_hash(const char *pw, char **ret, struct lv_error *err)
{
	if (!pw) {
		*ret = NULL;
		return 0;
	}
	if (pw[0] == '$') {
		*ret = xstrdup(pw);
		return 0;
	}
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)))
		return lv_fail_errno(err, errno, "cannot make a password salt");
	struct crypt_data cd = {0};
	const char *h = crypt_r(pw, salt, &cd);
	if (!h || h[0] == '*')
		return lv_fail_errno(err, errno, "cannot hash the password");
	*ret = xstrdup(h);
	return 0;
}

/* ---- writing into the guest ---- */

struct job {
	guestfs_h *h;
	struct prepare_disk *d;
	const struct lab_guest *g;
	char *hash; /* cipassword, hashed */
	struct lv_error *err;
};

static int put(struct job *j, const char *path, const char *text, int mode)
{
	if (guestfs_write(j->h, path, text, strlen(text)) < 0 ||
	    guestfs_chmod(j->h, mode, path) < 0) {
		_cleanup_free_ char *what = xasprintf("cannot write %s", path);
		return gfail(j->h, j->err, what);
	}
	return 0;
}

static int put_free(struct job *j, const char *path, char *text, int mode)
{
	int rc = put(j, path, text, mode);
	free(text);
	return rc;
}

static int mkdir_p(struct job *j, const char *path, int mode)
{
	if (guestfs_is_dir(j->h, path) > 0)
		return 0;
	if (guestfs_mkdir_mode(j->h, path, mode) < 0 && guestfs_mkdir_p(j->h, path) < 0) {
		_cleanup_free_ char *what = xasprintf("cannot make %s", path);
		return gfail(j->h, j->err, what);
	}
	return 0;
}

static char *read_text(struct job *j, const char *path)
{
	size_t n = 0;
	char *s = guestfs_read_file(j->h, path, &n);
	if (!s)
		return xstrdup("");
	char *t = xstrndup(s, n);
	free(s);
	return t;
}

/* The line of /etc/passwd (or shadow, group) for name, or NULL. */
static const char *find_entry(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
		if (strncmp(l, name, n) == 0 && l[n] == ':')
			return l;
	return NULL;
}

static int next_id(const char *passwd)
{
	int id = 1000;
	for (const char *l = passwd; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
		const char *c = strchr(l, ':');
		c = c ? strchr(c + 1, ':') : NULL;
		int v = c ? atoi(c + 1) : 0;
		if (v >= id && v < 60000)
			id = v + 1;
	}
	return id;
}

static char *with_line(const char *text, const char *line)
{
	size_t n = strlen(text);
	return xasprintf("%s%s%s\n", text, n && text[n - 1] != '\n' ? "\n" : "", line);
}

/* Sets the second field of name's line in /etc/shadow (adding the line). */
static char *shadow_set(const char *text, const char *name, const char *hash)
{
	const char *l = find_entry(text, name);
	if (!l) {
		_cleanup_free_ char *line = xasprintf("%s:%s:19000:0:99999:7:::", name, hash);
		return with_line(text, line);
	}
	const char *f2 = l + strlen(name) + 1, *rest = strchr(f2, ':');
	if (!rest)
		rest = f2 + strcspn(f2, "\n");
	return xasprintf("%.*s%s%s", (int)(f2 - text), text, hash, rest);
}

static int alpine_user(struct job *j, const char *home)
{
	const struct lab_cloudinit *ci = &j->g->ci;
	_cleanup_free_ char *passwd = read_text(j, "/etc/passwd");
	_cleanup_free_ char *group = read_text(j, "/etc/group");
	_cleanup_free_ char *shadow = read_text(j, "/etc/shadow");
	const char *user = ci->user ? ci->user : "root";
	int id = 0;
	if (ci->user && !find_entry(passwd, ci->user)) {
		id = next_id(passwd);
		_cleanup_free_ char *pl = xasprintf("%s:x:%d:%d::%s:/bin/sh", user, id, id, home);
		_cleanup_free_ char *gl = xasprintf("%s:x:%d:", user, id);
		if (put_free(j, "/etc/passwd", with_line(passwd, pl), 0644) < 0 ||
		    put_free(j, "/etc/group", with_line(group, gl), 0644) < 0 ||
		    mkdir_p(j, home, 0755) < 0 || guestfs_chown(j->h, id, id, home) < 0)
			return -1;
	}
	if (ci->user || j->hash) {
		_cleanup_free_ char *sh = shadow_set(shadow, user, j->hash ? j->hash : "!");
		if (put(j, "/etc/shadow", sh, 0640) < 0)
			return -1;
	}
	if (!ci->sshkeys)
		return 0;
	_cleanup_free_ char *ssh = xasprintf("%s/.ssh", home);
	_cleanup_free_ char *keys = xasprintf("%s/authorized_keys", ssh);
	_cleanup_free_ char *text = xasprintf("%s\n", ci->sshkeys);
	if (mkdir_p(j, ssh, 0700) < 0 || put(j, keys, text, 0600) < 0)
		return -1;
	if (id && (guestfs_chown(j->h, id, id, ssh) < 0 || guestfs_chown(j->h, id, id, keys) < 0))
		return gfail(j->h, j->err, "cannot give the keys to the user");
	return 0;
}

static int write_alpine(struct job *j)
{
	const struct lab_guest *g = j->g;
	_cleanup_free_ char *hostname = xasprintf("%s\n", g->name);
	_cleanup_free_ char *hosts =
	    xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", g->name);
	_cleanup_free_ char *home =
	    g->ci.user ? xasprintf("/home/%s", g->ci.user) : xstrdup("/root");
	if (put(j, "/etc/hostname", hostname, 0644) < 0 || put(j, "/etc/hosts", hosts, 0644) < 0)
		return -1;
	if (g->ci.n_ipconfig &&
	    (mkdir_p(j, "/etc/network", 0755) < 0 ||
	     put_free(j, "/etc/network/interfaces", alpine_interfaces(g), 0644) < 0))
		return -1;
	if ((g->ci.nameserver || g->ci.searchdomain) &&
	    put_free(j, "/etc/resolv.conf", resolv_conf(g), 0644) < 0)
		return -1;
	return alpine_user(j, home);
}

static int put_snippet(struct job *j, const char *dst, const char *src)
{
	size_t n = 0;
	_cleanup_free_ char *text = lv_read_file(src, &n);
	if (!text)
		return lv_fail_errno(j->err, errno, "cicustom: cannot read '%s'", src);
	return put(j, dst, text, 0600);
}

/* cloud-init's NoCloud seed; cicustom snippets replace the generated files. */
static int write_seed(struct job *j)
{
	const struct lab_guest *g = j->g;
	const struct lab_cloudinit *ci = &g->ci;
	const char *dir = "/var/lib/cloud/seed/nocloud";
	if (mkdir_p(j, "/var/lib/cloud", 0755) < 0 || mkdir_p(j, "/var/lib/cloud/seed", 0755) < 0 ||
	    mkdir_p(j, dir, 0700) < 0)
		return -1;
	int rc = ci->custom_meta
		     ? put_snippet(j, "/var/lib/cloud/seed/nocloud/meta-data", ci->custom_meta)
		     : put_free(j, "/var/lib/cloud/seed/nocloud/meta-data",
				seed_meta_data(j->d->lab, g), 0600);
	if (rc == 0)
		rc = ci->custom_user
			 ? put_snippet(j, "/var/lib/cloud/seed/nocloud/user-data", ci->custom_user)
			 : put_free(j, "/var/lib/cloud/seed/nocloud/user-data",
				    seed_user_data(g, j->hash), 0600);
	if (rc == 0 && (ci->custom_network || ci->n_ipconfig))
		rc = ci->custom_network
			 ? put_snippet(j, "/var/lib/cloud/seed/nocloud/network-config",
				       ci->custom_network)
			 : put_free(j, "/var/lib/cloud/seed/nocloud/network-config",
				    seed_network_config(g), 0600);
	if (rc == 0 && ci->custom_vendor)
		rc = put_snippet(j, "/var/lib/cloud/seed/nocloud/vendor-data", ci->custom_vendor);
	return rc;
}

static int write_guest(struct job *j, const char *distro)
{
	bool cloud_init = guestfs_is_file(j->h, "/etc/cloud/cloud.cfg") > 0;
	if (streq(distro, "alpinelinux")) {
		if (write_alpine(j) < 0)
			return -1;
		return cloud_init ? write_seed(j) : 0;
	}
	if (!cloud_init)
		return lv_fail(j->err, LV_EXIT_FAIL,
			       "%s has no cloud-init (/etc/cloud/cloud.cfg): labvirt prepares "
			       "Ubuntu and Debian through cloud-init's NoCloud seed",
			       j->d->os);
	return write_seed(j);
}

/* ---- what the appliance leaves when labvirt dies ----
 *
 * Killed while the appliance runs, labvirt cannot close the handle. Its QEMU
 * does not outlive labvirt for long (libguestfs's recovery process, which
 * polls once a second, kills it), but libguestfs's two temporary directories
 * stay: the socket directory (for root always /tmp/libguestfsXXXXXX, with
 * guestfsd.sock in it) and its temporary directory. So a watcher process,
 * forked before the launch, reads a pipe that only labvirt writes: "S SOCKDIR
 * PID" once the appliance runs, "done" once the handle is closed. If the pipe
 * ends without "done" (labvirt, and the recovery process that inherited it,
 * are gone), the watcher kills that QEMU if /proc/PID is still it, and removes
 * both directories. The temporary directory is made inside one of labvirt's
 * own (TMPDIR/labvirt-guestfs.XXXXXX), whose name is known before the launch;
 * the socket directory's only once the launch returns: killed in the middle
 * of the launch itself, that one directory stays. */

struct watch {
	char base[4096]; /* libguestfs's tmpdir, made by labvirt */
	int fd;          /* write end; -1: no watcher */
	pid_t pid;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	if (dir[0] == '/')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* /proc/PID's command line, its arguments joined by blanks; false if none. */
static bool read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	return true;
}

/* Whether /proc/PID's command line names SOCKDIR (the appliance's QEMU). */
static bool is_appliance(pid_t pid, const char *sockdir)
{
	char buf[16384];
	return read_cmdline(pid, buf, sizeof(buf)) && strstr(buf, sockdir) != NULL;
}

static _Noreturn void watcher(int fd, const char *base)
{
	signal(SIGINT, SIG_IGN); /* a ^C to labvirt's group: it cleans after */
	signal(SIGHUP, SIG_IGN);
	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	int null = open("/dev/null", O_RDWR);
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);  /* not holding labvirt's output open */
	close_range(4, ~0U, 0); /* nor its lock or connection */
	char msg[8192];
	size_t len = 0;
	ssize_t n;
	msg[0] = '\0';
	while (len < sizeof(msg) - 1 && ((n = read(fd, msg + len, sizeof(msg) - 1 - len)) > 0 ||
					 (n < 0 && errno == EINTR))) {
		len += n > 0 ? (size_t)n : 0;
		msg[len] = '\0';
		if (strstr(msg, "done\n"))
			_exit(0); /* labvirt closed the handle itself */
	}
	char *s = strstr(msg, "S ");
	char sockdir[4096] = "";
	int pid = 0;
	if (s && sscanf(s, "S %4095s %d", sockdir, &pid) == 2 && strncmp(sockdir, "/", 1) == 0 &&
	    strstr(sockdir, "/libguestfs")) {
		if (pid > 0 && is_appliance(pid, sockdir))
			kill(pid, SIGKILL);
		rm_tree(sockdir);
	}
	rm_tree(base);
	_exit(0);
}

/* Makes the tmpdir base and forks the watcher; on failure, no watcher
 * (w->fd < 0) and the preparation goes on without. */
static void watch_start(struct watch *w)
{
	const char *t = getenv("TMPDIR");
	snprintf(w->base, sizeof(w->base), "%s/labvirt-guestfs.XXXXXX",
		 t && *t == '/' ? t : "/tmp");
	w->fd = -1;
	if (!mkdtemp(w->base)) {
		w->base[0] = '\0';
		return;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fflush(NULL);
	w->pid = fork();
	if (w->pid == 0) {
		close(p[1]);
		watcher(p[0], w->base);
	}
	close(p[0]);
	if (w->pid < 0) {
		close(p[1]);
		return;
	}
	w->fd = p[1];
}

static void watch_say(struct watch *w, const char *text)
{
	if (w->fd >= 0 && write(w->fd, text, strlen(text)) < 0)
		return;
}

/* After launch: the appliance's socket directory (from its QEMU's command
 * line, which names .../guestfsd.sock) and pid. */
static void watch_appliance(struct watch *w, guestfs_h *h)
{
	int pid = guestfs_get_pid(h);
	char buf[16384];
	if (!read_cmdline(pid, buf, sizeof(buf)))
		return;
	char *end = strstr(buf, "/guestfsd.sock");
	char *start = end;
	while (start && start > buf && start[-1] != '=' && start[-1] != ' ')
		start--;
	if (!end || *start != '/')
		return;
	_cleanup_free_ char *line = xasprintf("S %.*s %d\n", (int)(end - start), start, pid);
	watch_say(w, line);
}

/* The handle is closed: its directories are gone; labvirt's base goes too. */
static void watch_end(struct watch *w)
{
	if (w->base[0])
		rmdir(w->base);
	watch_say(w, "done\n");
	if (w->fd >= 0) {
		close(w->fd);
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

/* ---- inspection ---- */

/* Mounts the root filesystem, inside the appliance, at "/". Only that one:
 * the guest's fstab may name filesystems by UUID, and clones of one image
 * share their UUIDs, so other mount points could land on another disk.
 * Everything labvirt writes is in the root filesystem (/etc, /home, /root,
 * /var/lib/cloud). */
static int mount_root(guestfs_h *h, const char *root, struct lv_error *err)
{
	if (guestfs_mount(h, root, "/") < 0)
		return gfail(h, err, "cannot mount the guest's root filesystem");
	return 0;
}

/* Which of the added drives a root filesystem is on. */
static int root_drive(guestfs_h *h, const char *root)
{
	char *dev = guestfs_part_to_dev(h, root);
	int idx = guestfs_device_index(h, dev ? dev : root);
	free(dev);
	return idx;
}

static const char *root_of(guestfs_h *h, char **roots, size_t drive)
{
	for (size_t i = 0; roots && roots[i]; i++)
		if (root_drive(h, roots[i]) == (int)drive)
			return roots[i];
	return NULL;
}

static int prepare_one(guestfs_h *h, char **roots, size_t drive, struct prepare_disk *d,
		       struct lv_error *err)
{
	const char *root = root_of(h, roots, drive);
	if (!root)
		return lv_fail(err, LV_EXIT_FAIL,
			       "libguestfs inspection found no operating system on it");
	_cleanup_free_ char *type = guestfs_inspect_get_type(h, root);
	_cleanup_free_ char *distro = guestfs_inspect_get_distro(h, root);
	int major = guestfs_inspect_get_major_version(h, root);
	int minor = guestfs_inspect_get_minor_version(h, root);
	snprintf(d->os, sizeof(d->os), "%s %d.%d", distro ? distro : "unknown", major, minor);
	if (!type || !streq(type, "linux") || !distro ||
	    !(streq(distro, "alpinelinux") || streq(distro, "ubuntu") || streq(distro, "debian")))
		return lv_fail(err, LV_EXIT_FAIL,
			       "the guest's OS is %s/%s %d.%d, which labvirt cannot prepare "
			       "(it knows alpinelinux, ubuntu and debian)",
			       type ? type : "unknown", distro ? distro : "unknown", major, minor);
	if (mount_root(h, root, err) < 0)
		return -1;
	struct job j = {.h = h, .d = d, .g = d->g, .err = err};
	int rc = password_hash(d->g->ci.password, &j.hash, err);
	if (rc == 0)
		rc = write_guest(&j, distro);
	free(j.hash);
	if (guestfs_umount_all(h) < 0 && rc == 0)
		rc = gfail(h, err, "cannot unmount the guest's filesystems");
	return rc;
}

static int prepare_with(guestfs_h *h, struct watch *w, struct prepare_disk *disks, size_t n,
			bool tcg, void (*written)(void), struct lv_error *err)
{
	guestfs_set_error_handler(h, NULL, NULL);
	if (w->base[0] && guestfs_set_tmpdir(h, w->base) < 0)
		return gfail(h, err, "libguestfs: tmpdir");
	if (tcg && guestfs_set_backend_setting(h, "force_tcg", "1") < 0)
		return gfail(h, err, "libguestfs: force_tcg");
	size_t *drive = xcalloc(n, sizeof(size_t));
	size_t added = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (disks[i].skipped)
			continue;
		drive[i] = added++;
		if (guestfs_add_drive_opts(h, disks[i].path, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
					   -1) < 0) {
			_cleanup_free_ char *what = xasprintf("cannot add '%s'", disks[i].path);
			rc = gfail(h, err, what);
		}
	}
	if (rc == 0 && guestfs_launch(h) < 0)
		rc = gfail(h, err, "cannot launch the libguestfs appliance");
	if (rc == 0)
		watch_appliance(w, h);
	_cleanup_strv_ char **roots = rc == 0 ? guestfs_inspect_os(h) : NULL;
	if (rc == 0 && !roots)
		rc = gfail(h, err, "libguestfs inspection failed");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (disks[i].skipped)
			continue;
		rc = prepare_one(h, roots, drive[i], &disks[i], err);
		if (rc < 0)
			lv_prefix(err, "prepare %s (%s)", disks[i].g->name, disks[i].path);
		else if (written) {
			written();
			written = NULL;
		}
	}
	if (rc == 0 && guestfs_shutdown(h) < 0)
		rc = gfail(h, err, "libguestfs could not write the disks back");
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!disks[i].skipped &&
		    setxattr(disks[i].path, MARK_XATTR, disks[i].os, strlen(disks[i].os), 0) < 0 &&
		    errno != ENOTSUP && errno != EOPNOTSUPP)
			rc = lv_fail_errno(err, errno, "cannot mark '%s' as prepared",
					   disks[i].path);
	free(drive);
	return rc;
}

int prepare_disks(struct prepare_disk *disks, size_t n, bool tcg, void (*written)(void),
		  struct lv_error *err)
{
	size_t todo = 0;
	for (size_t i = 0; i < n; i++)
		todo += !(disks[i].skipped = prepare_done(disks[i].path));
	if (todo == 0)
		return 0;
	struct watch w;
	watch_start(&w);
	guestfs_h *h = guestfs_create();
	int rc = h ? prepare_with(h, &w, disks, n, tcg, written, err)
		   : lv_fail_errno(err, errno, "cannot create a libguestfs handle");
	if (h)
		guestfs_close(h);
	watch_end(&w);
	return rc;
}
