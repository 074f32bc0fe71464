/* fuzz_common.h - turns one fuzz input into a lab folder on a tmpfs: the input
 * is split at lines "%%" into lab.cfg and up to five guest files (VMs a.conf,
 * b.conf, 100.conf; containers lxc/200.conf, lxc/201.conf); without a separator
 * it is one guest under a fixed lab.cfg. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SEP "\n%%\n"

static const char fuzz_default_cfg[] = "lab: fz\n"
				       "dir: local\n"
				       "\tpath images\n"
				       "bridge: vmbr0\n"
				       "\tmode nat\n"
				       "\taddress 10.10.10.1/24\n";

static const char *const fuzz_guest_files[] = {"a.conf", "b.conf", "100.conf", "lxc/200.conf",
					       "lxc/201.conf"};

static void fuzz_write(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w <= 0)
			abort();
		data += w, len -= (size_t)w;
	}
	close(fd);
}

static const uint8_t *fuzz_find_sep(const uint8_t *p, const uint8_t *end)
{
	size_t n = strlen(FUZZ_SEP);
	for (; (size_t)(end - p) >= n; p++)
		if (memcmp(p, FUZZ_SEP, n) == 0)
			return p;
	return NULL;
}

static char fuzz_dir[64];

/* Removes the lab folder when the fuzzer exits. */
static void fuzz_lab_dir_remove(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/lab.cfg", fuzz_dir);
	unlink(path);
	for (size_t i = 0; i < sizeof(fuzz_guest_files) / sizeof(*fuzz_guest_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, fuzz_guest_files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/lxc", fuzz_dir);
	rmdir(path);
	rmdir(fuzz_dir);
}

/* The lab folder for this process, made once on a tmpfs (/dev/shm). */
static const char *fuzz_lab_dir(void)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/labvirt-fuzz.XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
		char lxc[4096];
		snprintf(lxc, sizeof(lxc), "%s/lxc", fuzz_dir);
		if (mkdir(lxc, 0700) < 0)
			abort();
		atexit(fuzz_lab_dir_remove);
	}
	return fuzz_dir;
}

static const char *fuzz_make_lab(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_lab_dir();
	const uint8_t *end = data + size;
	const uint8_t *sep = fuzz_find_sep(data, end);
	char path[4096];
	for (size_t i = 0; i < sizeof(fuzz_guest_files) / sizeof(*fuzz_guest_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fuzz_guest_files[i]);
		unlink(path);
	}
	if (!sep) {
		fuzz_write(dir, "lab.cfg", (const uint8_t *)fuzz_default_cfg,
			   strlen(fuzz_default_cfg));
		fuzz_write(dir, fuzz_guest_files[0], data, size);
		return dir;
	}
	fuzz_write(dir, "lab.cfg", data, (size_t)(sep - data));
	const uint8_t *p = sep + strlen(FUZZ_SEP);
	for (size_t i = 0; i < sizeof(fuzz_guest_files) / sizeof(*fuzz_guest_files); i++) {
		const uint8_t *next = fuzz_find_sep(p, end);
		bool last = !next || i + 1 == sizeof(fuzz_guest_files) / sizeof(*fuzz_guest_files);
		const uint8_t *stop = last ? end : next;
		fuzz_write(dir, fuzz_guest_files[i], p, (size_t)(stop - p));
		if (last)
			break;
		p = next + strlen(FUZZ_SEP);
	}
	return dir;
}

#endif
