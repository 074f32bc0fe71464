/* bench/cidrive.c - the time to make the cloud-init drives of a lab: the files
 * (cloudinit.c) and the ISO image written to disk (isofs.c, fsync and rename
 * included), one guest and the reference lab's three, against what Proxmox
 * does for the same drive: the files written to a folder (as
 * file_set_contents, without fsync) and genisoimage run with its arguments
 * (fork and exec, no shell; Proxmox's qemu-img dd into the volume is left out,
 * which flatters it).
 *
 *   cidrive [-r ROUNDS] DIR     (built and run by bench/cidrive.sh)
 *
 * Prints a markdown table of medians (milliseconds) and the ratios. */
#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cloudinit.h"
#include "isofs.h"

extern char **environ;

#define HASH                                                                                       \
	"$6$rounds=4096$Q8o1bA4x$"                                                                 \
	"P0pYd3o1l3bZ8nC7b5jZ1p6kX0JrH5m0v7X9lB2u7wM3h8q3yT6s1dF0aG4kE9c2Nn5"                      \
	"rV8wQ1xZ4yU7iO0pL3"
#define KEYS                                                                                       \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ4wE4b0b9Qm6o0hY8l7Qy0mXr3oKX3pWn8d0bq6d3E "        \
	"owner@laptop\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0b7m2Yw4c1rD8s9x0 owner@phone\n"

/* The reference lab (DESIGN.md): the desktop and two light servers on vmbr0. */
static const struct ci_input lab[] = {
    {.name = "xubuntu",
     .vmid = 100,
     .user = "owner",
     .password = HASH,
     .sshkeys = KEYS,
     .nameserver = "192.168.1.1",
     .searchdomain = "home.arpa",
     .nets = {{0, "bc:24:11:00:01:00", "dhcp"}},
     .n_nets = 1},
    {.name = "alpine",
     .vmid = 101,
     .user = "owner",
     .password = HASH,
     .sshkeys = KEYS,
     .nameserver = "192.168.1.1",
     .searchdomain = "home.arpa",
     .nets = {{0, "bc:24:11:00:01:01", "192.168.1.101/24", "192.168.1.1"}},
     .n_nets = 1},
    {.name = "ubuntu-server",
     .vmid = 102,
     .user = "owner",
     .password = HASH,
     .sshkeys = KEYS,
     .nameserver = "192.168.1.1",
     .searchdomain = "home.arpa",
     .nets = {{0, "bc:24:11:00:01:02", "192.168.1.102/24", "192.168.1.1", "auto"}},
     .n_nets = 1},
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* labvirt, by stage: the files only; the image in memory; the image written. */
static int make_files(const char *dir, const struct ci_input *in, struct lv_error *err)
{
	(void)dir;
	struct ci_drive d = {0};
	int rc = cloudinit_make(in, &d, err);
	cloudinit_drive_free(&d);
	return rc;
}

static int make_image(const char *dir, const struct ci_input *in, struct lv_error *err)
{
	(void)dir;
	struct ci_drive d = {0};
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int rc = cloudinit_make(in, &d, err) < 0 ||
			 isofs_make(d.volume_id, d.files, d.n_files, &buf, &len, err) < 0
		     ? -1
		     : 0;
	cloudinit_drive_free(&d);
	return rc;
}

static int make_labvirt(const char *dir, const struct ci_input *in, struct lv_error *err)
{
	struct ci_drive d = {0};
	_cleanup_free_ char *path = xasprintf("%s/vm-%d-cloudinit.iso", dir, in->vmid);
	int rc = cloudinit_make(in, &d, err) < 0 || isofs_write_drive(&d, path, err) < 0 ? -1 : 0;
	cloudinit_drive_free(&d);
	return rc;
}

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!s)
			return 0;
		*s = '/';
	}
}

/* PVE::Tools::file_set_contents: a temporary file renamed, no fsync. */
static int set_contents(const char *path, const struct ci_file *f, struct lv_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *out = fopen(tmp, "w");
	if (!out)
		return lv_fail_errno(err, errno, "cannot create '%s'", tmp);
	size_t n = fwrite(f->data, 1, f->len, out);
	if (fclose(out) != 0 || n != f->len || rename(tmp, path) < 0)
		return lv_fail_errno(err, errno, "cannot write '%s'", path);
	return 0;
}

/* Proxmox: the files under a folder, then genisoimage. */
static int make_proxmox(const char *dir, const struct ci_input *in, struct lv_error *err)
{
	struct ci_drive d = {0};
	if (cloudinit_make(in, &d, err) < 0)
		return -1;
	_cleanup_free_ char *src = xasprintf("%s/run-%d", dir, in->vmid);
	_cleanup_free_ char *iso = xasprintf("%s/vm-%d-cloudinit.gen.iso", dir, in->vmid);
	int rc = 0;
	for (size_t i = 0; i < d.n_files && rc == 0; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", src, d.files[i].path);
		_cleanup_free_ char *parent = xstrndup(path, strrchr(path, '/') - path);
		if (mkdir_p(parent) < 0)
			rc = lv_fail_errno(err, errno, "cannot make '%s'", parent);
		else
			rc = set_contents(path, &d.files[i], err);
	}
	cloudinit_drive_free(&d);
	if (rc < 0)
		return -1;
	char *argv[] = {"genisoimage", "-quiet", "-iso-level", "3", "-J", "-R",
			"-V",          "cidata", "-o",         iso, src,  NULL};
	pid_t pid;
	int status;
	if ((errno = posix_spawnp(&pid, "genisoimage", NULL, NULL, argv, environ)) != 0)
		return lv_fail_errno(err, errno, "cannot run genisoimage");
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return lv_fail(err, LV_EXIT_FAIL, "genisoimage failed");
	return 0;
}

typedef int (*maker)(const char *dir, const struct ci_input *in, struct lv_error *err);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median over rounds of the time to make the drives of the first n guests. */
static int measure(maker make, const char *dir, size_t n, int rounds, double *ret_ms,
		   struct lv_error *err)
{
	double *t = xcalloc((size_t)rounds + 1, sizeof(*t));
	for (int r = -1; r < rounds; r++) { /* round -1 warms up, untimed */
		double start = now_ms();
		for (size_t g = 0; g < n; g++) {
			if (make(dir, &lab[g], err) < 0) {
				free(t);
				return -1;
			}
		}
		if (r >= 0)
			t[r] = now_ms() - start;
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	*ret_ms = rounds % 2 ? t[rounds / 2] : (t[rounds / 2 - 1] + t[rounds / 2]) / 2;
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 21;
	int opt;
	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r' || (rounds = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: cidrive [-r ROUNDS] DIR\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: cidrive [-r ROUNDS] DIR\n");
		return 2;
	}
	const char *dir = argv[optind];
	static const struct {
		const char *what;
		maker make;
	} rows[] = {
	    {"labvirt: the files (cloudinit.c)", make_files},
	    {"labvirt: files and image in memory (isofs.c)", make_image},
	    {"**labvirt: files and image written (fsync, rename)**", make_labvirt},
	    {"files written + genisoimage, as Proxmox", make_proxmox},
	};
	double ms[ARRAY_SIZE(rows)][2];
	struct lv_error err = {0};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (measure(rows[i].make, dir, 1, rounds, &ms[i][0], &err) < 0 ||
		    measure(rows[i].make, dir, 3, rounds, &ms[i][1], &err) < 0) {
			fprintf(stderr, "cidrive: %s\n", err.msg);
			return 1;
		}
	}
	printf("| cloud-init drives (median of %d, ms) | 1 guest | 3 guests | a guest (of 3) |\n",
	       rounds);
	printf("|---|---:|---:|---:|\n");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		printf("| %s | %.2f | %.2f | %.2f |\n", rows[i].what, ms[i][0], ms[i][1],
		       ms[i][1] / 3);
	size_t lv = 2, px = 3;
	printf("| ratio genisoimage / labvirt written | %.1f | %.1f | |\n", ms[px][0] / ms[lv][0],
	       ms[px][1] / ms[lv][1]);
	return 0;
}
