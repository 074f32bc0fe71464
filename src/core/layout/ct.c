/* layout/ct.c - a container's file: lxc/VMID.conf in pve-container's schema
 * (PVE/LXC/Config.pm), its one key table and the handlers only a container has
 * (rootfs and mpN, netN with its addresses, features, devN, ...). The keys a VM
 * shares (description, onboot, startup, tags, ...) use the VM's handlers. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- the container's own values ---- */

static struct lab_ct *ct_of(struct conf_state *st)
{
	if (!st->g->ct)
		st->g->ct = xcalloc(1, sizeof(*st->g->ct));
	return st->g->ct;
}

/* hostname: the container's name, as `name:` is a VM's. */
static void ct_hostname(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	if (!lab_is_guest_name(v))
		diag(p, line, "hostname: %s is not a DNS name " NAME_RULE, Q(v));
	set_str(&st->g->name, v);
	st->note->name_line = line;
}

/* A container runs on the host's CPU: amd64 (and i386 binaries on it). */
static void ct_arch(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	static const char *const names[] = {"amd64", "i386",    "arm64",
					    "armhf", "riscv32", "riscv64"};
	(void)key;
	if (PICK(p, line, "arch:", v, names) < 0)
		return;
	if (!streq(v, "amd64") && !streq(v, "i386"))
		diag(p, line,
		     "arch: %s: a container runs on the host's CPU, and labvirt runs amd64 and "
		     "i386 containers",
		     v);
	set_str(&st->g->arch, v);
}

static void ct_ostype(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	static const char *const names[] = {"debian", "devuan",   "ubuntu",    "centos",
					    "fedora", "opensuse", "archlinux", "alpine",
					    "gentoo", "nixos",    "unmanaged"};
	(void)key;
	if (PICK(p, line, "ostype:", v, names) >= 0)
		set_str(&st->g->ostype, v);
}

static void ct_cores(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "cores:", v, 1, 8192, "", &n) == 0)
		st->g->cores = (int)n;
}

static void ct_memory(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	(void)key;
	parse_uint(p, line, "memory:", v, 16, 268435456, " of MiB", &st->g->memory_mib);
}

static void ct_swap(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	(void)key;
	parse_uint(p, line, "swap:", v, 0, 268435456, " of MiB", &ct_of(st)->swap_mib);
}

static void ct_cpuunits(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	parse_uint(p, line, "cpuunits:", v, 0, 500000, "", &st->g->cpuunits);
}

static void ct_cpulimit(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	double n = is_number(v) ? strtod(v, NULL) : -1;
	if (n < 0 || n > 8192)
		diag(p, line, "cpulimit: %s is not a number of host CPUs (0..8192)", Q(v));
	else
		st->g->cpulimit = n;
}

static void ct_flag(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	char label[64];
	bool b;
	snprintf(label, sizeof(label), "%s:", key);
	if (parse01(p, line, label, v, &b) < 0)
		return;
	if (streq(key, "unprivileged"))
		ct_of(st)->unprivileged = b;
	else if (streq(key, "console"))
		ct_of(st)->console = b;
	else if (streq(key, "protection"))
		st->g->protection = b;
	else if (streq(key, "template"))
		st->g->template = b;
	/* debug: checked, nothing to keep */
}

static void ct_lock(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	static const char *const names[] = {"backup",   "create",         "destroyed", "disk",
					    "fstrim",   "migrate",        "mounted",   "rollback",
					    "snapshot", "snapshot-delete"};
	(void)key;
	if (PICK(p, line, "lock:", v, names) >= 0)
		set_str(&st->g->lock, v);
}

static void ct_cmode(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	static const char *const names[] = {"shell", "console", "tty"};
	(void)key;
	if (PICK(p, line, "cmode:", v, names) >= 0)
		set_str(&ct_of(st)->cmode, v);
}

static void ct_tty(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "tty:", v, 0, 6, "", &n) == 0)
		ct_of(st)->tty = (int)n;
}

/* timezone: host, or a zone of the tz database (Europe/Vienna). */
static void ct_timezone(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	if (strlen(v) > 64 || !is_all(v, LOWER UPPER DIGITS "/_+-") || v[0] == '/' ||
	    strstr(v, ".."))
		diag(p, line, "timezone: %s is not 'host' or a time zone (Europe/Vienna)", Q(v));
	else
		set_str(&ct_of(st)->timezone, v);
}

static bool has_control(const char *s, bool tabs)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && !(tabs && *s == '\t'))
			return true;
	return false;
}

static void ct_entrypoint(struct parser *p, struct conf_state *st, const char *key, int line,
			  const char *v)
{
	(void)key;
	if (v[0] != '/' || has_control(v, true))
		diag(p, line, "entrypoint: %s is not an absolute path in the container", Q(v));
	else
		set_str(&ct_of(st)->entrypoint, v);
}

/* env: NAME=VALUE, several joined by "\0" as Proxmox writes them. */
static void ct_env(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	_cleanup_free_ char *copy = xstrdup(v);
	(void)key;
	for (char *item = copy, *next; item; item = next) {
		next = strstr(item, "\\0");
		if (next)
			*next = '\0', next += 2;
		size_t name = strspn(item, LOWER UPPER DIGITS "_");
		if (name == 0 || item[name] != '=' || has_control(item, true))
			diag(p, line, "env: %s is not NAME=VALUE", Q(item));
	}
	set_str(&ct_of(st)->env, v);
}

/* features: nesting=1,keyctl=1,fuse=1,mknod=1,force_rw_sys=1,mount=nfs;cifs */
static void ct_features(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	static const struct prop_spec specs[] = {BOOL("nesting"),      BOOL("keyctl"),
						 BOOL("fuse"),         BOOL("mknod"),
						 BOOL("force_rw_sys"), STR("mount")};
	struct lab_ct *ct = ct_of(st);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK(&pr, specs) < 0)
		return;
	const char *mount = props_get(&pr, "mount");
	struct {
		const char *name;
		bool *dst;
	} flags[] = {{"nesting", &ct->nesting},
		     {"keyctl", &ct->keyctl},
		     {"fuse", &ct->fuse},
		     {"mknod", &ct->mknod},
		     {"force_rw_sys", &ct->force_rw_sys}};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		const char *f = props_get(&pr, flags[i].name);
		*flags[i].dst = f && streq(f, "1");
	}
	if (mount && (!*mount || !is_all(mount, LOWER UPPER DIGITS "_; ")))
		diag(p, line, "features: mount %s is not a list of file system types (nfs;cifs)",
		     Q(mount));
	else if (mount)
		set_str(&ct->mount_fs, mount);
}

/* ---- netN: name=eth0,bridge=vmbr0,hwaddr=..,ip=..,gw=..,ip6=..,gw6=.. ---- */

static bool is_ifname(const char *s)
{
	return *s && strlen(s) <= 15 && is_all(s, LOWER UPPER DIGITS "-_.");
}

static void ct_net_property(struct parser *p, int line, const char *key, struct lab_net *n,
			    const struct prop *it)
{
	char label[64];
	uint64_t n64;
	struct ip_conf ips = {&n->ip, &n->gw, &n->ip6, &n->gw6};
	snprintf(label, sizeof(label), "%s: %s", key, it->k);
	if (streq(it->k, "name")) {
		if (!is_ifname(it->v))
			diag(p, line, "%s %s is not an interface name (eth0)", label, Q(it->v));
		set_str(&n->name, it->v);
	} else if (streq(it->k, "bridge")) {
		set_str(&n->bridge, it->v);
		if (p->have_cfg && !lab_find_bridge(p->lab, it->v))
			diag(p, line, "%s: bridge %s is not defined in lab.cfg", key, Q(it->v));
	} else if (streq(it->k, "hwaddr")) {
		if (!parse_mac(it->v, n->mac))
			diag(p, line, "%s: %s is not a MAC address (XX:XX:XX:XX:XX:XX)", key,
			     Q(it->v));
		else if (strchr("13579bdf", n->mac[1]))
			diag(p, line,
			     "%s: MAC address %s is multicast (the first octet must be even)", key,
			     Q(it->v));
		else
			n->mac_given = true;
		if (!n->mac_given)
			n->mac[0] = '\0';
	} else if (streq(it->k, "type")) {
		if (!streq(it->v, "veth"))
			diag(p, line, "%s %s is not veth", label, Q(it->v));
	} else if (streq(it->k, "mtu")) {
		if (parse_uint(p, line, label, it->v, 64, 65535, "", &n64) == 0)
			n->mtu = (int)n64;
	} else if (streq(it->k, "tag")) {
		if (parse_uint(p, line, label, it->v, 1, 4094, "", &n64) == 0)
			n->tag = (int)n64;
	} else if (streq(it->k, "trunks")) {
		if (!*it->v || !is_all(it->v, DIGITS ";") || strstr(it->v, ";;"))
			diag(p, line, "%s %s is not a list of VLAN ids (10;20)", label, Q(it->v));
		else
			set_str(&n->trunks, it->v);
	} else if (streq(it->k, "rate")) {
		if (!is_number(it->v))
			diag(p, line, "%s %s is not a number of MB/s", label, Q(it->v));
		else
			n->rate = strtod(it->v, NULL);
	} else if (streq(it->k, "firewall")) {
		parse01(p, line, label, it->v, &n->firewall);
	} else if (streq(it->k, "link_down")) {
		parse01(p, line, label, it->v, &n->link_down);
	} else if (streq(it->k, "host-managed")) {
		bool b;
		parse01(p, line, label, it->v, &b);
	} else if (!ip_property(p, line, key, it->k, it->v, &ips, true)) {
		unsupported(p, line, key, it->k);
	}
}

static void ct_net(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	struct lab_guest *g = st->g;
	struct lab_net *n = &g->nets[g->n_nets++];
	*n = (struct lab_net){.line = line};
	snprintf(n->model, sizeof(n->model), "veth");
	net_key(key, &n->index);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		if (!pr.items[i].k)
			diag(p, line, "%s: %s is not name=value", key, Q(pr.items[i].v));
		else
			ct_net_property(p, line, key, n, &pr.items[i]);
	}
	struct ip_conf ips = {&n->ip, &n->gw, &n->ip6, &n->gw6};
	if (!n->name)
		diag(p, line, "%s: missing name= (the device in the container, e.g. eth0)", key);
	if (!n->bridge)
		diag(p, line, "%s: missing bridge=", key);
	ip_check(p, line, key, &ips);
}

/* ---- rootfs and mpN ---- */

/* The volume of rootfs or mpN: STORAGE:SIZE (GiB; 0 on dir: a folder), a volume
 * by Proxmox's name (STORAGE:VMID/vm-VMID-disk-N.raw, STORAGE:vm-VMID-disk-N,
 * STORAGE:subvol-VMID-disk-N), or for mpN a host folder bind-mounted. */
static void mount_volume(struct parser *p, int line, const char *key, struct lab_disk *d,
			 const char *v)
{
	const char *colon = strchr(v, ':');
	if (v[0] == '/') {
		if (streq(key, "rootfs"))
			diag(p, line,
			     "rootfs: a host folder cannot be the root file system; give "
			     "STORAGE:SIZE");
		else if (strstr(v, "/../") || endswith(v, "/.."))
			diag(p, line, "%s: %s has a '..' component", key, Q(v));
		d->path = xstrdup(v);
		d->bind = true;
		return;
	}
	if (!colon || colon == v || !colon[1]) {
		diag(p, line, "%s: %s is not STORAGE:SIZE, STORAGE:VOLUME or a host path", key,
		     Q(v));
		return;
	}
	d->storage = xstrndup(v, (size_t)(colon - v));
	const struct lab_storage *s = lab_find_storage(p->lab, d->storage);
	const char *vol = colon + 1;
	if (!s && p->have_cfg)
		diag(p, line, "%s: storage %s is not defined in lab.cfg", key, Q(d->storage));
	if (s && !storage_usable(p, line, key, s))
		return;
	d->allocate = true;
	set_str(&d->format, "raw");
	if (is_digit(vol[0]) && !strchr(vol, '/')) {
		uint64_t mib = 0;
		int r = parse_gib(vol, &mib);
		if (r == -1)
			diag(p, line, "%s: size %s is not a number of GiB", key, Q(vol));
		else if (r == -2)
			diag(p, line, "%s: size %s is out of range (1 MiB..131072 GiB)", key,
			     Q(vol));
		d->size = mib * 1024 * 1024;
		/* zfspool: always a dataset (subvol-), its size the refquota, as pct does */
		d->subvol = r == 0 && (mib == 0 || (s && s->type == STORAGE_ZFSPOOL));
		if (d->subvol && s && !lab_storage_folders(s))
			diag(
			    p, line,
			    "%s: size 0 (a folder) needs a dir, btrfs or zfspool storage; %s is %s",
			    key, Q(s->id), lab_storage_type_name(s));
		return;
	}
	d->volume = xstrdup(vol);
	d->named = true;
	const char *name = strrchr(vol, '/') ? strrchr(vol, '/') + 1 : vol;
	d->subvol = startswith(name, "subvol-") || startswith(name, "basevol-");
	if (s && !lab_storage_folders(s) && d->subvol)
		diag(p, line,
		     "%s: %s is a folder volume, which needs a dir, btrfs or zfspool storage", key,
		     Q(vol));
	else if (s)
		d->path = storage_volume_path(p, line, key, s, vol);
}

static bool is_mount_path(const char *s)
{
	return s[0] == '/' && !strstr(s, "/../") && !endswith(s, "/..") && !strstr(s, "//") &&
	       !has_control(s, false) && strlen(s) < 4096;
}

static void ct_mount(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	static const struct prop_spec specs[] = {
	    STR("volume"),  SIZE("size"),   BOOL("acl"),   STR("mountoptions"),
	    STR("idmap"),   BOOL("ro"),     BOOL("quota"), BOOL("replicate"),
	    BOOL("shared"), BOOL("backup"), STR("mp"),     BOOL("keepattrs")};
	struct lab_guest *g = st->g;
	bool rootfs = streq(key, "rootfs");
	if (g->n_disks >= LAB_MAX_DISKS) {
		diag(p, line, "%s: more than %d mount points", key, LAB_MAX_DISKS - 1);
		return;
	}
	struct lab_disk *d = &g->disks[g->n_disks++];
	*d = (struct lab_disk){.bus = BUS_MP, .index = rootfs ? -1 : atoi(key + 2), .line = line};
	snprintf(d->key, sizeof(d->key), "%s", key);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	size_t from = pr.items[0].k ? 0 : 1;
	const char *vol = from ? pr.items[0].v : props_get(&pr, "volume");
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (!vol) {
		diag(p, line, "%s: missing volume first (STORAGE:SIZE or STORAGE:VOLUME)", key);
		return;
	}
	mount_volume(p, line, key, d, vol);
	const char *mp = props_get(&pr, "mp"), *size = props_get(&pr, "size"),
		   *acl = props_get(&pr, "acl"), *opts = props_get(&pr, "mountoptions"),
		   *idmap = props_get(&pr, "idmap"), *ro = props_get(&pr, "ro"),
		   *quota = props_get(&pr, "quota"), *backup = props_get(&pr, "backup"),
		   *replicate = props_get(&pr, "replicate"), *shared = props_get(&pr, "shared");
	if (rootfs && (mp || backup))
		diag(p, line, "rootfs: %s= is for mpN only", mp ? "mp" : "backup");
	else if (!rootfs && !mp)
		diag(p, line, "%s: missing mp= (where it is mounted in the container)", key);
	else if (mp && (!is_mount_path(mp) || streq(mp, "/")))
		diag(p, line, "%s: mp %s is not an absolute path below /", key, Q(mp));
	set_str(&d->mp, rootfs ? "/" : mp);
	if (size && d->named && !d->subvol)
		d->size = size_bytes(size);
	if (acl)
		d->acl_set = true, d->acl = streq(acl, "1");
	if (opts && (!is_all(opts, LOWER "_;") || !*opts))
		diag(p, line, "%s: mountoptions %s is not a list of mount options (noatime;nosuid)",
		     key, Q(opts));
	else if (opts)
		set_str(&d->mountoptions, opts);
	if (idmap)
		host_bound(p, line, key, "idmap= needs LXC's own per-mount id maps");
	d->readonly = ro && streq(ro, "1");
	d->quota = quota && streq(quota, "1");
	d->no_backup = backup && streq(backup, "0");
	d->no_replicate = replicate && streq(replicate, "0");
	d->shared = shared && streq(shared, "1");
	if (d->bind && d->quota)
		diag(p, line, "%s: quota=1 needs a volume, not a host folder", key);
}

/* ---- what the host must give ---- */

static void ct_dev(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const struct prop_spec specs[] = {STR("path"), STR("mode"), UINT("uid", 0, 65535),
						 UINT("gid", 0, 65535), BOOL("deny-write")};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	size_t from = pr.items[0].k ? 0 : 1;
	const char *path = from ? pr.items[0].v : props_get(&pr, "path");
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	const char *mode = props_get(&pr, "mode");
	if (!path || !startswith(path, "/dev/"))
		diag(p, line, "%s: missing a device path (/dev/...)", key);
	else if (mode && (strlen(mode) != 4 || mode[0] != '0' || !is_all(mode, "01234567")))
		diag(p, line, "%s: mode %s is not an octal mode (0660)", key, Q(mode));
	else if (host_bound(p, line, key, "a device of the Proxmox host"))
		set_str(&ct_of(st)->devs[atoi(key + 3)], path);
}

/* lxc.*: LXC's own keys, which Proxmox passes to LXC as they are. */
static void ct_raw_lxc(struct parser *p, struct conf_state *st, const char *key, int line,
		       const char *v)
{
	(void)v;
	host_bound(p, line, key, "a raw LXC key has no equivalent in libvirt's LXC driver");
	if (!ct_of(st)->raw_lxc)
		ct_of(st)->raw_lxc = xstrdup(key), ct_of(st)->raw_lxc_line = line;
}

/* ---- labvirt's own: what `pct create` takes ---- */

/* ostemplate: STORAGE:vztmpl/FILE (a dir storage's template/cache/FILE), an
 * absolute path, or the name of an image of lab.cfg's catalogue. */
static void ct_ostemplate(struct parser *p, struct conf_state *st, const char *key, int line,
			  const char *v)
{
	struct lab_ct *ct = ct_of(st);
	const char *colon = strchr(v, ':');
	(void)key;
	set_str(&ct->ostemplate, v);
	if (v[0] == '/') {
		set_str(&ct->template_path, v);
		return;
	}
	if (!colon) {
		if (p->have_cfg && !lab_find_image(p->lab, v))
			diag(p, line,
			     "ostemplate: %s is not STORAGE:vztmpl/FILE, a path or an image of "
			     "lab.cfg",
			     Q(v));
		set_str(&ct->template_image, v);
		return;
	}
	_cleanup_free_ char *sid = xstrndup(v, (size_t)(colon - v));
	const char *file = colon + 1 + strlen("vztmpl/");
	const struct lab_storage *s = lab_find_storage(p->lab, sid);
	if (!startswith(colon + 1, "vztmpl/") || !is_file_name(file))
		diag(p, line, "ostemplate: %s is not STORAGE:vztmpl/FILE", Q(v));
	else if (!s && p->have_cfg)
		diag(p, line, "ostemplate: storage %s is not defined in lab.cfg", Q(sid));
	else if (s && !lab_storage_files(s))
		diag(p, line,
		     "ostemplate: storage %s keeps no templates (not a dir or btrfs storage)",
		     Q(sid));
	else if (s && s->path)
		ct->template_path = xasprintf("%s/template/cache/%s", s->path, file);
}

static void ct_password(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	if (strlen(v) < 5 || has_control(v, false))
		diag(p, line, "password: at least 5 characters, no control characters");
	set_str(&ct_of(st)->password, v);
}

/* ssh-public-keys: FILE (relative to the lab folder), as `pct create` takes it. */
static void ct_ssh_keys(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	_cleanup_free_ char *path = lab_relative(p, v);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char buf[16384];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (!f) {
		diag(p, line, "ssh-public-keys: cannot read %s", Q(v));
		return;
	}
	buf[n] = '\0';
	bool text = n < sizeof(buf) - 1 && strlen(buf) == n;
	for (char *l = buf, *end; text && *l; l = end + (*end != '\0')) {
		end = l + strcspn(l, "\n");
		text = is_text(l, (size_t)(end - l), true);
	}
	if (!text)
		diag(p, line, "ssh-public-keys: %s is not a text file of keys (at most 16 KiB)",
		     Q(v));
	else
		set_str(&ct_of(st)->ssh_keys, buf);
}

/* ---- the key table ---- */

/* Every key of pve-container's config schema ($confdesc), and labvirt's own
 * (ostemplate, password, ssh-public-keys); the README's table says what each does. */
static const struct {
	const char *key;
	conf_fn *set;
} CT_KEYS[] = {
    /* honoured */
    {"hostname", ct_hostname},
    {"description", conf_description},
    {"arch", ct_arch},
    {"ostype", ct_ostype},
    {"cores", ct_cores},
    {"cpulimit", ct_cpulimit},
    {"cpuunits", ct_cpuunits},
    {"memory", ct_memory},
    {"swap", ct_swap},
    {"rootfs", ct_mount},
    {"nameserver", conf_nameserver},
    {"searchdomain", conf_searchdomain},
    {"unprivileged", ct_flag},
    {"features", ct_features},
    {"onboot", conf_onboot},
    {"startup", conf_startup},
    {"console", ct_flag},
    {"tty", ct_tty},
    {"cmode", ct_cmode},
    {"timezone", ct_timezone},
    {"entrypoint", ct_entrypoint},
    {"env", ct_env},
    {"ostemplate", ct_ostemplate},
    {"password", ct_password},
    {"ssh-public-keys", ct_ssh_keys},
    /* host-bound */
    {"hookscript", conf_hookscript},
    /* bookkeeping */
    {"protection", ct_flag},
    {"template", ct_flag},
    {"debug", ct_flag},
    {"tags", conf_tags},
    {"lock", ct_lock},
    {"digest", conf_digest},
    {"parent", conf_parent},
    {"snaptime", conf_snaptime},
};

static bool indexed(const char *key, const char *prefix, int max)
{
	size_t n = strlen(prefix);
	const char *num = key + n;
	return strncmp(key, prefix, n) == 0 && *num && is_all(num, DIGITS) &&
	       !(num[0] == '0' && num[1]) && strlen(num) <= 3 && atoi(num) <= max;
}

conf_fn *ct_handler(const char *key)
{
	int index;
	for (size_t i = 0; i < ARRAY_SIZE(CT_KEYS); i++)
		if (streq(CT_KEYS[i].key, key))
			return CT_KEYS[i].set;
	if (net_key(key, &index))
		return ct_net;
	if (indexed(key, "mp", 255))
		return ct_mount;
	if (indexed(key, "dev", 255))
		return ct_dev;
	if (indexed(key, "unused", 255))
		return conf_unused;
	if (startswith(key, "lxc.") && key[4])
		return ct_raw_lxc;
	return NULL;
}

/* ---- the whole file ---- */

void ct_check(struct parser *p, const struct conf_state *st)
{
	const struct lab_guest *g = st->g;
	bool rootfs = false;
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		rootfs = rootfs || streq(d->key, "rootfs");
		for (size_t j = 0; j < i; j++)
			if (d->mp && g->disks[j].mp && streq(d->mp, g->disks[j].mp))
				diag(p, d->line, "%s: mp %s is also %s's", d->key, Q(d->mp),
				     g->disks[j].key);
	}
	for (size_t i = 0; i < g->n_nets; i++)
		for (size_t j = 0; j < i; j++)
			if (g->nets[i].name && g->nets[j].name &&
			    streq(g->nets[i].name, g->nets[j].name))
				diag(p, g->nets[i].line, "net%d: name %s is also net%d's",
				     g->nets[i].index, Q(g->nets[i].name), g->nets[j].index);
	if (!rootfs)
		diag(p, 0, "missing rootfs: (e.g. rootfs: local:8, a new 8 GiB volume)");
	bool fresh_rootfs = false;
	for (size_t i = 0; i < g->n_disks; i++)
		if (streq(g->disks[i].key, "rootfs") && g->disks[i].allocate && !g->disks[i].named)
			fresh_rootfs = true;
	if (fresh_rootfs && !g->ct->template_path && !g->ct->template_image)
		diag(p, keylines_find(&st->keys, "rootfs"),
		     "rootfs: a new volume (STORAGE:SIZE) needs ostemplate: to fill it, as pct "
		     "create does");
	if (g->ct->template_path || g->ct->template_image) {
		bool fresh = false;
		for (size_t i = 0; i < g->n_disks; i++)
			if (streq(g->disks[i].key, "rootfs"))
				fresh = !g->disks[i].named;
		if (!fresh)
			diag(p, keylines_find(&st->keys, "ostemplate"),
			     "ostemplate: fills a new rootfs (STORAGE:SIZE) once; rootfs names an "
			     "existing volume");
	}
}
