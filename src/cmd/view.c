/* view.c - `labvirt view GUEST`: the guest's screen in remote-viewer (SPICE or
 * VNC), or in an RDP client with --rdp. The console's password goes to
 * remote-viewer as a connection file on its standard input: never on a
 * command line, in the environment or in a file. */
#include <string.h>

#include "cmd.h"

struct view_opts {
	bool full_screen, kiosk, rdp;
	const char *user;
};

static void wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

static void wipe_freep(char **s)
{
	wipe(*s);
	free(*s);
}

/* A virt-viewer connection file (the ".vv" format). */
static char *vv_file(const struct lab_guest *g, const struct virt_graphics *gr,
		     const struct view_opts *o)
{
	return xasprintf("[virt-viewer]\n"
			 "type=%s\n"
			 "host=%s\n"
			 "port=%d\n"
			 "password=%s\n"
			 "title=%s (labvirt)\n"
			 "fullscreen=%d\n",
			 gr->type, gr->host, gr->port, gr->passwd, g->name,
			 o->full_screen || o->kiosk);
}

static int run_viewer(struct ctx *c, const char *prog, const char *package,
		      const char *const argv[], const char *input, struct lv_error *err)
{
	if (!host_find_program(prog))
		return lv_fail(err, LV_EXIT_FAIL, "view: %s is not installed (Debian package %s)",
			       prog, package);
	fflush(c->out);
	int status = host_run_feed(argv, input, input ? strlen(input) : 0, err);
	if (status < 0)
		return lv_prefix(err, "view");
	if (status != 0)
		return lv_fail(err, LV_EXIT_FAIL, "view: %s exited with status %d", prog, status);
	return 0;
}

static int view_graphics(struct ctx *c, const struct lab_guest *g, const struct view_opts *o,
			 struct lv_error *err)
{
	if (!virt_is_local(c->virt))
		return lv_fail(err, LV_EXIT_FAIL,
			       "view: the console of '%s' listens on the loopback of the libvirt "
			       "host '%s': run labvirt there",
			       g->name, virt_uri(c->virt));
	struct virt_graphics gr;
	int rc = virt_domain_graphics(c->virt, g->name, &gr, err);
	_cleanup_(wipe_freep) char *vv = rc == 0 ? vv_file(g, &gr, o) : NULL;
	explicit_bzero(gr.passwd, sizeof(gr.passwd));
	if (rc < 0)
		return lv_prefix(err, "view");
	const char *argv[8] = {"remote-viewer"};
	size_t n = 1;
	if (o->kiosk) {
		argv[n++] = "--kiosk";
		argv[n++] = "--kiosk-quit=on-disconnect";
	} else if (o->full_screen) {
		argv[n++] = "--full-screen";
	}
	argv[n++] = "-"; /* the connection file comes on stdin */
	argv[n] = NULL;
	return run_viewer(c, "remote-viewer", "virt-viewer", argv, vv, err);
}

/* xfreerdp to the guest's first IPv4 address; xfreerdp reads what it lacks
 * (the password) from our standard input, /from-stdin. */
static int view_rdp(struct ctx *c, const struct lab_guest *g, const struct view_opts *o,
		    struct lv_error *err)
{
	_cleanup_free_ struct virt_addr *addrs = NULL;
	size_t n = 0;
	bool agent;
	if (ctx_guest_addresses(c, g, NULL, &addrs, &n, &agent, err) < 0)
		return -1;
	const char *addr = NULL;
	for (size_t i = 0; i < n && !addr; i++)
		if (!strchr(addrs[i].addr, ':'))
			addr = addrs[i].addr;
	if (!addr)
		return lv_fail(err, LV_EXIT_FAIL, "view: guest '%s' has no IPv4 address yet",
			       g->name);
	_cleanup_free_ char *host = xasprintf("/v:%.*s", (int)strcspn(addr, "/"), addr);
	_cleanup_free_ char *user = o->user ? xasprintf("/u:%s", o->user) : NULL;
	_cleanup_free_ char *title = xasprintf("/title:%s (labvirt)", g->name);
	const char *argv[10] = {"xfreerdp", host, title, "/cert:tofu", "/from-stdin"};
	size_t k = 5;
	if (user)
		argv[k++] = user;
	if (o->full_screen || o->kiosk)
		argv[k++] = "/f";
	argv[k] = NULL;
	return run_viewer(c, "xfreerdp", "freerdp2-x11", argv, NULL, err);
}

int cmd_view(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	struct view_opts o = {0};
	const struct verb_opt opts[] = {{"--full-screen", &o.full_screen, NULL},
					{"--kiosk", &o.kiosk, NULL},
					{"--rdp", &o.rdp, NULL},
					{"--user", NULL, &o.user},
					{0}};
	int first = verb_options(argc, argv, opts, err);
	if (first < 0 || ctx_connect(c, err) < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "view: name one guest");
	if (o.user && !o.rdp)
		return lv_fail(err, LV_EXIT_USAGE, "view: --user goes with --rdp");
	const struct lab_guest *g = NULL;
	if (ctx_running_guest(c, "view", argv[first], &g, err) < 0)
		return -1;
	return o.rdp ? view_rdp(c, g, &o, err) : view_graphics(c, g, &o, err);
}
