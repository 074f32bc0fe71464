/* cidrive_iso.c - writes the cloud-init drive of a golden case
 * (tests/cloudinit_cases.c) as an ISO image with isofs.c, for tests/cidrive.sh.
 * Usage: cidrive_iso CASE OUT.iso */
#include "cloudinit_cases.h"
#include "isofs.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: cidrive_iso CASE OUT.iso\n");
		return 2;
	}
	const struct ci_case *c = ci_case_find(argv[1]);
	if (!c) {
		fprintf(stderr, "cidrive_iso: no case '%s'\n", argv[1]);
		return 2;
	}
	struct lv_error err = {0};
	struct ci_drive d = {0};
	int rc = cloudinit_make(&c->in, &d, &err) < 0 || isofs_write_drive(&d, argv[2], &err) < 0;
	cloudinit_drive_free(&d);
	if (rc)
		fprintf(stderr, "cidrive_iso: %s\n", err.msg);
	return rc;
}
