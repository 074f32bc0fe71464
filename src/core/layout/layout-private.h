/* layout-private.h - what the files of src/core/layout/ share: the parser's
 * state, text helpers and the key handlers' types. Not a public header. */
#ifndef LAYOUT_PRIVATE_H
#define LAYOUT_PRIVATE_H

#include <stdarg.h>

#include "layout.h"

#define LINE_MAX_BYTES 4096
#define FILE_MAX_BYTES (1024 * 1024)
#define QUOTE_MAX      64 /* bytes of user text quoted in a message */
#define QUOTE_BUF      (QUOTE_MAX + 6)
#define MAX_PROPS      32
#define MAX_VCPUS      512
#define NAME_RULE      "(labels of A-Z, a-z, 0-9 and inner '-', joined by '.')"
#define DNS_RULE       "(1..63 of a-z, 0-9 and '-', not starting or ending with '-')"

#define LOWER  "abcdefghijklmnopqrstuvwxyz"
#define UPPER  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
#define HEX    DIGITS "abcdefABCDEF"

#define Q(s)                           quote((char[QUOTE_BUF]){0}, (s))
#define PICK(p, line, label, v, names) pick(p, line, label, v, names, ARRAY_SIZE(names))

struct guest_note {
	int name_line; /* line of name:, 0 when named after the file */
	int uuid_line; /* line of smbios1 with a uuid, or 0 */
};

struct parser {
	const char *dir;
	char *abs_dir; /* dir made absolute: libvirt takes only absolute paths */
	struct lab *lab;
	struct lv_diag *diags;
	const char *file;         /* the file being read, for messages */
	bool have_cfg;            /* lab.cfg was read: storage and bridge names can be checked */
	bool reading_storage_cfg; /* storage.cfg, read before lab.cfg, is being read */
	struct guest_note *notes; /* beside lab->guests while reading */
	/* lab_load_with: a guest file not on disk, read as the lab's file staged_name */
	const char *staged_name, *staged_text, *staged_where;
};

/* Key and line of each key seen in a stanza or a guest file. */
struct keyline {
	char *key;
	int line;
};
struct keylines {
	struct keyline *v;
	size_t n;
};

typedef void line_fn(struct parser *p, void *ctx, int no, char *line);

struct subnet {
	uint32_t host, net, bcast;
	int prefix;
};

/* "virtio=52:54:00:12:34:56,bridge=vmbr0" split; k is NULL for a bare first item. */
struct prop {
	const char *k, *v;
};
struct props {
	char *buf;
	struct prop items[MAX_PROPS];
	size_t n;
};

struct conf_state {
	enum lab_kind kind; /* a VM's file (qemu-server) or a container's (lxc) */
	struct lab_guest *g;
	struct guest_note *note;
	struct keylines keys;         /* every known key of the file, for duplicates and boot */
	bool section;                 /* after a [section]: the rest is not the guest's config */
	struct lab_guest scratch;     /* a section's keys land here and are dropped */
	struct keylines section_keys; /* a section's keys, for duplicates */
};

/* A property of a key's property string, for props_check(). */
enum prop_type { PT_BOOL, PT_UINT, PT_NUM, PT_ENUM, PT_SIZE, PT_STR };
struct prop_spec {
	const char *name;
	enum prop_type type;
	uint64_t min, max;        /* PT_UINT */
	const char *const *names; /* PT_ENUM: NULL-terminated */
};

/* Entries of a struct prop_spec table. */
#define BOOL(n)                                                                                    \
	{                                                                                          \
		n, PT_BOOL, 0, 0, NULL                                                             \
	}
#define UINT(n, lo, hi)                                                                            \
	{                                                                                          \
		n, PT_UINT, lo, hi, NULL                                                           \
	}
#define NUM(n)                                                                                     \
	{                                                                                          \
		n, PT_NUM, 0, 0, NULL                                                              \
	}
#define ENUM(n, list)                                                                              \
	{                                                                                          \
		n, PT_ENUM, 0, 0, list                                                             \
	}
#define SIZE(n)                                                                                    \
	{                                                                                          \
		n, PT_SIZE, 0, 0, NULL                                                             \
	}
#define STR(n)                                                                                     \
	{                                                                                          \
		n, PT_STR, 0, 0, NULL                                                              \
	}
#define CHECK(pr, specs)            props_check(p, line, key, pr, 0, specs, ARRAY_SIZE(specs))
#define CHECK_FROM(pr, from, specs) props_check(p, line, key, pr, from, specs, ARRAY_SIZE(specs))

typedef void conf_fn(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v);

/* text.c */
bool is_text(const char *s, size_t n, bool tabs);
const char *quote(char *buf, const char *s);
bool is_space(char c);
bool is_digit(char c);
char *trim(char *s);
bool is_all(const char *s, const char *set);
void set_str(char **dst, const char *v);
void __attribute__((format(printf, 3, 4))) diag(struct parser *p, int line, const char *fmt, ...);
int find_name(const char *const *names, size_t n, const char *s);
int pick(struct parser *p, int line, const char *label, const char *v, const char *const *names,
	 size_t n);
int parse01(struct parser *p, int line, const char *label, const char *v, bool *ret);
int parse_uint(struct parser *p, int line, const char *label, const char *v, uint64_t min,
	       uint64_t max, const char *unit, uint64_t *ret);
int keylines_find(const struct keylines *k, const char *key);
void keylines_add(struct keylines *k, const char *key, int line);
void keylines_free(struct keylines *k);
char *read_layout_file(struct parser *p, size_t *ret_len);
void for_each_line(struct parser *p, const char *buf, size_t len, line_fn *fn, void *ctx);
bool is_skipped(const char *line);
char *lab_relative(const struct parser *p, const char *v);
void props_free(struct props *pr);
int props_parse(struct parser *p, int line, const char *key, const char *v, struct props *pr);
void unsupported(struct parser *p, int line, const char *key, const char *prop);
const char *props_get(const struct props *pr, const char *name);
bool is_number(const char *s);
bool is_proxmox_size(const char *s);
/* Checks items from..n-1 of pr against specs: each a name=value of a known
 * name and a valid value; -1 (reported) otherwise. */
int props_check(struct parser *p, int line, const char *key, const struct props *pr, size_t from,
		const struct prop_spec *specs, size_t n);
/* A host-bound device or key labvirt cannot give: an error naming why, unless the
 * lab says `host-devices skip` (then it is left out). Returns false. */
bool host_bound(struct parser *p, int line, const char *key, const char *why);

/* values.c */
bool parse_ipv4(const char *s, size_t n, uint32_t *ret);
void ipv4_str(uint32_t a, char ret[16]);
int parse_cidr(const char *s, struct subnet *ret);

/* cfg.c */
bool is_file_name(const char *s);
void image_drop(struct lab_image *im);
void storage_drop(struct lab_storage *s);
void bridge_drop(struct lab_bridge *b);
void read_cfg(struct parser *p);

/* ct.c */
conf_fn *ct_handler(const char *key);
void ct_check(struct parser *p, const struct conf_state *st);

/* keys.c */
bool disk_key(const char *key, enum lab_bus *ret_bus, int *ret_index);
bool net_key(const char *key, int *ret_index);
void conf_line(struct parser *p, void *ctx, int no, char *line);
void section_end(struct conf_state *st);

/* guest.c */
void conf_name(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_description(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v);
void conf_ostype(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_onboot(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_agent(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_machine(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_vga(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_graphics(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_cores(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_sockets(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_memory(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_boot(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_kernel(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_initrd(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_cmdline(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);

/* cloudinit.c */
void conf_ciuser(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_cipassword(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v);
void conf_sshkeys(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_nameserver(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v);
void conf_searchdomain(struct parser *p, struct conf_state *st, const char *key, int line,
		       const char *v);
void conf_citype(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_cicustom(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_ipconfig(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
struct ip_conf {
	char **ip, **gw, **ip6, **gw6;
};
bool ip_property(struct parser *p, int line, const char *key, const char *k, const char *val,
		 struct ip_conf *ic, bool manual);
void ip_check(struct parser *p, int line, const char *key, const struct ip_conf *ic);

/* net.c */
bool parse_mac(const char *s, char ret[18]);
void conf_net(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);

/* disk.c */
int parse_gib(const char *s, uint64_t *ret_mib);
uint64_t size_bytes(const char *v);
bool storage_usable(struct parser *p, int line, const char *key, const struct lab_storage *s);
void conf_disk(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);

/* assemble.c */
char *guest_where(const struct lab_guest *g, int line);
void guest_free(struct lab_guest *g);
void read_guest(struct parser *p, const char *fname);

/* hardware.c */
void conf_flag(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_cpu(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_numa_cell(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v);
void conf_balloon(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_shares(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_bios(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_efidisk(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_tpmstate(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_scsihw(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_vcpus(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_cpulimit(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_cpuunits(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_affinity(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_hugepages(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v);
void conf_vmgenid(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_keyboard(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_arch(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_startup(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);

void conf_smbios1(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);

/* devices.c */
void conf_rng(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_watchdog(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_audio(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_serial(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_parallel(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_usb(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_hostpci(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_virtiofs(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_ivshmem(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_spice(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_args(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_hookscript(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v);
void conf_amd_sev(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);

/* guest.c */
bool parse_uuid(const char *s, char ret[37]);
void conf_meta(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_digest(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_lock(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_tags(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_unused(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
bool is_snapshot_name(const char *s);
void conf_parent(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_storage_ref(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v);
void conf_number(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_startdate(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v);
void conf_hotplug(struct parser *p, struct conf_state *st, const char *key, int line,
		  const char *v);
void conf_smp(struct parser *p, struct conf_state *st, const char *key, int line, const char *v);
void conf_snaptime(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);
void conf_snapshot_state(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v);

void conf_bootdisk(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v);

/* disk.c */
int parse_gib(const char *s, uint64_t *ret_mib);
uint64_t size_bytes(const char *v);
bool storage_usable(struct parser *p, int line, const char *key, const struct lab_storage *s);
char *storage_volume_path(struct parser *p, int line, const char *key, const struct lab_storage *s,
			  const char *vol);

#endif
