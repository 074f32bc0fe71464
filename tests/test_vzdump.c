/* test_vzdump.c - vzdump.c: archive names, the map lines, and the configs restore
 * and backup write, against golden files (the .golden files in tests/vzdump; LABVIRT_REGENERATE=1
 * rewrites them).
 *
 *   test_vzdump DIR   (DIR: tests/vzdump) */
#include <string.h>

#include "tap.h"
#include "vzdump.h"

static const char *dir;

static void golden(const char *name, const char *got)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
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

static int counter;
static char buf[64];
static const char *fake_mac(void *opaque)
{
	(void)opaque;
	snprintf(buf, sizeof(buf), "BC:24:11:00:00:%02X", ++counter);
	return buf;
}
static const char *fake_uuid(void *opaque)
{
	(void)opaque;
	snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-0000000000%02x", ++counter);
	return buf;
}

static void names(void)
{
	struct vzdump_name n;
	check(vzdump_parse_name("/x/vzdump-qemu-104-2024_05_02-18_00_00.vma.zst", &n) == 0 &&
		  n.kind == KIND_VM && n.vmid == 104 && streq(n.stamp, "2024_05_02-18_00_00"),
	      "a VM's .vma.zst name parses");
	check(vzdump_parse_name("vzdump-lxc-101-2024_05_02-18_00_00.tar.gz", &n) == 0 &&
		  n.kind == KIND_CT && n.vmid == 101,
	      "a CT's .tar.gz name parses");
	check(vzdump_parse_name("vzdump-qemu-104-2024_05_02-18_00_00.vma", &n) == 0,
	      "an uncompressed .vma parses");
	check(vzdump_parse_name("vzdump-qemu-104-2024_05_02-18_00_00.tar.zst", &n) < 0,
	      "a VM's name with .tar is refused");
	check(vzdump_parse_name("vzdump-lxc-101-2024_05_02-18_00_00.vma", &n) < 0,
	      "a CT's name with .vma is refused");
	check(vzdump_parse_name("vzdump-qemu-99-2024_05_02-18_00_00.vma", &n) < 0,
	      "VMID below 100 is refused");
	check(vzdump_parse_name("vzdump-qemu-104-2024_05_02.vma", &n) < 0,
	      "a short date is refused");
	check(vzdump_parse_name("vzdump-qemu-104-2024_05_02-18_00_00.vma.zst.notes", &n) < 0,
	      "the .notes file is not an archive");
	_cleanup_free_ char *b = vzdump_base_name(KIND_VM, 104, 1714672800);
	check(streq(b, "vzdump-qemu-104-2024_05_02-18_00_00"), "base name of a time: %s", b);
}

static void maps(const char *text)
{
	struct vzdump_map *m = NULL;
	size_t n = 0;
	struct lv_error err = {0};
	check(vzdump_maps(text, "guest.conf", &m, &n, &err) == 0 && n == 3 &&
		  streq(m[1].virtdev, "scsi0") && streq(m[1].devname, "drive-scsi0") &&
		  streq(m[1].storage, "local-lvm") && streq(m[1].format, "raw") &&
		  streq(m[2].format, "qcow2"),
	      "three map lines read");
	free(m);
	m = NULL;
	check(vzdump_maps("cores: 1\n#qmdump#map:scsi0:drive-scsi0:local\n", "x.conf", &m, &n,
			  &err) < 0 &&
		  streq(err.msg,
			"x.conf:2: not a map line (#qmdump#map:DRIVE:DEVICE:STORAGE:FORMAT:)"),
	      "a short map line: %s", err.msg);
	check(vzdump_maps("#qmdump#map:scsi0:drive-scsi0:::\n#qmdump#map:scsi0:drive-scsi1:::\n",
			  "x.conf", &m, &n, &err) < 0 &&
		  streq(err.msg, "x.conf:2: drive scsi0 or device drive-scsi1 mapped twice"),
	      "a drive mapped twice: %s", err.msg);
	check(vzdump_maps("#qmdump#map:scsi0:drive-scsi0:::\n", "x.conf", &m, &n, &err) == 0 &&
		  n == 1 && !*m[0].storage && !*m[0].format,
	      "empty storage and format are fine");
	free(m);
}

static void restore(const char *text)
{
	struct vzdump_map *m = NULL;
	size_t n = 0;
	struct lv_error err = {0};
	if (vzdump_maps(text, "guest.conf", &m, &n, &err) < 0)
		return;
	char *volids[] = {"local:104/vm-104-disk-0.raw", "local:104/vm-104-disk-1.raw",
			  "local:104/vm-104-disk-2.qcow2", NULL};
	struct vzdump_restore r = {.maps = m,
				   .n_maps = n,
				   .volids = volids,
				   .new_vmgenid = "11111111-2222-4333-8444-555555555555",
				   .new_mac = fake_mac,
				   .new_uuid = fake_uuid};
	_cleanup_free_ char *plain = vzdump_restore_config(text, &r);
	golden("restore.golden", plain);
	r.unique = true;
	r.name = "web2";
	_cleanup_free_ char *unique = vzdump_restore_config(text, &r);
	golden("restore-unique.golden", unique);
	r.unique = false;
	r.name = "renamed";
	_cleanup_free_ char *added = vzdump_restore_config("cores: 1\n", &r);
	check(streq(added, "cores: 1\nname: renamed\n"), "--as adds name: when there is none");
	free(m);
}

/* labvirt clone of a template: its drives on the new volumes (import-from= gone), the
 * cloud-init drive renamed, template: and snapshots dropped, backup=0 drives kept. */
static void clone(const char *text)
{
	struct vzdump_map m[] = {{.virtdev = "scsi0"}, {.virtdev = "scsi1"}, {.virtdev = "ide2"}};
	char *volids[] = {"local:105/vm-105-disk-0.qcow2", "local:105/vm-105-disk-1.qcow2",
			  "local:105/vm-105-cloudinit.qcow2", NULL};
	struct vzdump_restore r = {.maps = m,
				   .n_maps = 3,
				   .volids = volids,
				   .name = "web3",
				   .new_vmgenid = "11111111-2222-4333-8444-555555555555",
				   .unique = true,
				   .clone = true,
				   .new_mac = fake_mac,
				   .new_uuid = fake_uuid};
	_cleanup_free_ char *out = vzdump_restore_config(text, &r);
	golden("clone.golden", out);
}

static void backup(const char *text)
{
	struct vzdump_backup_disk d[] = {{"scsi0", "local", "qcow2"}, {"virtio1", "lvm", "raw"}};
	_cleanup_free_ char *out = vzdump_backup_config(text, d, 2);
	golden("backup.golden", out);
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
	if (!text) {
		printf("not ok - read %s\n", path);
		return 1;
	}
	names();
	maps(text);
	restore(text);
	backup(text);
	_cleanup_free_ char *tpath = xasprintf("%s/template.conf", dir);
	_cleanup_free_ char *tmpl = lv_read_file(tpath, NULL);
	if (!tmpl) {
		printf("not ok - read %s\n", tpath);
		return 1;
	}
	clone(tmpl);
	return tap_summary();
}
