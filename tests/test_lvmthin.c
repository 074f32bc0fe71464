/* test_lvmthin.c - the lvmthin and lvm backends without device-mapper: the exact
 * commands they run, the parsing of lvm2's JSON reports and qemu-img's info
 * (real captures in tests/lvm/reports/), garbage and failures, and the
 * backend's own errors where this host can give them (lvm2 tools missing, no
 * such volume group). The real thing runs in a guest: tests/lvm/run.sh.
 *
 * Usage: test_lvmthin REPORTS_DIR */
#include <string.h>

#include "lvm.h"
#include "storage.h"

static int passed, failed;
static const char *reports;

static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	ok ? passed++ : failed++;
}

static void check_str(const char *got, const char *want, const char *what)
{
	bool ok = streq(got, want);
	if (!ok)
		printf("# got:  '%s'\n# want: '%s'\n", got ? got : "(null)", want);
	check(ok, what);
}

static char *joined(char **argv)
{
	char *s = xstrdup("");
	for (size_t i = 0; argv[i]; i++) {
		char *n = xasprintf("%s%s%s", s, i ? " " : "", argv[i]);
		free(s);
		s = n;
	}
	lvm_argv_free(argv);
	return s;
}

static void test_commands(void)
{
	struct {
		char **argv;
		const char *want;
	} cases[] = {
	    {lvm_cmd_vgs(), "vgs --reportformat json --units b --nosuffix -o "
			    "vg_name,vg_size,vg_free,vg_extent_size"},
	    {lvm_cmd_lvs("pve"),
	     "lvs --reportformat json --units b --nosuffix -o "
	     "lv_name,vg_name,lv_size,segtype,pool_lv,origin,lv_tags,data_percent,metadata_"
	     "percent,lv_metadata_size pve"},
	    {lvm_cmd_create_thin("pve", "data", "home-alpine-virtio0", 34359738368ULL,
				 "labvirt:home/alpine/virtio0"),
	     "lvcreate -q -T pve/data -V 34359738368b -n home-alpine-virtio0 --addtag "
	     "labvirt:home/alpine/virtio0"},
	    {lvm_cmd_snapshot("pve", "home-base-0123456789abcdef", "home-b-scsi0",
			      "labvirt:home/b/scsi0"),
	     "lvcreate -q -s -kn -n home-b-scsi0 --addtag labvirt:home/b/scsi0 "
	     "pve/home-base-0123456789abcdef"},
	    {lvm_cmd_extend("pve", "home-b-scsi0", 1073741824ULL),
	     "lvextend -q -L 1073741824b pve/home-b-scsi0"},
	    {lvm_cmd_remove("pve", "home-b-scsi0"), "lvremove -q -f pve/home-b-scsi0"},
	    {lvm_cmd_image_info("/img/a b.qcow2", NULL),
	     "qemu-img info --output=json /img/a b.qcow2"},
	    {lvm_cmd_image_info("/dev/vg/vm-100-disk-0", "raw"),
	     "qemu-img info -f raw --output=json /dev/vg/vm-100-disk-0"},
	    {lvm_cmd_image_write("/img/x.qcow2", "qcow2", "/dev/pve/home-a-virtio0"),
	     "qemu-img convert -q -t none -n --target-is-zero -f qcow2 -O raw /img/x.qcow2 "
	     "/dev/pve/home-a-virtio0"},
	    /* lvm (thick): no --target-is-zero, an LV may hold an earlier one's data */
	    {lvm_cmd_image_write_all("/img/x.raw", "raw", "/dev/vg0/vm-100-disk-0"),
	     "qemu-img convert -q -t none -n -f raw -O raw /img/x.raw /dev/vg0/vm-100-disk-0"},
	    {lvm_cmd_create_thick("vg0", "vm-100-disk-0", 4294967296ULL, "labvirt:home/db/scsi0"),
	     "lvcreate -q -aly -Wy --yes -L 4294967296b -n vm-100-disk-0 --addtag "
	     "labvirt:home/db/scsi0 vg0"},
	    {lvm_cmd_activate("vg0", "vm-100-disk-0"), "lvchange -q -aly vg0/vm-100-disk-0"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = joined(cases[i].argv);
		_cleanup_free_ char *what = xasprintf("command: %.40s...", cases[i].want);
		check_str(got, cases[i].want, what);
	}
	char **v = lvm_cmd_image_info("/img/a b.qcow2", NULL);
	check(streq(v[3], "/img/a b.qcow2") && !v[4], "a path with a blank is one argument");
	lvm_argv_free(v);
}

static char *report(const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", reports, name);
	char *s = lv_read_file(path, NULL);
	if (!s) {
		printf("# cannot read %s\n", path);
		return xstrdup("");
	}
	return s;
}

static void test_lvs_report(void)
{
	_cleanup_free_ char *json = report("lvs.json");
	struct lvm_lv *lvs = NULL;
	size_t n = 0;
	struct lv_error err = {0};
	int rc = lvm_parse_lvs(json, &lvs, &n, &err);
	check(rc == 0 && n == 5, "lvs.json (captured in the test guest): 5 LVs");
	if (rc < 0 || n != 5) {
		printf("# %s\n", err.msg);
		return;
	}
	const struct lvm_lv *pool = lvm_find_lv(lvs, n, "pool");
	check(pool && streq(pool->segtype, "thin-pool") && pool->size == 50331648 &&
		  pool->data_pct == 2.08 && pool->meta_pct == 11.04 && pool->meta_size == 4194304 &&
		  !pool->pool[0],
	      "the pool: thin-pool, 48 MiB, data 2.08%, metadata 11.04% of 4 MiB");
	const struct lvm_lv *plain = lvm_find_lv(lvs, n, "plain");
	check(plain && streq(plain->segtype, "linear") && plain->data_pct == -1 &&
		  plain->meta_pct == -1 && plain->meta_size == 0 && streq(plain->tags, ""),
	      "a linear LV: empty percentages read as -1, no tags");
	const struct lvm_lv *snap = lvm_find_lv(lvs, n, "t-x-virtio0");
	check(snap && streq(snap->origin, "t-base-23ea0835d3ead955") && streq(snap->pool, "pool") &&
		  streq(snap->vg, "lvt") && snap->size == 20971520 && snap->data_pct == 5.0,
	      "a thin snapshot: its origin, pool and size");
	check(snap && lvm_lv_has_tag(snap, "labvirt:t/x/virtio0") &&
		  !lvm_lv_has_tag(snap, "labvirt:t/x/virtio") &&
		  !lvm_lv_has_tag(snap, "labvirt:t/x/virtio00") && !lvm_lv_has_tag(snap, ""),
	      "tags compare whole, not as prefixes");
	const struct lvm_lv *base = lvm_find_lv(lvs, n, "t-base-23ea0835d3ead955");
	check(base && lvm_lv_has_tag(base, "labvirt-base:t") && !base->origin[0],
	      "the base volume and its tag");
	check(!lvm_find_lv(lvs, n, "t-x") && !lvm_find_lv(lvs, n, ""), "no LV found by a prefix");
	lvm_lvs_free(lvs, n);

	struct lvm_lv l = {.tags = "a,labvirt:x/y/z,b"};
	check(lvm_lv_has_tag(&l, "labvirt:x/y/z") && lvm_lv_has_tag(&l, "a") &&
		  lvm_lv_has_tag(&l, "b") && !lvm_lv_has_tag(&l, "a,labvirt:x/y/z"),
	      "several tags, comma-separated");
}

static void test_vgs_report(void)
{
	_cleanup_free_ char *json = report("vgs.json");
	_cleanup_free_ char *none = report("vgs-none.json");
	struct lvm_vg *vgs = NULL;
	size_t n = 0;
	struct lv_error err = {0};
	int rc = lvm_parse_vgs(json, &vgs, &n, &err);
	check(rc == 0 && n == 1 && streq(vgs[0].name, "lvt") && vgs[0].size == 130023424 &&
		  vgs[0].free == 62914560 && vgs[0].extent == 4194304,
	      "vgs.json (captured in the test guest): lvt, its sizes and extent");
	free(vgs);
	vgs = NULL;
	rc = lvm_parse_vgs(none, &vgs, &n, &err);
	check(rc == 0 && n == 0, "vgs-none.json (captured on a host without VGs): no VG");
	free(vgs);
}

static void expect_lvs_error(const char *json, const char *want, const char *what)
{
	struct lvm_lv *lvs = (struct lvm_lv *)&lvs; /* must stay untouched */
	size_t n = 77;
	struct lv_error err = {0};
	int rc = lvm_parse_lvs(json, &lvs, &n, &err);
	bool ok = rc < 0 && lvs == (struct lvm_lv *)&lvs && n == 77;
	check_str(ok ? err.msg : "(parsed)", want, what);
}

#define ROW                                                                                        \
	"\"lv_name\":\"a\", \"vg_name\":\"v\", \"lv_size\":\"%s\", \"segtype\":\"thin\", "         \
	"\"pool_lv\":\"p\", \"origin\":\"\", \"lv_tags\":\"\", \"data_percent\":\"%s\", "          \
	"\"metadata_percent\":\"\", \"lv_metadata_size\":\"\""

static char *lvs_json(const char *size, const char *pct)
{
	_cleanup_free_ char *row = xasprintf("{" ROW "}", size, pct);
	return xasprintf("{\"report\":[{\"lv\":[%s]}]}", row);
}

static void test_garbage(void)
{
	_cleanup_free_ char *good = lvs_json("1048576", "1.5");
	struct lvm_lv *lvs = NULL;
	size_t n = 0;
	struct lv_error err = {0};
	check(lvm_parse_lvs(good, &lvs, &n, &err) == 0 && n == 1 && lvs[0].size == 1048576 &&
		  lvs[0].data_pct == 1.5,
	      "a hand-made row parses (the base of the cases below)");
	lvm_lvs_free(lvs, n);

	expect_lvs_error("", "cannot parse lvs report: unexpected character at offset 0",
			 "empty output");
	expect_lvs_error("  Volume group \"pve\" not found\n",
			 "cannot parse lvs report: unexpected character at offset 2",
			 "an lvm2 message instead of a report");
	_cleanup_free_ char *full = report("lvs.json");
	full[strlen(full) / 2] = '\0';
	expect_lvs_error(full, "cannot parse lvs report: unterminated string at offset 631",
			 "a report cut in half");
	expect_lvs_error("{\"report\":[{\"lv\":[]}]} x",
			 "cannot parse lvs report: trailing text after the report at offset 23",
			 "trailing text");
	expect_lvs_error("{\"log\":[]}", "cannot parse lvs report: no \"report\" list",
			 "no report");
	expect_lvs_error("{\"report\":[{\"vg\":[]}]}", "cannot parse lvs report: no \"lv\" list",
			 "a vgs report where an lvs one is expected");
	expect_lvs_error("{\"report\":[{\"lv\":[{\"lv_name\":\"a\"}]}]}",
			 "cannot parse lvs report: row without field 'vg_name'",
			 "a row without the fields asked for");
	expect_lvs_error("{\"report\":[{\"lv\":[{\"lv_name\":1}]}]}",
			 "cannot parse lvs report: row without field 'lv_name'",
			 "a field that is not a string");
	_cleanup_free_ char *suffix = lvs_json("1.00g", "");
	expect_lvs_error(suffix,
			 "cannot parse lvs report: lv_size '1.00g' is not a number of bytes",
			 "a size with a unit (no --units b --nosuffix)");
	_cleanup_free_ char *huge = lvs_json("99999999999999999999", "");
	expect_lvs_error(huge,
			 "cannot parse lvs report: lv_size '99999999999999999999' is not a number "
			 "of bytes",
			 "a size past 64 bits");
	_cleanup_free_ char *pct = lvs_json("1", "12.5%");
	expect_lvs_error(pct, "cannot parse lvs report: data_percent '12.5%' is not a percentage",
			 "a percentage with its sign");
	_cleanup_free_ char *over = lvs_json("1", "100.01");
	check(lvm_parse_lvs(over, &lvs, &n, &err) == 0 && lvs[0].data_pct > 100,
	      "100.01% parses (an over-full pool is reported, not refused)");
	lvm_lvs_free(lvs, n);
	_cleanup_free_ char *way = lvs_json("1", "1000");
	expect_lvs_error(way, "cannot parse lvs report: data_percent '1000' is not a percentage",
			 "a percentage past 100 by far");
	char deep[64] = "";
	for (int i = 0; i < 20; i++)
		strcat(deep, "[");
	expect_lvs_error(deep, "cannot parse lvs report: nested too deeply at offset 17",
			 "nesting too deep");
	expect_lvs_error("{\"report\":[{\"lv\":[{\"lv_name\":\"a\\q\"}]}]}",
			 "cannot parse lvs report: bad escape in string at offset 33",
			 "a bad escape");
	expect_lvs_error("{\"report\" [] }", "cannot parse lvs report: expected ':' at offset 11",
			 "a missing colon");
	expect_lvs_error(NULL, "cannot parse lvs report: unexpected character at offset 0",
			 "no output at all");
}

static void expect_image(const char *file, const char *format, uint64_t size, bool backing,
			 bool data_file)
{
	_cleanup_free_ char *json = report(file);
	struct lvm_image img = {0};
	struct lv_error err = {0};
	int rc = lvm_parse_image_info(json, &img, &err);
	_cleanup_free_ char *what =
	    xasprintf("%s (captured from qemu-img info): %s, %llu bytes%s%s", file, format,
		      (unsigned long long)size, backing ? ", backing file" : "",
		      data_file ? ", data file" : "");
	check(rc == 0 && streq(img.format, format) && img.virtual_size == size &&
		  img.backing == backing && img.data_file == data_file,
	      what);
}

static void test_image_info(void)
{
	expect_image("info-raw.json", "raw", 4194304, false, false);
	expect_image("info-qcow2.json", "qcow2", 16777216, false, false);
	expect_image("info-qcow2-backing.json", "qcow2", 16777216, true, false);
	expect_image("info-qcow2-datafile.json", "qcow2", 8388608, false, true);
	struct lvm_image img;
	struct lv_error err = {0};
	lvm_parse_image_info("{\"format\":\"raw\",\"virtual-size\":-1}", &img, &err);
	check_str(err.msg, "cannot parse qemu-img info: no \"virtual-size\"",
		  "image info: a negative size");
	lvm_parse_image_info("{\"virtual-size\":1}", &img, &err);
	check_str(err.msg, "cannot parse qemu-img info: no \"format\"", "image info: no format");
	lvm_parse_image_info("qemu-img: Could not open 'x'", &img, &err);
	check_str(err.msg, "cannot parse qemu-img info: unexpected character at offset 0",
		  "image info: an error message instead");
}

static void test_names(void)
{
	_cleanup_free_ char *a = lvm_base_name("home", "/img/a.qcow2:100:5.000000000");
	_cleanup_free_ char *b = lvm_base_name("home", "/img/a.qcow2:100:6.000000000");
	/* FNV-1a 64 of "" is its offset basis. */
	_cleanup_free_ char *e = lvm_base_name("lab", "");
	check_str(e, "lab-base-cbf29ce484222325", "base name: FNV-1a 64 of the key");
	check(startswith(a, "home-base-") && strlen(a) == 26 && !streq(a, b),
	      "base name: another mtime, another base");
	char buf[32];
	struct {
		uint64_t n;
		const char *want;
	} sizes[] = {{0, "0 B"},
		     {1023, "1023 B"},
		     {1024, "1.0 KiB"},
		     {50331648, "48.0 MiB"},
		     {75497472, "72.0 MiB"},
		     {34359738368ULL, "32.0 GiB"},
		     {UINT64_MAX, "16384.0 PiB"}};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		lvm_size_text(sizes[i].n, buf);
		check_str(buf, sizes[i].want, "size text");
	}
}

/* The backend itself, where this host can answer without device-mapper. */
static void test_backend_errors(void)
{
	struct lab_storage s = {
	    .id = "local-lvm", .type = STORAGE_LVMTHIN, .vgname = "labvirt-no-vg", .thinpool = "d"};
	struct storage_vol v = {.storage = &s,
				.path = "/dev/labvirt-no-vg/home-a-virtio0",
				.owner = "home/a/virtio0",
				.size = 1 << 20};
	struct lv_error err = {0};
	char *note = NULL;
	const struct storage_backend *b = storage_backend_for(&s, &err);
	check(b == &storage_lvmthin_backend && streq(b->type, "lvmthin"),
	      "storage_backend_for(lvmthin) is the lvmthin backend");
	_cleanup_free_ char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", "/nonexistent", 1);
	int rc = storage_check(&s, &v, 1, &note, &err);
	setenv("PATH", path, 1);
	check_str(rc < 0 ? err.msg : "(passed)",
		  "lvmthin storage 'local-lvm': lvm2 tools missing: no 'vgs' in PATH (install lvm2 "
		  "and thin-provisioning-tools)",
		  "check: lvm2 tools missing");
	if (system("command -v vgs >/dev/null 2>&1") != 0) {
		printf("# lvm2 is not installed here: the real lvm2 cases run in tests/lvm\n");
		return;
	}
	rc = storage_check(&s, &v, 1, &note, &err);
	const char *want = geteuid() == 0
			       ? "lvmthin storage 'local-lvm': no volume group 'labvirt-no-vg'"
			       : "lvmthin storage 'local-lvm': permission denied: lvm2 needs root "
				 "(vgs)";
	check_str(rc < 0 ? err.msg : "(passed)", want,
		  geteuid() == 0 ? "check with the real vgs: no such volume group"
				 : "check with the real vgs as non-root: permission denied");
	check(rc < 0 && err.code == (geteuid() == 0 ? LV_EXIT_USAGE : LV_EXIT_FAIL) && !note,
	      "... with its exit code, and no note");
	bool exists = true, foreign = true;
	rc = storage_query(&v, &exists, &foreign, &err);
	check(rc < 0 && (strstr(err.msg, "labvirt-no-vg") || strstr(err.msg, "permission")),
	      "query with the real vgs fails the same way");
	if (geteuid() == 0)
		check(storage_remove(&v, &err) == 0,
		      "remove with no such volume group: nothing to remove");
}

/* The lvm (thick) backend, the same way. */
static void test_lvm_backend_errors(void)
{
	struct lab_storage s = {.id = "vgstore", .type = STORAGE_LVM, .vgname = "labvirt-no-vg"};
	struct storage_vol v = {.storage = &s,
				.path = "/dev/labvirt-no-vg/vm-100-disk-0",
				.owner = "home/a/scsi0",
				.size = 1 << 20};
	struct lv_error err = {0};
	char *note = NULL;
	const struct storage_backend *b = storage_backend_for(&s, &err);
	check(b == &storage_lvm_backend && streq(b->type, "lvm"),
	      "storage_backend_for(lvm) is the lvm backend");
	_cleanup_free_ char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", "/nonexistent", 1);
	int rc = storage_check(&s, &v, 1, &note, &err);
	setenv("PATH", path, 1);
	check_str(rc < 0 ? err.msg : "(passed)",
		  "lvm storage 'vgstore': lvm2 tools missing: no 'vgs' in PATH (install the Debian "
		  "package lvm2)",
		  "lvm check: lvm2 tools missing names the package");
	if (system("command -v vgs >/dev/null 2>&1") != 0)
		return;
	rc = storage_check(&s, &v, 1, &note, &err);
	const char *want = geteuid() == 0
			       ? "lvm storage 'vgstore': no volume group 'labvirt-no-vg'"
			       : "lvm storage 'vgstore': permission denied: lvm2 needs root (vgs)";
	check_str(rc < 0 ? err.msg : "(passed)", want, "lvm check with the real vgs");
	check(rc < 0 && err.code == (geteuid() == 0 ? LV_EXIT_USAGE : LV_EXIT_FAIL) && !note,
	      "... with its exit code, and no note");
	struct storage_usage u;
	check(storage_usage(&s, &u, &err) < 0 && strstr(err.msg, "lvm storage 'vgstore'"),
	      "lvm usage fails the same way");
	if (geteuid() == 0)
		check(storage_remove(&v, &err) == 0,
		      "lvm remove with no such volume group: nothing to remove");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s REPORTS_DIR\n", argv[0]);
		return 2;
	}
	reports = argv[1];
	test_commands();
	test_lvs_report();
	test_vgs_report();
	test_garbage();
	test_lvm_backend_errors();
	test_image_info();
	test_names();
	test_backend_errors();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
