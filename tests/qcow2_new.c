/* qcow2_new.c - `qcow2_new FILE SIZE [BACKING FORMAT]`: runs qcow2_create
 * (src/core/qcow2.c) for tests/qcow2.sh; prints the error and exits 1 on
 * failure. */
#include <stdio.h>
#include <stdlib.h>

#include "qcow2.h"

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: qcow2_new FILE SIZE [BACKING FORMAT]\n");
		return 2;
	}
	struct lv_error err = {0};
	if (qcow2_create(argv[1], strtoull(argv[2], NULL, 10), argc == 5 ? argv[3] : NULL,
			 argc == 5 ? argv[4] : NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return 0;
}
