/* fuzz_aplinfo.c - libFuzzer target: the aplinfo.dat parser (aplinfo.c). Any
 * input gives records or diagnostics, never both, never a crash or a leak;
 * every diagnostic names the file and holds no control byte; every record
 * has a template name without '/' and is found by it. */
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aplinfo *list = NULL;
	size_t n = 0;
	struct lv_diag diags = {0};
	int rc = aplinfo_parse((const char *)data, size, "aplinfo.dat", &list, &n, &diags);
	if ((rc == 0) != (diags.n == 0))
		abort();
	for (size_t i = 0; i < diags.n; i++) {
		if (!startswith(diags.lines[i], "aplinfo.dat:"))
			abort();
		for (const char *c = diags.lines[i]; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
	}
	for (size_t i = 0; i < n; i++) {
		const struct aplinfo *a = &list[i];
		if (!a->template || strchr(a->template, '/') || !a->package || !a->version ||
		    !a->type || !a->os || !a->infopage || !a->location || !a->section)
			abort();
		if (aplinfo_find(list, n, a->template) != a)
			abort();
	}
	aplinfo_free(list, n);
	lv_diag_free(&diags);
	return 0;
}
