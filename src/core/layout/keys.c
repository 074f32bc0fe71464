/* layout/keys.c - keys: the one table of guest keys (each handler lives beside its concern:
 * guest.c, cloudinit.c, net.c, disk.c) and the reading of a guest file's lines. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

static bool indexed_key(const char *key, const char *prefix, int max, int *ret_index)
{
	size_t n = strlen(prefix);
	const char *num = key + n;
	if (strncmp(key, prefix, n) != 0 || !is_all(num, DIGITS) || (num[0] == '0' && num[1]) ||
	    strlen(num) > 2 || atoi(num) > max)
		return false;
	*ret_index = atoi(num);
	return true;
}

static const struct {
	const char *prefix;
	int max;
} DISK_BUSES[] = {[BUS_VIRTIO] = {"virtio", 15},
		  [BUS_SCSI] = {"scsi", 30},
		  [BUS_SATA] = {"sata", 5},
		  [BUS_IDE] = {"ide", 3}};

bool disk_key(const char *key, enum lab_bus *ret_bus, int *ret_index)
{
	for (size_t b = 0; b < ARRAY_SIZE(DISK_BUSES); b++)
		if (indexed_key(key, DISK_BUSES[b].prefix, DISK_BUSES[b].max, ret_index)) {
			*ret_bus = (enum lab_bus)b;
			return true;
		}
	return false;
}

bool net_key(const char *key, int *ret_index)
{
	return indexed_key(key, "net", LAB_MAX_NETS - 1, ret_index);
}
/* ---- <guest>.conf: lines ---- */

static const struct {
	const char *key;
	conf_fn *set;
} CONF_KEYS[] = {
    {"name", conf_name},
    {"description", conf_description},
    {"ostype", conf_ostype},
    {"onboot", conf_onboot},
    {"agent", conf_agent},
    {"machine", conf_machine},
    {"vga", conf_vga},
    {"graphics", conf_graphics},
    {"cores", conf_cores},
    {"sockets", conf_sockets},
    {"memory", conf_memory},
    {"smbios1", conf_smbios1},
    {"boot", conf_boot},
    {"serial0", conf_serial0},
    {"kernel", conf_kernel},
    {"initrd", conf_initrd},
    {"cmdline", conf_cmdline},
    {"ciuser", conf_ciuser},
    {"cipassword", conf_cipassword},
    {"sshkeys", conf_sshkeys},
    {"nameserver", conf_nameserver},
    {"searchdomain", conf_searchdomain},
    {"cicustom", conf_cicustom},
    {"citype", conf_citype},
};

static conf_fn *conf_handler(const char *key)
{
	enum lab_bus bus;
	int index;
	for (size_t i = 0; i < ARRAY_SIZE(CONF_KEYS); i++)
		if (streq(CONF_KEYS[i].key, key))
			return CONF_KEYS[i].set;
	if (disk_key(key, &bus, &index))
		return conf_disk;
	if (net_key(key, &index))
		return conf_net;
	if (indexed_key(key, "ipconfig", LAB_MAX_NETS - 1, &index))
		return conf_ipconfig;
	return NULL;
}

void conf_line(struct parser *p, void *ctx, int no, char *line)
{
	struct conf_state *st = ctx;
	if (st->stopped || is_skipped(line))
		return;
	char *key = trim(line);
	if (key[0] == '[') {
		diag(p, no, "snapshot sections are not supported");
		st->stopped = true;
		return;
	}
	size_t klen = strspn(key, LOWER DIGITS "_-");
	if (klen == 0 || key[klen] != ':') {
		diag(p, no, "%s is not a 'key: value' line", Q(key));
		return;
	}
	key[klen] = '\0';
	const char *value = trim(key + klen + 1);
	conf_fn *set = conf_handler(key);
	int first = keylines_find(&st->keys, key);
	if (!set)
		diag(p, no, "unknown key %s", Q(key));
	else if (first)
		diag(p, no, "duplicate key %s (first on line %d)", Q(key), first);
	else if (!*value)
		diag(p, no, "%s: missing value", key);
	if (!set || first)
		return;
	keylines_add(&st->keys, key, no);
	if (*value)
		set(p, st, key, no, value);
}
