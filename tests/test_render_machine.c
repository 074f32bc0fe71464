/* test_render_machine.c - render_machine_type() on the machine strings Proxmox
 * writes, including the +pveN forms that the layout does not let through to the
 * golden cases (yet). Prints "ok"/"FAIL" lines; exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>

#include "render.h"

int main(void)
{
	static const char *const cases[][2] = {
	    {"pc", "pc"},
	    {"q35", "q35"},
	    {"pc-q35-7.2", "pc-q35-7.2"},
	    {"pc-q35-5.1.pxe", "pc-q35-5.1"},
	    {"pc-i440fx-8.1+pve0", "pc-i440fx-8.1"},
	    {"pc-q35-8.1+pve12", "pc-q35-8.1"},
	    {"pc-q35-6.2+pve1.pxe", "pc-q35-6.2"},
	    {"pc-i440fx-2.12.pxe", "pc-i440fx-2.12"},
	    {"virt-8.1+pve0", "virt-8.1"},
	    /* not Proxmox's suffixes: kept as written */
	    {"pc-q35-8.1+pve", "pc-q35-8.1+pve"},
	    {".pxe", ".pxe"},
	    {"+pve0", "+pve0"},
	    {"pc-q35-8.1.pxe+pve0", "pc-q35-8.1.pxe"},
	};
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = render_machine_type(cases[i][0]);
		bool ok = streq(got, cases[i][1]);
		printf("%s %s -> %s", ok ? "ok  " : "FAIL", cases[i][0], got);
		printf(ok ? "\n" : " (want %s)\n", cases[i][1]);
		failed += !ok;
		free(got);
	}
	/* On a host whose QEMU has these (Debian 12's QEMU 7.2, in part): */
	char *host[] = {"pc-i440fx-7.2",  "pc",    "pc-q35-7.2", "q35", "pc-q35-7.1", "pc-q35-6.2",
			"pc-i440fx-2.12", "isapc", "microvm"};
	static const char *const runs_as[][2] = {
	    {"pc-q35-8.1+pve0", "pc-q35-7.2"}, /* newer: the newest of the family */
	    {"pc-q35-7.1", "pc-q35-7.1"},      /* there: itself */
	    {"pc-q35-7.0", "pc-q35-6.2"},      /* missing: the newest older one */
	    {"pc-i440fx-9.2.pxe", "pc-i440fx-7.2"},
	    {"pc-i440fx-2.11", "(null)"},  /* older than any: left to libvirt */
	    {"q35", "(null)"},             /* not versioned */
	    {"pc-q35-10.0", "pc-q35-7.2"}, /* 10.0 is newer than 7.2, not older */
	};
	for (size_t i = 0; i < ARRAY_SIZE(runs_as); i++) {
		char *got = render_machine_for_host(runs_as[i][0], host, ARRAY_SIZE(host));
		bool ok = streq(got ? got : "(null)", runs_as[i][1]);
		printf("%s %s runs as %s", ok ? "ok  " : "FAIL", runs_as[i][0],
		       got ? got : "(null)");
		printf(ok ? "\n" : " (want %s)\n", runs_as[i][1]);
		failed += !ok;
		free(got);
	}
	return failed ? 1 : 0;
}
