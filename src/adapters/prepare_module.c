/* prepare_module.c - first-boot preparation lives in a module of its own,
 * labvirt-prepare.so (prepare.c, linked with libguestfs and libxcrypt),
 * loaded only when an `up` has disks to prepare: libguestfs and what it
 * pulls in would cost every other command about 4 MiB of memory and a few
 * milliseconds of dynamic linking. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "prepare.h"

#define MODULE_NAME "labvirt-prepare.so"

typedef int prepare_fn(struct prepare_disk *, size_t, bool, void (*)(void), struct lv_error *);

/* The module beside the executable (a build tree: labvirt, or its tests one
 * level below), else the installed one. */
static void *module_open(char *tried, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	_cleanup_free_ char *up = NULL;
	const char *dirs[3] = {NULL, NULL, LABVIRT_MODULE_DIR};
	if (n > 0) {
		exe[n] = '\0';
		dirs[0] = dirname(exe);
		dirs[1] = up = xasprintf("%s/..", dirs[0]);
	}
	tried[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!dirs[i])
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dirs[i], MODULE_NAME);
		if (access(path, F_OK) < 0)
			continue;
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h)
			return h;
		snprintf(tried, len, "%s", dlerror());
		return NULL;
	}
	snprintf(tried, len, "%s/%s not found", LABVIRT_MODULE_DIR, MODULE_NAME);
	return NULL;
}

int prepare_disks(struct prepare_disk *disks, size_t n, bool tcg, void (*written)(void),
		  struct lv_error *err)
{
	static void *module;
	static prepare_fn *fn;
	if (!fn) {
		char why[512];
		if (!module && !(module = module_open(why, sizeof(why))))
			return lv_fail(err, LV_EXIT_FAIL, "cannot load the preparation module: %s",
				       why);
		fn = (prepare_fn *)dlsym(module, "prepare_disks");
		if (!fn)
			return lv_fail(err, LV_EXIT_FAIL, "cannot load the preparation module: %s",
				       dlerror());
	}
	return fn(disks, n, tcg, written, err);
}
