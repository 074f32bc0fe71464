/* main.c - the verb table, global options, and the one place errors are
 * printed. Exit codes: 0 done, 1 failed, 2 usage or layout error. */
#include <signal.h>
#include <string.h>

#include "cmd.h"

struct verb {
	const char *name;
	int (*run)(struct ctx *c, int argc, char **argv, struct lv_error *err);
	const char *args;
	const char *help;
};

static const struct verb verbs[] = {
    {"up", cmd_up, "[--wait [--timeout SECONDS]] [GUEST...]",
     "Create what is missing and start what is stopped. A second run changes nothing.\n"
     "--wait: then wait until each running guest has an address or its guest agent\n"
     "answers (default timeout 300 seconds; exit code 1 when it passes)."},
    {"plan", cmd_plan, "[GUEST...]", "Show what `up` would do, changing nothing."},
    {"status", cmd_status, "[--json] [GUEST...]",
     "A line per guest: state, vCPU, RAM, disks, bridge, console."},
    {"console", cmd_console, "GUEST",
     "Attach to the guest's serial console; Ctrl-] leaves. When stdin is not a\n"
     "terminal, copy stdin to the console and its output to stdout until stdin ends."},
    {"down", cmd_down, "[--timeout SECONDS] [GUEST...]",
     "ACPI shutdown, then power off what still runs after the timeout (default 60)."},
    {"destroy", cmd_destroy, "[--yes] [GUEST...]",
     "Remove the lab's guests, their volumes and the bridges labvirt made.\n"
     "Asks first unless --yes."},
    {"xml", cmd_xml, "GUEST", "Print the domain XML labvirt renders for GUEST."},
    {"validate", cmd_validate, "", "Check the layout only."},
    {"ip", cmd_ip, "GUEST",
     "The guest's addresses: from its guest agent, the DHCP leases of the lab's\n"
     "networks, or the host's neighbour table."},
    {"view", cmd_view, "[--full-screen] [--kiosk] [--rdp [--user NAME]] GUEST",
     "Show the guest's screen in remote-viewer (SPICE or VNC), handing it the\n"
     "console's password on its standard input. --kiosk: full screen, and quit when\n"
     "the guest disconnects. --rdp: xfreerdp to the guest's address instead; it\n"
     "reads the password from standard input."},
    {"kiosk", cmd_kiosk, "[--print] [--output FILE] [--rdp [--user NAME]] GUEST",
     "Write the X session start file (~/.xinitrc, or FILE) so that startx runs twm\n"
     "and a full-screen view of GUEST, and the session ends when the viewer ends.\n"
     "An existing file is kept as FILE.labvirt-backup. --print only shows the file.\n"
     "Needs the Debian packages xinit, xserver-xorg, twm and virt-viewer\n"
     "(freerdp2-x11 with --rdp); it checks them and installs nothing."},
    {"snapshot", cmd_snapshot, "[--vmstate] [--description TEXT] GUEST NAME",
     "Take snapshot NAME of the guest's qcow2 disks (and, --vmstate, of its running\n"
     "state), kept as a [NAME] section of its config, as Proxmox does."},
    {"rollback", cmd_rollback, "[--start] GUEST NAME",
     "Return the guest to snapshot NAME: its disks and config; running as it was if\n"
     "the snapshot kept the running state, else off (--start: then started)."},
    {"delsnapshot", cmd_delsnapshot, "GUEST NAME", "Delete snapshot NAME of the guest."},
    {"listsnapshot", cmd_listsnapshot, "[--json] GUEST",
     "The guest's snapshots as a tree, \"current\" where it stands."},
    {"backup", cmd_backup,
     "[--dir DIR] [--compress zstd|gzip|lzo|0] [--mode snapshot|suspend|stop] GUEST...",
     "Back up each VM as vzdump does: DIR/vzdump-qemu-VMID-DATE.vma.zst\n"
     "(a stopped container: DIR/vzdump-lxc-VMID-DATE.tar.zst, its rootfs's tree)\n"
     "with its .log and .notes (DIR: the first dir storage's dump/). Zero clusters\n"
     "are not stored. A running VM is copied by libvirt's backup job (snapshot mode,\n"
     "the default; --mode suspend pauses it meanwhile); --mode stop refuses it."},
    {"restore", cmd_restore, "ARCHIVE [VMID] [--as NAME] [--storage ID] [--unique]",
     "Restore a vzdump archive as a new guest: a VM's (vzdump-qemu-VMID-*.vma[.zst|\n"
     ".gz|.lzo]) config in qemu-server/VMID.conf, a container's (vzdump-lxc-VMID-*.tar\n"
     "[.zst|.gz]) in lxc/VMID.conf (VMID: the archive's unless given); each disk a new\n"
     "volume on its storage or on --storage ID. --as NAME renames it; --unique gives\n"
     "it new MAC addresses (and a VM a new SMBIOS UUID). Overwrites nothing."},
    {"clone", cmd_clone, "[--full] [--storage ID] GUEST NEWNAME [VMID]",
     "Clone the guest as qm clone does: a new config qemu-server/VMID.conf (VMID: the\n"
     "first free from 100) with new MACs, UUID and vmgenid, and each disk a new\n"
     "volume: a full copy of a stopped guest, or a linked clone of a template's\n"
     "(template: 1, never started by up) unless --full. --storage: with --full only."},
    {"fetch", cmd_fetch, "[--all] [GUEST...]",
     "Download and check the catalogue images the guests use (all with --all), ahead\n"
     "of `up`. An image already there is checked once, then kept read-only."},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: labvirt [-L LABDIR] [-c URI] COMMAND [ARGS]\n\n"
		   "Brings up a Proxmox-style lab of libvirt guests from layout files.\n\n"
		   "Commands:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(f, "  %-12s %s\n", v->name, v->args);
	fprintf(f, "\nOptions:\n"
		   "  -L, --lab DIR      the lab folder (default: domains)\n"
		   "  -c, --connect URI  libvirt URI (default: LABVIRT_URI, the lab's uri,\n"
		   "                     qemu:///system if a daemon answers, else embedded)\n"
		   "  -h, --help         this help; 'labvirt COMMAND --help' for a command\n"
		   "  -V, --version      print the version\n\n"
		   "Exit codes: 0 done, 1 failed, 2 usage or layout error.\n");
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
		if (streq(argv[i], "--help") || streq(argv[i], "-h"))
			return true;
	return false;
}

/* Global options; returns the index of the verb, or -1. */
static int global_options(int argc, char **argv, struct ctx *c, struct lv_error *err)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char **target = NULL;
		if (streq(a, "-L") || streq(a, "--lab"))
			target = &c->lab_dir;
		else if (streq(a, "-c") || streq(a, "--connect"))
			target = &c->uri;
		else if (startswith(a, "--lab=") || startswith(a, "--connect="))
			*(a[2] == 'l' ? &c->lab_dir : &c->uri) = strchr(a, '=') + 1;
		else
			return lv_fail(err, LV_EXIT_USAGE, "unknown option '%s'", a);
		if (target && i + 1 >= argc)
			return lv_fail(err, LV_EXIT_USAGE, "%s needs a value", a);
		if (target)
			*target = argv[++i];
	}
	return i;
}

static int run(int argc, char **argv, struct ctx *c, struct lv_error *err)
{
	if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (streq(argv[1], "--version") || streq(argv[1], "-V"))) {
		printf("labvirt %s\n", LABVIRT_VERSION);
		return 0;
	}
	int i = global_options(argc, argv, c, err);
	if (i < 0)
		return -1;
	if (i >= argc) {
		usage(stderr);
		return lv_fail(err, LV_EXIT_USAGE, "no command given");
	}
	for (const struct verb *v = verbs; v->name; v++) {
		if (!streq(v->name, argv[i]))
			continue;
		if (wants_help(argc - i, argv + i)) {
			printf("usage: labvirt %s %s\n\n%s\n", v->name, v->args, v->help);
			return 0;
		}
		return v->run(c, argc - i, argv + i, err);
	}
	return lv_fail(err, LV_EXIT_USAGE, "unknown command '%s' (see labvirt --help)", argv[i]);
}

int main(int argc, char **argv)
{
	const char *env_uri = getenv("LABVIRT_URI");
	struct ctx c = {
	    .lab_dir = "domains",
	    .uri = env_uri && *env_uri ? env_uri : NULL,
	    .out = stdout,
	    .errout = stderr,
	};
	struct lv_error err = {0};
	/* A libvirt daemon that goes away closes the socket under the client
	 * library, whose next write would kill us with SIGPIPE before any message:
	 * the write fails instead, and the step says the daemon is gone. */
	signal(SIGPIPE, SIG_IGN);
	int rc = run(argc, argv, &c, &err);
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "labvirt: %s\n", err.msg);
	ctx_release(&c);
	return rc < 0 ? (err.code ? err.code : LV_EXIT_FAIL) : LV_EXIT_OK;
}
