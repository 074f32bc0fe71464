/* kiosk.c - `labvirt kiosk GUEST`: the minimal host of labvirt's design. It
 * writes the X session start file (~/.xinitrc) so that `startx` runs twm and
 * a full-screen view of the guest, and the X session ends when the viewer
 * ends. It installs nothing: it names the Debian packages that must be there. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

struct kiosk_opts {
	bool print, rdp;
	const char *output, *user;
};

/* What the session needs: the program, and the Debian package that has it. */
static const char *const needs[][2] = {
    {"xinit", "xinit"},
    {"Xorg", "xserver-xorg"},
    {"twm", "twm"},
};

/* The programs missing here, as a list of their packages; "" when none. */
static char *missing_packages(const struct kiosk_opts *o)
{
	char *list = xstrdup("");
	const char *viewer[2] = {"remote-viewer", "virt-viewer"};
	if (o->rdp)
		viewer[0] = "xfreerdp", viewer[1] = "freerdp2-x11";
	for (size_t i = 0; i <= ARRAY_SIZE(needs); i++) {
		const char *const *need = i < ARRAY_SIZE(needs) ? needs[i] : viewer;
		if (host_find_program(need[0]))
			continue;
		char *more = xasprintf("%s%s%s", list, *list ? " " : "", need[1]);
		free(list);
		list = more;
	}
	return list;
}

/* s in single quotes for sh: ' becomes '\''. */
static char *sh_quote(const char *s)
{
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *q = xmalloc(n + 1), *w = q;
	*w++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(w, "'\\''", 4);
			w += 4;
		} else {
			*w++ = *p;
		}
	}
	*w++ = '\'';
	*w = '\0';
	return q;
}

static char *session_file(struct ctx *c, const struct lab_guest *g, const struct kiosk_opts *o,
			  struct lv_error *err)
{
	char self[PATH_MAX], lab[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		lv_fail_errno(err, errno, "kiosk: cannot find the labvirt program");
		return NULL;
	}
	self[n] = '\0';
	if (!realpath(c->lab_dir, lab)) {
		lv_fail_errno(err, errno, "kiosk: cannot resolve '%s'", c->lab_dir);
		return NULL;
	}
	_cleanup_free_ char *q_self = sh_quote(self);
	_cleanup_free_ char *q_lab = sh_quote(lab);
	_cleanup_free_ char *q_guest = sh_quote(g->name);
	_cleanup_free_ char *q_uri = c->uri ? sh_quote(c->uri) : NULL;
	_cleanup_free_ char *connect = q_uri ? xasprintf(" -c %s", q_uri) : xstrdup("");
	_cleanup_free_ char *q_user = o->user ? sh_quote(o->user) : NULL;
	_cleanup_free_ char *rdp =
	    o->rdp ? xasprintf(" --rdp%s%s", q_user ? " --user " : "", q_user ? q_user : "")
		   : xstrdup("");
	return xasprintf(
	    "#!/bin/sh\n"
	    "# The X session of a labvirt kiosk host, written by 'labvirt kiosk %s'.\n"
	    "# startx runs twm and a full-screen view of guest '%s'; when the viewer\n"
	    "# ends (the guest disconnects, or it is closed), the X session ends, and\n"
	    "# the host is back at its text console.\n"
	    "# twm places each window where it asks to be, without a title bar, rather than\n"
	    "# waiting for a click to place it.\n"
	    "twm -f /dev/stdin <<'TWMRC' &\n"
	    "RandomPlacement\n"
	    "UsePPosition \"on\"\n"
	    "NoTitle\n"
	    "TWMRC\n"
	    "exec %s -L %s%s view --kiosk%s %s\n",
	    g->name, g->name, q_self, q_lab, connect, rdp, q_guest);
}

/* ~/.xinitrc of the user who runs labvirt, through sudo or not. */
static char *default_output(uid_t *ret_uid, gid_t *ret_gid)
{
	const char *sudo_user = getenv("SUDO_USER");
	struct passwd *pw = NULL;
	if (getuid() == 0 && sudo_user && *sudo_user && !streq(sudo_user, "root"))
		pw = getpwnam(sudo_user);
	if (pw) {
		*ret_uid = pw->pw_uid, *ret_gid = pw->pw_gid;
		return xasprintf("%s/.xinitrc", pw->pw_dir);
	}
	const char *home = getenv("HOME");
	if ((!home || !*home) && (pw = getpwuid(getuid())))
		home = pw->pw_dir;
	return home && *home ? xasprintf("%s/.xinitrc", home) : NULL;
}

/* Moves an existing different file out of the way: FILE.labvirt-backup, or
 * FILE.labvirt-backup.N when that is taken. Sets ret_backup (NULL: none). */
static int keep_backup(const char *path, const char *content, char **ret_backup,
		       struct lv_error *err)
{
	*ret_backup = NULL;
	size_t len = 0;
	_cleanup_free_ char *old = lv_read_file(path, &len);
	if (!old)
		return errno == ENOENT ? 0
				       : lv_fail_errno(err, errno, "kiosk: cannot read '%s'", path);
	if (len == strlen(content) && !memcmp(old, content, len))
		return 1; /* already this file */
	for (int i = 1; i < 1000; i++) {
		_cleanup_free_ char *b = i == 1 ? xasprintf("%s.labvirt-backup", path)
						: xasprintf("%s.labvirt-backup.%d", path, i);
		if (link(path, b) == 0) {
			*ret_backup = steal_pointer(&b);
			return 0;
		}
		if (errno != EEXIST)
			return lv_fail_errno(err, errno, "kiosk: cannot keep a backup of '%s'",
					     path);
	}
	return lv_fail(err, LV_EXIT_FAIL, "kiosk: too many backups of '%s'", path);
}

static int write_session(struct ctx *c, const struct kiosk_opts *o, const char *content,
			 struct lv_error *err)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	_cleanup_free_ char *path = o->output ? xstrdup(o->output) : default_output(&uid, &gid);
	if (!path)
		return lv_fail(err, LV_EXIT_FAIL, "kiosk: no home folder: give --output FILE");
	_cleanup_free_ char *backup = NULL;
	int same = keep_backup(path, content, &backup, err);
	if (same < 0)
		return -1;
	if (same) {
		fprintf(c->out, "%s is already this kiosk's session file\n", path);
		return 0;
	}
	if (lv_write_file_atomic(path, content, strlen(content), 0755, err) < 0)
		return lv_prefix(err, "kiosk");
	if (!o->output && uid != getuid() && chown(path, uid, gid) < 0)
		return lv_fail_errno(err, errno, "kiosk: cannot give '%s' to its user", path);
	fprintf(c->out, "wrote %s%s%s%s: startx now shows the guest full screen\n", path,
		backup ? " (the old one is kept as " : "", backup ? backup : "", backup ? ")" : "");
	return 0;
}

int cmd_kiosk(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	struct kiosk_opts o = {0};
	const struct verb_opt opts[] = {{"--print", &o.print, NULL},
					{"--rdp", &o.rdp, NULL},
					{"--output", NULL, &o.output},
					{"--user", NULL, &o.user},
					{0}};
	int first = verb_options(argc, argv, opts, err);
	if (first < 0 || ctx_load(c, err) < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "kiosk: name one guest");
	if (o.user && !o.rdp)
		return lv_fail(err, LV_EXIT_USAGE, "kiosk: --user goes with --rdp");
	const struct lab_guest *g = lab_find_guest(c->lab, argv[first]);
	if (!g)
		return lv_fail(err, LV_EXIT_USAGE, "no guest '%s' in lab '%s'", argv[first],
			       c->lab->name);
	if (!o.rdp && !lab_guest_graphics(g))
		return lv_fail(err, LV_EXIT_USAGE,
			       "kiosk: guest '%s' has no graphical console (give it 'vga: qxl' "
			       "or 'vga: std', or use --rdp)",
			       g->name);
	_cleanup_free_ char *content = session_file(c, g, &o, err);
	_cleanup_free_ char *missing = content ? missing_packages(&o) : NULL;
	if (!content)
		return -1;
	if (o.print) {
		fputs(content, c->out);
		if (*missing)
			fprintf(c->errout,
				"labvirt: note: the kiosk needs these Debian packages: %s\n",
				missing);
		return 0;
	}
	if (*missing)
		return lv_fail(err, LV_EXIT_FAIL,
			       "kiosk: missing Debian packages: %s (apt-get install "
			       "--no-install-recommends %s)",
			       missing, missing);
	return write_session(c, &o, content, err);
}
