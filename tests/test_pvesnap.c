/* test_pvesnap.c - pvesnap.c: snapshot sections taken, rolled back to and deleted, as
 * Proxmox writes them, against golden files (the .golden files in tests/snapshot;
 * LABVIRT_REGENERATE=1 rewrites them).
 *
 *   test_pvesnap DIR   (DIR: tests/snapshot) */
#include <string.h>

#include "pvesnap.h"
#include "tap.h"

static const char *dir;

static void golden(const char *name, const char *got)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	if (!got) {
		check(false, "%s: no output", name);
		return;
	}
	if (getenv("LABVIRT_REGENERATE")) {
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(got, f);
			fclose(f);
		}
	}
	_cleanup_free_ char *want = lv_read_file(path, NULL);
	check(want && streq(want, got), "%s matches", name);
	if (want && !streq(want, got))
		printf("# got:\n%s# want:\n%s", got, want);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	_cleanup_free_ char *path = xasprintf("%s/guest.conf", dir);
	_cleanup_free_ char *text = lv_read_file(path, NULL);
	struct lv_error err = {0};
	if (!text) {
		printf("not ok - read %s\n", path);
		return 1;
	}
	_cleanup_free_ char *one = pvesnap_take(
	    text, "104.conf", "first", "before: the upgrade\nstep 1", 1714672800, NULL, &err);
	golden("take-first.golden", one);
	_cleanup_free_ char *two = pvesnap_take(one, "104.conf", "second", NULL, 1714676400,
						"local:104/vm-104-state-second.raw", &err);
	golden("take-second.golden", two);
	_cleanup_free_ char *back = pvesnap_rollback(two, "104.conf", "first", &err);
	golden("rollback-first.golden", back);
	_cleanup_free_ char *del = pvesnap_delete(two, "104.conf", "first", &err);
	golden("delete-first.golden", del);

	struct pvesnap *s = NULL;
	size_t n = 0;
	_cleanup_free_ char *parent = NULL;
	check(pvesnap_list(two, "104.conf", &s, &n, &parent, &err) == 0 && n == 2 &&
		  streq(s[0].name, "first") && !s[0].parent && s[0].snaptime == 1714672800 &&
		  !s[0].vmstate && streq(s[0].description, "before: the upgrade\nstep 1") &&
		  streq(s[1].name, "second") && streq(s[1].parent, "first") && s[1].vmstate &&
		  !s[1].description && parent && streq(parent, "second"),
	      "list: two snapshots, their parents, times, vmstate, descriptions");
	pvesnap_free(s, n);

	char *bad = pvesnap_take(one, "104.conf", "first", NULL, 1, NULL, &err);
	check(!bad && streq(err.msg, "104.conf: snapshot name 'first' already used"),
	      "a name taken: %s", err.msg);
	bad = pvesnap_take(text, "104.conf", "current", NULL, 1, NULL, &err);
	check(!bad && err.code == LV_EXIT_USAGE, "current is reserved: %s", err.msg);
	bad = pvesnap_take(text, "104.conf", "9lives", NULL, 1, NULL, &err);
	check(!bad && err.code == LV_EXIT_USAGE, "a name must start with a letter");
	bad = pvesnap_take("cores: 1\nlock: backup\n", "104.conf", "x1", NULL, 1, NULL, &err);
	check(!bad && streq(err.msg, "104.conf: the guest is locked (backup)"), "locked: %s",
	      err.msg);
	bad = pvesnap_rollback(two, "104.conf", "third", &err);
	check(!bad && streq(err.msg, "104.conf: no snapshot 'third'"), "rollback to none: %s",
	      err.msg);
	bad = pvesnap_delete(two, "104.conf", "third", &err);
	check(!bad && streq(err.msg, "104.conf: no snapshot 'third'"), "delete of none");
	check(pvesnap_valid_name("a-1_b") && !pvesnap_valid_name("a") &&
		  !pvesnap_valid_name("with space") && !pvesnap_valid_name("Pending"),
	      "Proxmox's snapshot name rule");
	return tap_summary();
}
