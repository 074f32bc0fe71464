/* render_ct.c - a container's libvirt XML (<domain type='lxc'>, libvirt's LXC
 * driver) from its lxc/VMID.conf: what pve-container gives LXC, said the way
 * libvirt's LXC driver takes it. */
#include <inttypes.h>
#include <string.h>

#include "render-private.h"

/* Proxmox's range for an unprivileged container: ids 0..65535 are 100000.. on the host. */
#define CT_ID_SHIFT 100000
#define CT_ID_COUNT 65536

static void add_ct_resources(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	const struct lab_ct *ct = g->ct;
	set(xb, addf(xb, root, "memory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	set(xb, addf(xb, root, "currentMemory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	/* memory: is the hard limit; swap: is beyond it (libvirt's swap_hard_limit is
	 * memory plus swap, as LXC's memsw) */
	xmlNode *tune = add(xb, root, "memtune", NULL);
	set(xb, addf(xb, tune, "hard_limit", "%" PRIu64, g->memory_mib), "unit", "MiB");
	set(xb, addf(xb, tune, "swap_hard_limit", "%" PRIu64, g->memory_mib + ct->swap_mib), "unit",
	    "MiB");
	set(xb, addf(xb, root, "vcpu", "%d", g->cores), "placement", "static");
	if (!g->cpuunits && !g->cpulimit)
		return;
	xmlNode *cpu = add(xb, root, "cputune", NULL);
	if (g->cpuunits) /* cgroup shares; libvirt takes 2.. */
		addf(xb, cpu, "shares", "%" PRIu64, g->cpuunits < 2 ? 2 : g->cpuunits);
	if (g->cpulimit) { /* the container's CPU time per 100 ms */
		add(xb, cpu, "period", "100000");
		addf(xb, cpu, "quota", "%lld", (long long)(g->cpulimit * 100000));
	}
}

static void add_ct_os(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	const struct lab_ct *ct = g->ct;
	xmlNode *os = add(xb, root, "os", NULL);
	xmlNode *type = add(xb, os, "type", "exe");
	set(xb, type, "arch", g->arch && streq(g->arch, "i386") ? "i686" : "x86_64");
	/* entrypoint: a command line, as lxc.init.cmd: the program, then its arguments */
	_cleanup_free_ char *cmd = xstrdup(ct->entrypoint ? ct->entrypoint : "/sbin/init");
	char *save = NULL;
	for (char *w = strtok_r(cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		add(xb, os, w == cmd ? "init" : "initarg", w);
	if (!ct->env)
		return;
	_cleanup_free_ char *env = xstrdup(ct->env);
	for (char *item = env, *next; item; item = next) {
		next = strstr(item, "\\0");
		if (next)
			*next = '\0', next += 2;
		char *eq = strchr(item, '=');
		if (!eq)
			continue;
		*eq = '\0';
		set(xb, add(xb, os, "initenv", eq + 1), "name", item);
	}
}

/* unprivileged: 1: the container's root is 100000 on the host, as on Proxmox. */
static void add_idmap(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	if (!g->ct->unprivileged)
		return;
	xmlNode *idmap = add(xb, root, "idmap", NULL);
	const char *kinds[] = {"uid", "gid"};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		xmlNode *m = add_with(xb, idmap, kinds[i], "start", "0");
		setf(xb, m, "target", "%d", CT_ID_SHIFT);
		setf(xb, m, "count", "%d", CT_ID_COUNT);
	}
}

/* features: mknod=1 keeps CAP_MKNOD, mount= keeps CAP_SYS_ADMIN (to mount those
 * file systems), which libvirt's LXC driver otherwise drops. */
static void add_ct_features(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	const struct lab_ct *ct = g->ct;
	if (!ct->mknod && !ct->mount_fs)
		return;
	xmlNode *caps =
	    add_with(xb, add(xb, root, "features", NULL), "capabilities", "policy", "default");
	if (ct->mknod)
		add_with(xb, caps, "mknod", "state", "on");
	if (ct->mount_fs)
		add_with(xb, caps, "sys_admin", "state", "on");
}

/* rootfs and mpN: an image file (loop), a block device (an LV), a folder. */
static int add_mount(struct xml_builder *xb, xmlNode *devices, const struct lab *lab,
		     const struct lab_guest *g, const struct lab_disk *d, struct lv_error *err)
{
	/* an unprivileged container's ext4 volume: the folder labvirt mounts it on */
	_cleanup_free_ char *mounted = lab_ct_mount_dir(lab, g, d);
	_cleanup_free_ char *path = mounted   ? xstrdup(mounted)
				    : d->bind ? xstrdup(d->path)
					      : lab_disk_path(lab, g, d);
	if (!path)
		return lv_fail(err, LV_EXIT_FAIL, "%s: no path for its volume", d->key);
	const struct lab_storage *s = d->storage ? lab_find_storage(lab, d->storage) : NULL;
	bool block = lab_storage_block(s);
	const char *type = mounted || d->bind || d->subvol ? "mount" : block ? "block" : "file";
	xmlNode *fs = add_with(xb, devices, "filesystem", "type", type);
	set(xb, fs, "accessmode", "passthrough");
	if (streq(type, "file")) {
		xmlNode *drv = add_with(xb, fs, "driver", "type", "loop");
		set(xb, drv, "format", "raw");
	}
	add_with(xb, fs, "source",
		 streq(type, "mount")  ? "dir"
		 : streq(type, "file") ? "file"
				       : "dev",
		 path);
	add_with(xb, fs, "target", "dir", d->mp);
	if (d->readonly)
		add(xb, fs, "readonly", NULL);
	return 0;
}

/* A veth pair on the bridge: Proxmox's host side name veth<VMID>i<N>, the
 * container's side netN's name=; static addresses are set by libvirt before init. */
static void add_ct_net(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g,
		       const struct lab_net *n)
{
	xmlNode *iface = add_with(xb, devices, "interface", "type", "bridge");
	add_with(xb, iface, "mac", "address", n->mac);
	add_with(xb, iface, "source", "bridge", n->bridge);
	const char *ips[] = {n->ip, n->ip6};
	for (size_t i = 0; i < ARRAY_SIZE(ips); i++) {
		const char *slash = ips[i] ? strchr(ips[i], '/') : NULL;
		if (!slash)
			continue; /* dhcp, auto, manual: the container's own config */
		_cleanup_free_ char *addr = xstrndup(ips[i], (size_t)(slash - ips[i]));
		xmlNode *ip = add_with(xb, iface, "ip", "address", addr);
		if (i == 1)
			set(xb, ip, "family", "ipv6");
		set(xb, ip, "prefix", slash + 1);
	}
	if (n->gw) {
		xmlNode *r = add_with(xb, iface, "route", "address", "0.0.0.0");
		set(xb, r, "prefix", "0");
		set(xb, r, "gateway", n->gw);
	}
	if (n->gw6) {
		xmlNode *r = add_with(xb, iface, "route", "family", "ipv6");
		set(xb, r, "address", "::");
		set(xb, r, "prefix", "0");
		set(xb, r, "gateway", n->gw6);
	}
	if (g->vmid)
		setf(xb, add(xb, iface, "target", NULL), "dev", "veth%di%d", g->vmid, n->index);
	add_with(xb, iface, "guest", "dev", n->name);
	if (n->rate > 0) { /* MB/s each way, as libvirt's KiB/s */
		xmlNode *bw = add(xb, iface, "bandwidth", NULL);
		unsigned long long kib = (unsigned long long)(n->rate * 1024);
		setf(xb, add(xb, bw, "inbound", NULL), "average", "%llu", kib ? kib : 1);
		setf(xb, add(xb, bw, "outbound", NULL), "average", "%llu", kib ? kib : 1);
	}
	if (n->mtu)
		setf(xb, add(xb, iface, "mtu", NULL), "size", "%d", n->mtu);
	if (n->link_down)
		add_with(xb, iface, "link", "state", "down");
}

/* console: /dev/console and tty: N more (Proxmox's lxc.tty.max): libvirt's LXC
 * driver gives the container one /dev/ttyN per <console> after the first. */
static void add_consoles(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	const struct lab_ct *ct = g->ct;
	int n = (ct->console ? 1 : 0) + ct->tty;
	if (n == 0)
		return;
	for (int i = 0; i < n; i++) {
		xmlNode *c = add_with(xb, devices, "console", "type", "pty");
		xmlNode *t = add_with(xb, c, "target", "type", "lxc");
		setf(xb, t, "port", "%d", i);
	}
}

static void add_char_dev(struct xml_builder *xb, xmlNode *devices, const char *path)
{
	xmlNode *hd = add_with(xb, devices, "hostdev", "mode", "capabilities");
	set(xb, hd, "type", "misc");
	add(xb, add(xb, hd, "source", NULL), "char", path);
}

int build_ct(struct xml_builder *xb, xmlDoc *doc, const struct lab *lab, const struct lab_guest *g,
	     xmlNode **ret_owner, struct lv_error *err)
{
	xmlNode *root = new_root(xb, doc, "domain");
	set(xb, root, "type", "lxc");
	add_general(xb, root, g);
	xmlNode *owner = add_owner(xb, root, lab);
	set(xb, owner, "guest", g->name);
	add_ct_resources(xb, root, g);
	add_ct_os(xb, root, g);
	add_idmap(xb, root, g);
	add_ct_features(xb, root, g);
	add_with(xb, root, "clock", "offset", "utc");
	add(xb, root, "on_poweroff", "destroy");
	add(xb, root, "on_reboot", "restart");
	add(xb, root, "on_crash", "destroy");
	xmlNode *devices = add(xb, root, "devices", NULL);
	for (size_t i = 0; i < g->n_disks; i++)
		if (add_mount(xb, devices, lab, g, &g->disks[i], err) < 0)
			return -1;
	for (size_t i = 0; i < g->n_nets; i++)
		add_ct_net(xb, devices, g, &g->nets[i]);
	add_consoles(xb, devices, g);
	if (g->ct->fuse)
		add_char_dev(xb, devices, "/dev/fuse");
	*ret_owner = owner;
	return 0;
}
