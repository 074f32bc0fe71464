/* tmpl_extract.c - bench/template.sh's driver: one template extracted with
 * labvirt's extractor (template.c), for a privileged or unprivileged CT.
 *
 *   tmpl_extract [-u] ARCHIVE DEST     DEST: an existing empty folder
 *
 * Prints entries, bytes and skipped nodes on one line; the time and peak RSS
 * are taken from outside (/usr/bin/time). */
#include <string.h>

#include "template.h"

int main(int argc, char **argv)
{
	bool unpriv = argc == 4 && streq(argv[1], "-u");
	if (argc != 3 + unpriv) {
		fprintf(stderr, "usage: tmpl_extract [-u] ARCHIVE DEST\n");
		return LV_EXIT_USAGE;
	}
	struct tmpl_opts opts = {unpriv, unpriv ? TMPL_SHIFT : 0, unpriv ? TMPL_SHIFT : 0,
				 unpriv ? TMPL_ID_COUNT : 0};
	struct tmpl_stats s;
	struct lv_error err = {0};
	if (tmpl_extract(argv[1 + unpriv], argv[2 + unpriv], &opts, &s, &err) < 0) {
		fprintf(stderr, "tmpl_extract: %s\n", err.msg);
		return LV_EXIT_FAIL;
	}
	printf("%llu entries, %llu bytes, %llu device nodes and %llu under dev/ skipped\n",
	       (unsigned long long)s.entries, (unsigned long long)s.bytes,
	       (unsigned long long)s.skipped_devices, (unsigned long long)s.skipped_dev);
	return 0;
}
