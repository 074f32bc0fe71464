/* floor.c - the floor of the benchmark: the least a C program must do to bring
 * up the benchmark's lab through libvirt, and nothing else. No layout, no
 * inventory, no lock, no ownership checks, no undo: an isolated network
 * (define, start), then per guest a qcow2 volume (qemu-img create), define,
 * start. With -j, one thread per guest after the network, as labvirt does.
 *
 *   floor [-j] URI POOLDIR KERNEL INITRD MEMORY_MIB GUEST...
 *   floor -s URI
 *
 * -s is the floor of `status`: connect, list every domain with its state,
 * memory and vCPUs (one virConnectListAllDomains, one virDomainGetInfo each),
 * print a line per domain, close. No layout, no disks, no addresses.
 *
 * KERNEL "-": no direct kernel boot; the guest boots from its (empty) disk
 * only, and its firmware finds nothing to boot and idles (the scale series).
 *
 * The XML is what labvirt renders for the same guest, less its metadata. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static const char net_xml[] = "<network><name>labvirt-bench-vmbr0</name>"
			      "<bridge name='vmbr0' stp='on' delay='0'/>"
			      "<ip address='10.77.0.1' netmask='255.255.255.0'/></network>";

static const char dom_fmt[] =
    "<domain type='qemu'><name>%s</name><memory unit='MiB'>%s</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64'>hvm</type>%s</os>"
    "<features><acpi/><apic/></features><clock offset='utc'/>"
    "<on_poweroff>destroy</on_poweroff><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
    "<source file='%s/bench-%s-virtio0.qcow2'/><target dev='vda' bus='virtio'/>%s</disk>"
    "<interface type='bridge'><source bridge='vmbr0'/><model type='virtio'/></interface>"
    "<serial type='pty'><target port='0'/></serial>"
    "<console type='pty'><target type='serial' port='0'/></console>"
    "<video><model type='vga'/></video><memballoon model='virtio'/>"
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
    "</devices></domain>";

static virConnectPtr conn;
static char **args; /* POOLDIR KERNEL INITRD MEMORY_MIB */

static int fail(const char *what, const char *name)
{
	const char *m = virGetLastErrorMessage();
	fprintf(stderr, "floor: %s %s: %s\n", what, name, m ? m : "failed");
	return -1;
}

static int qemu_img(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-%s-virtio0.qcow2", args[0], name);
	char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", path, "64M", NULL};
	pid_t pid;
	int status;
	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("create volume for", name);
	return 0;
}

static void *guest(void *arg)
{
	const char *name = arg;
	char xml[8192], os[4096] = "";
	int idle = strcmp(args[1], "-") == 0;
	if (!idle)
		snprintf(os, sizeof(os),
			 "<kernel>%s</kernel><initrd>%s</initrd>"
			 "<cmdline>console=ttyS0 labvirt.name=%s</cmdline>",
			 args[1], args[2], name);
	snprintf(xml, sizeof(xml), dom_fmt, name, args[3], os, args[0], name,
		 idle ? "<boot order='1'/>" : "");
	if (qemu_img(name) < 0)
		return (void *)1;
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	if (!dom)
		return fail("define", name), (void *)1;
	int rc = virDomainCreate(dom);
	virDomainFree(dom);
	return rc < 0 ? (fail("start", name), (void *)1) : NULL;
}

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e;
}

static int status(const char *uri)
{
	static const char *const states[] = {"no state", "running",  "blocked", "paused",
					     "shutdown", "shut off", "crashed", "suspended"};
	if (!(conn = virConnectOpenReadOnly(uri)))
		return fail("connect", uri), 1;
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	if (n < 0)
		return fail("list", uri), 1;
	for (int i = 0; i < n; i++) {
		virDomainInfo info;
		if (virDomainGetInfo(doms[i], &info) < 0)
			return fail("info", virDomainGetName(doms[i])), 1;
		printf("%-16s %-9s %4u %6lu MiB\n", virDomainGetName(doms[i]),
		       info.state < sizeof(states) / sizeof(*states) ? states[info.state] : "?",
		       info.nrVirtCpu, info.maxMem / 1024);
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(conn);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "-s") == 0)
		return status(argv[2]);
	int parallel = argc > 1 && strcmp(argv[1], "-j") == 0;
	argv += parallel, argc -= parallel;
	if (argc < 7) {
		fprintf(stderr, "usage: floor [-j] URI POOLDIR KERNEL INITRD MEMORY_MIB GUEST...\n"
				"       floor -s URI\n");
		return 2;
	}
	virSetErrorFunc(NULL, quiet);
	args = argv + 2;
	if (!(conn = virConnectOpen(argv[1])))
		return fail("connect", argv[1]), 1;
	virNetworkPtr net = virNetworkDefineXML(conn, net_xml);
	if (!net || virNetworkCreate(net) < 0)
		return fail("network", "vmbr0"), 1;
	virNetworkFree(net);
	int n = argc - 6, failed = 0;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++) {
		if (!parallel)
			failed += guest(argv[6 + i]) != NULL;
		else if (pthread_create(&t[i], NULL, guest, argv[6 + i]) != 0)
			return fprintf(stderr, "floor: cannot start a thread\n"), 1;
	}
	for (int i = 0; parallel && i < n; i++) {
		void *r;
		pthread_join(t[i], &r);
		failed += r != NULL;
	}
	free(t);
	virConnectClose(conn);
	return failed ? 1 : 0;
}
