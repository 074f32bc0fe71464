/* mount.c - the host side of an unprivileged container's volumes: an ext4 image
 * (through a loop device) or LV mounted on a folder of /run/labvirt/ct/ before the
 * container starts, as Proxmox mounts a container's volumes before LXC starts it;
 * libvirt's LXC driver then bind-mounts the folder. With libmount (util-linux),
 * which sets up and auto-clears the loop device. */
#include <errno.h>
#include <libgen.h>
#include <libmount.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"

/* Whether path is a mount point: another device than its parent's. */
static bool is_mount_point(const char *path)
{
	struct stat st, parent;
	_cleanup_free_ char *copy = xstrdup(path);
	return stat(path, &st) == 0 && stat(dirname(copy), &parent) == 0 &&
	       st.st_dev != parent.st_dev;
}

int host_mount_volume(const char *source, const char *target, bool readonly, struct lv_error *err)
{
	if (host_mkdir_p(target, 0755, err) < 0)
		return -1;
	if (is_mount_point(target))
		return 0; /* mounted by an earlier up: the container's state is there */
	struct stat st;
	if (stat(source, &st) < 0)
		return lv_fail_errno(err, errno, "cannot mount '%s'", source);
	struct libmnt_context *cxt = mnt_new_context();
	if (!cxt)
		return lv_fail(err, LV_EXIT_FAIL, "out of memory");
	const char *opts =
	    S_ISREG(st.st_mode) ? (readonly ? "loop,ro" : "loop") : (readonly ? "ro" : "rw");
	int rc = mnt_context_set_source(cxt, source) || mnt_context_set_target(cxt, target) ||
			 mnt_context_set_fstype(cxt, "ext4") || mnt_context_set_options(cxt, opts)
		     ? -ENOMEM
		     : mnt_context_mount(cxt);
	char msg[256] = "";
	if (rc != 0 || mnt_context_get_status(cxt) != 1)
		mnt_context_get_excode(cxt, rc, msg, sizeof(msg));
	bool ok = rc == 0 && mnt_context_get_status(cxt) == 1;
	mnt_free_context(cxt);
	if (!ok)
		return lv_fail(err, LV_EXIT_FAIL, "cannot mount '%s' on '%s': %s", source, target,
			       msg[0] ? msg : "failed");
	return 0;
}

int host_unmount_volume(const char *target, struct lv_error *err)
{
	if (is_mount_point(target)) {
		struct libmnt_context *cxt = mnt_new_context();
		if (!cxt)
			return lv_fail(err, LV_EXIT_FAIL, "out of memory");
		int rc = mnt_context_set_target(cxt, target) ? -ENOMEM : mnt_context_umount(cxt);
		char msg[256] = "";
		bool ok = rc == 0 && mnt_context_get_status(cxt) == 1;
		if (!ok)
			mnt_context_get_excode(cxt, rc, msg, sizeof(msg));
		mnt_free_context(cxt);
		if (!ok)
			return lv_fail(err, LV_EXIT_FAIL, "cannot unmount '%s': %s", target,
				       msg[0] ? msg : "failed");
	}
	/* its folder, and the empty ones above it up to /run/labvirt */
	_cleanup_free_ char *dir = xstrdup(target);
	while (strlen(dir) > strlen("/run/labvirt") && startswith(dir, "/run/labvirt/") &&
	       rmdir(dir) == 0)
		*strrchr(dir, '/') = '\0';
	return 0;
}
