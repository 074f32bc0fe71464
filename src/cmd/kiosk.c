/* kiosk.c - `labvirt kiosk GUEST`: the minimal host of labvirt's design. It
 * writes the X session start file (~/.xinitrc) so that `startx` runs twm and
 * a full-screen view of the guest, and the X session ends when the viewer
 * ends. It installs nothing: it names the Debian packages that must be there.
 *
 * twm knows no full-screen request (EWMH _NET_WM_STATE_FULLSCREEN), and
 * remote-viewer keeps its header bar until its window is full screen. So the
 * file does what such a window manager would do: once the viewer's window is
 * there, xprop marks it full screen and xdotool gives it the whole screen.
 * xfreerdp (--rdp) makes its own window cover the screen. */
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
	static const char *const viewer[][2] = {
	    {"remote-viewer", "virt-viewer"}, {"xprop", "x11-utils"}, {"xdotool", "xdotool"}};
	static const char *const rdp_viewer[][2] = {{"xfreerdp", "freerdp2-x11"}};
	const char *const(*more_needs)[2] = o->rdp ? rdp_viewer : viewer;
	size_t n_more = o->rdp ? ARRAY_SIZE(rdp_viewer) : ARRAY_SIZE(viewer);
	for (size_t i = 0; i < ARRAY_SIZE(needs) + n_more; i++) {
		const char *const *need =
		    i < ARRAY_SIZE(needs) ? needs[i] : more_needs[i - ARRAY_SIZE(needs)];
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

/* s as a POSIX extended regular expression that matches s itself. */
static char *regex_quote(const char *s)
{
	char *q = xmalloc(2 * strlen(s) + 1), *w = q;
	for (const char *p = s; *p; p++) {
		if (strchr("\\.[]()*+?{}|^$", *p))
			*w++ = '\\';
		*w++ = *p;
	}
	*w = '\0';
	return q;
}

/* The end of the file for remote-viewer: the viewer in the background, its
 * window made full screen, and the session waiting for it. */
static char *full_screen_part(const struct lab_guest *g, const char *view)
{
	_cleanup_free_ char *title = xasprintf("%s (labvirt)", g->name);
	_cleanup_free_ char *re = regex_quote(title);
	_cleanup_free_ char *pattern = xasprintf("^%s", re);
	_cleanup_free_ char *q_pattern = sh_quote(pattern);
	return xasprintf(
	    "%s &\n"
	    "viewer=$!\n"
	    "# twm knows no full-screen request (EWMH), so this does what such a window\n"
	    "# manager would: once the viewer's window is there, it marks it full screen\n"
	    "# (remote-viewer then drops its header bar) and gives it the whole screen.\n"
	    "i=0\n"
	    "while [ \"$i\" -lt 600 ] && kill -0 \"$viewer\" 2>/dev/null; do\n"
	    "\twin=$(xdotool search --onlyvisible --name %s | head -n 1)\n"
	    "\tif [ -n \"$win\" ]; then\n"
	    "\t\txprop -id \"$win\" -f _NET_WM_STATE 32a -set _NET_WM_STATE "
	    "_NET_WM_STATE_FULLSCREEN\n"
	    "\t\txdotool windowmove \"$win\" 0 0 windowsize \"$win\" 100%% 100%%\n"
	    "\t\tbreak\n"
	    "\tfi\n"
	    "\tsleep 0.1\n"
	    "\ti=$((i + 1))\n"
	    "done\n"
	    "wait \"$viewer\"\n",
	    view, q_pattern);
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
	_cleanup_free_ char *view =
	    xasprintf("%s -L %s%s view --kiosk%s %s", q_self, q_lab, connect, rdp, q_guest);
	_cleanup_free_ char *run =
	    o->rdp ? xasprintf("exec %s\n", view) : full_screen_part(g, view);
	return xasprintf(
	    "#!/bin/sh\n"
	    "# The X session of a labvirt kiosk host, written by 'labvirt kiosk %s'.\n"
	    "# startx runs twm and a full-screen view of guest '%s'; when the viewer\n"
	    "# ends (the guest disconnects, or it is closed), the X session ends, and\n"
	    "# the host is back at its text console.\n"
	    "# twm places each window where it asks to be, without a title bar, rather than\n"
	    "# waiting for a click to place it. Its fonts are the X server's built-in one:\n"
	    "# twm gives up when it cannot open its default fonts (no xfonts-base).\n"
	    "twm -f /dev/stdin <<'TWMRC' &\n"
	    "RandomPlacement\n"
	    "UsePPosition \"on\"\n"
	    "NoTitle\n"
	    "TitleFont \"fixed\"\n"
	    "ResizeFont \"fixed\"\n"
	    "MenuFont \"fixed\"\n"
	    "IconFont \"fixed\"\n"
	    "IconManagerFont \"fixed\"\n"
	    "TWMRC\n"
	    "%s",
	    g->name, g->name, run);
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
