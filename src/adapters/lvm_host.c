/* lvm_host.c - what the lvmthin and lvm backends share (see lvm-host.h). */
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "lvm-host.h"

static const char *type_of(const struct lab_storage *s)
{
	return s->type == STORAGE_LVM ? "lvm" : "lvmthin";
}

int lvm_host_run(char **argv, char **ret_out, struct lv_error *err)
{
	return host_run((const char *const *)argv, ret_out, err);
}

bool lvm_host_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, prog);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

int lvm_host_report(const struct lab_storage *s, char **argv, char **ret_out, struct lv_error *err)
{
	struct lv_error e = {0};
	if (lvm_host_run(argv, ret_out, &e) == 0)
		return 0;
	if (strstr(e.msg, "Permission denied") || strstr(e.msg, "permission denied"))
		return lv_fail(err, LV_EXIT_FAIL,
			       "%s storage '%s': permission denied: lvm2 needs root (%s)",
			       type_of(s), s->id, argv[0]);
	return lv_fail(err, e.code, "%s storage '%s': %s", type_of(s), s->id, e.msg);
}

int lvm_host_image_info(const char *image, const char *format, struct lvm_image *ret,
			struct lv_error *err)
{
	_cleanup_argv_ char **cmd = lvm_cmd_image_info(image, format);
	_cleanup_free_ char *out = NULL;
	if (lvm_host_run(cmd, &out, err) < 0 || lvm_parse_image_info(out, ret, err) < 0)
		return lv_prefix(err, "import-from '%s'", image);
	if (format)
		return 0;
	if (ret->backing)
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s' has a backing file of its own: refused (it could expose "
			       "host files)",
			       image);
	if (ret->data_file)
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s' has an external data file: refused (it could expose "
			       "host files)",
			       image);
	return 0;
}

int lvm_host_load(const struct lab_storage *s, struct lvm_vg *ret_vg, struct lvm_lv **ret_lvs,
		  size_t *ret_n, bool *ret_vg_missing, struct lv_error *err)
{
	_cleanup_argv_ char **vgs_cmd = lvm_cmd_vgs();
	_cleanup_argv_ char **lvs_cmd = lvm_cmd_lvs(s->vgname);
	_cleanup_free_ char *vgs_out = NULL, *lvs_out = NULL;
	_cleanup_free_ struct lvm_vg *vgs = NULL;
	size_t n_vgs = 0;
	if (lvm_host_report(s, vgs_cmd, &vgs_out, err) < 0 ||
	    lvm_parse_vgs(vgs_out, &vgs, &n_vgs, err) < 0)
		return -1;
	size_t i = 0;
	while (i < n_vgs && !streq(vgs[i].name, s->vgname))
		i++;
	if (ret_vg_missing)
		*ret_vg_missing = i == n_vgs;
	if (i == n_vgs)
		return lv_fail(err, LV_EXIT_USAGE, "%s storage '%s': no volume group '%s'",
			       type_of(s), s->id, s->vgname);
	*ret_vg = vgs[i];
	if (lvm_host_report(s, lvs_cmd, &lvs_out, err) < 0 ||
	    lvm_parse_lvs(lvs_out, ret_lvs, ret_n, err) < 0)
		return -1;
	return 0;
}

const char *lvm_host_lv_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}
