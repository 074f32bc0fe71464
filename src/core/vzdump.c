/* vzdump.c - an archive's name and the config that goes into and comes out of a
 * vzdump archive, as Proxmox's VZDump::QemuServer and qmrestore make them. */
#include <ctype.h>
#include <regex.h>
#include <string.h>

#include "vzdump.h"

int vzdump_parse_name(const char *path, struct vzdump_name *ret)
{
	static const char *const re_text =
	    "^vzdump-(qemu|lxc)-([0-9]+)-([0-9]{4}_[0-9]{2}_[0-9]{2}-[0-9]{2}_[0-9]{2}_[0-9]{2})"
	    "\\.(vma|tar)(\\.(zst|gz|lzo))?$";
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	regex_t re;
	regmatch_t m[4];
	if (regcomp(&re, re_text, REG_EXTENDED) != 0)
		return -1;
	int rc = regexec(&re, base, 4, m, 0);
	regfree(&re);
	if (rc != 0 || m[2].rm_eo - m[2].rm_so > 9)
		return -1;
	ret->kind = base[m[1].rm_so] == 'q' ? KIND_VM : KIND_CT;
	ret->vmid = atoi(base + m[2].rm_so);
	memcpy(ret->stamp, base + m[3].rm_so, 19);
	ret->stamp[19] = '\0';
	bool vma = streq(base + m[3].rm_eo, ".vma") || startswith(base + m[3].rm_eo, ".vma.");
	if (vma != (ret->kind == KIND_VM) || ret->vmid < 100)
		return -1;
	return 0;
}

char *vzdump_base_name(enum lab_kind kind, int vmid, time_t t)
{
	struct tm tm;
	char stamp[32];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y_%m_%d-%H_%M_%S", &tm);
	return xasprintf("vzdump-%s-%d-%s", kind == KIND_VM ? "qemu" : "lxc", vmid, stamp);
}

/* Copies the next field of s up to sep into buf (size n); false when it does not fit. */
static bool field(const char **s, char sep, char *buf, size_t n)
{
	const char *end = strchr(*s, sep);
	if (!end || (size_t)(end - *s) >= n)
		return false;
	memcpy(buf, *s, end - *s);
	buf[end - *s] = '\0';
	*s = end + 1;
	return true;
}

int vzdump_maps(const char *text, const char *where, struct vzdump_map **ret, size_t *ret_n,
		struct lv_error *err)
{
	static const char prefix[] = "#qmdump#map:";
	struct vzdump_map *maps = NULL;
	size_t n = 0;
	int no = 0;
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		no++;
		if (len > strlen(prefix) && startswith(s, prefix)) {
			_cleanup_free_ char *line =
			    xstrndup(s + strlen(prefix), len - strlen(prefix));
			const char *p = line;
			struct vzdump_map m = {0};
			/* virtdev:devname:storage:format: (storage and format may be empty) */
			if (!field(&p, ':', m.virtdev, sizeof(m.virtdev)) ||
			    !field(&p, ':', m.devname, sizeof(m.devname)) ||
			    !field(&p, ':', m.storage, sizeof(m.storage)) ||
			    !field(&p, ':', m.format, sizeof(m.format)) || *p || !*m.virtdev ||
			    !*m.devname) {
				free(maps);
				return lv_fail(err, LV_EXIT_FAIL,
					       "%s:%d: not a map line (#qmdump#map:DRIVE:DEVICE:"
					       "STORAGE:FORMAT:)",
					       where, no);
			}
			for (size_t i = 0; i < n; i++)
				if (streq(maps[i].virtdev, m.virtdev) ||
				    streq(maps[i].devname, m.devname)) {
					free(maps);
					return lv_fail(err, LV_EXIT_FAIL,
						       "%s:%d: drive %s or device %s mapped twice",
						       where, no, m.virtdev, m.devname);
				}
			maps = xrealloc(maps, (n + 1) * sizeof(*maps));
			maps[n++] = m;
		}
		s += len + (nl != NULL);
	}
	*ret = maps;
	*ret_n = n;
	return 0;
}

/* A buffer that grows. */
struct out {
	char *s;
	size_t n, cap;
};
static void put(struct out *o, const char *s, size_t len)
{
	if (o->n + len + 1 > o->cap) {
		o->cap = (o->n + len + 1) * 2;
		o->s = xrealloc(o->s, o->cap);
	}
	memcpy(o->s + o->n, s, len);
	o->n += len;
	o->s[o->n] = '\0';
}
static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* "unused3:" and the like: a key of letters then digits then ':'. */
static bool key_is(const char *line, const char *letters)
{
	size_t n = strlen(letters);
	if (strncmp(line, letters, n) != 0 || !isdigit((unsigned char)line[n]))
		return false;
	line += n;
	while (isdigit((unsigned char)*line))
		line++;
	return *line == ':';
}

static bool drive_key(const char *line, bool ct, char *key, size_t n)
{
	static const char *const buses[] = {"ide", "scsi", "virtio", "sata", "efidisk", "tpmstate"};
	static const char *const ct_buses[] = {"mp"};
	if (ct && startswith(line, "rootfs:")) {
		snprintf(key, n, "rootfs");
		return true;
	}
	for (size_t i = 0; i < (ct ? ARRAY_SIZE(ct_buses) : ARRAY_SIZE(buses)); i++)
		if (key_is(line, ct ? ct_buses[i] : buses[i])) {
			size_t len = strchr(line, ':') - line;
			if (len >= n)
				return false;
			memcpy(key, line, len);
			key[len] = '\0';
			return true;
		}
	return false;
}

static const char *value_of(const char *line)
{
	const char *v = strchr(line, ':') + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

static bool is_false(const char *v)
{
	return streq(v, "0") || streq(v, "no") || streq(v, "off") || streq(v, "false");
}

/* The drive's options without its volume and format=, after volid. */
static char *drive_with(const char *value, const char *volid, bool *ret_nobackup)
{
	struct out o = {0};
	_cleanup_free_ char *copy = xstrdup(value);
	puts_(&o, volid);
	*ret_nobackup = false;
	bool first = true;
	for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save), first = false) {
		if ((first && !strchr(opt, '=')) || startswith(opt, "file=") ||
		    startswith(opt, "volume=") || startswith(opt, "format=") ||
		    startswith(opt, "import-from=") || startswith(opt, "clone="))
			continue;
		if (startswith(opt, "backup=") && is_false(opt + strlen("backup=")))
			*ret_nobackup = true;
		puts_(&o, ",");
		puts_(&o, opt);
	}
	return o.s;
}

static bool no_backup(const char *value)
{
	bool nb;
	free(drive_with(value, "", &nb));
	return nb;
}

/* netN's value with each MAC (model=MAC, macaddr=MAC) new. */
static char *net_with_mac(const char *value, const struct vzdump_restore *r)
{
	static const char *const models[] = {
	    "virtio",        "e1000",         "e1000e",   "rtl8139",  "vmxnet3", "i82551",
	    "i82557b",       "i82559er",      "ne2k_pci", "ne2k_isa", "pcnet",   "e1000-82540em",
	    "e1000-82544gc", "e1000-82545em", "macaddr",  "hwaddr"};
	struct out o = {0};
	_cleanup_free_ char *copy = xstrdup(value);
	for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (o.n)
			puts_(&o, ",");
		char *eq = strchr(opt, '=');
		bool mac = false;
		for (size_t i = 0; eq && i < ARRAY_SIZE(models); i++)
			mac |= (size_t)(eq - opt) == strlen(models[i]) &&
			       !strncmp(opt, models[i], eq - opt);
		if (mac) {
			put(&o, opt, eq - opt + 1);
			puts_(&o, r->new_mac(r->opaque));
		} else {
			puts_(&o, opt);
		}
	}
	return o.s ? o.s : xstrdup("");
}

static char *smbios_with_uuid(const char *value, const struct vzdump_restore *r)
{
	struct out o = {0};
	_cleanup_free_ char *copy = xstrdup(value);
	puts_(&o, "uuid=");
	puts_(&o, r->new_uuid(r->opaque));
	for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (startswith(opt, "uuid="))
			continue;
		puts_(&o, ",");
		puts_(&o, opt);
	}
	return o.s;
}

char *vzdump_restore_config(const char *text, const struct vzdump_restore *r)
{
	struct out o = {0};
	bool named = false;
	size_t blanks = 0;
	puts_(&o, "");
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		_cleanup_free_ char *line = xstrndup(s, len);
		s += len + (nl != NULL);
		if (line[0] == '[')
			break; /* a snapshot or pending section: not restored */
		if (startswith(line, "#qmdump#") || startswith(line, "#vzdump#") ||
		    startswith(line, "lock:") || startswith(line, "parent:") ||
		    key_is(line, "unused") || (r->clone && startswith(line, "template:")))
			continue;
		char key[16];
		_cleanup_free_ char *repl = NULL;
		if (drive_key(line, r->ct, key, sizeof(key))) {
			const char *v = value_of(line);
			size_t i = 0;
			while (i < r->n_maps && !streq(r->maps[i].virtdev, key))
				i++;
			bool nb = false;
			if (!r->clone && no_backup(v)) {
				repl = xasprintf("#%s", line);
			} else if (i < r->n_maps) {
				_cleanup_free_ char *d = drive_with(v, r->volids[i], &nb);
				repl = xasprintf("%s: %s", key, d);
			}
		} else if (startswith(line, "vmgenid:") && r->new_vmgenid &&
			   !streq(value_of(line), "0")) {
			repl = xasprintf("vmgenid: %s", r->new_vmgenid);
		} else if (r->unique && key_is(line, "net")) {
			_cleanup_free_ char *v = net_with_mac(value_of(line), r);
			repl = xasprintf("%.*s: %s", (int)(strchr(line, ':') - line), line, v);
		} else if (r->unique && startswith(line, "smbios1:")) {
			_cleanup_free_ char *v = smbios_with_uuid(value_of(line), r);
			repl = xasprintf("smbios1: %s", v);
		} else if (r->name && startswith(line, r->ct ? "hostname:" : "name:")) {
			repl = xasprintf("%s: %s", r->ct ? "hostname" : "name", r->name);
			named = true;
		}
		if (!*line) { /* blank lines go out only before another line */
			blanks++;
			continue;
		}
		for (; blanks; blanks--)
			puts_(&o, "\n");
		puts_(&o, repl ? repl : line);
		puts_(&o, "\n");
	}
	if (r->name && !named) {
		puts_(&o, r->ct ? "hostname: " : "name: ");
		puts_(&o, r->name);
		puts_(&o, "\n");
	}
	return o.s;
}

char *vzdump_backup_config(const char *text, const struct vzdump_backup_disk *disks, size_t n)
{
	struct out o = {0};
	size_t blanks = 0;
	puts_(&o, "");
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		_cleanup_free_ char *line = xstrndup(s, len);
		s += len + (nl != NULL);
		if (line[0] == '[')
			break;
		if (startswith(line, "#qmdump#") || startswith(line, "lock:") ||
		    startswith(line, "parent:") || key_is(line, "unused"))
			continue;
		if (!*line) {
			blanks++;
			continue;
		}
		for (; blanks; blanks--)
			puts_(&o, "\n");
		puts_(&o, line);
		puts_(&o, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *m =
		    xasprintf("#qmdump#map:%s:drive-%s:%s:%s:\n", disks[i].key, disks[i].key,
			      disks[i].storage ? disks[i].storage : "",
			      disks[i].format ? disks[i].format : "");
		puts_(&o, m);
	}
	return o.s;
}
