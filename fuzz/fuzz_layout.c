/* fuzz_layout.c - libFuzzer target: the layout parser. Any input must give
 * either a lab or diagnostics, never a crash, a leak or undefined behaviour;
 * every diagnostic names a file of the lab and is valid text. */
#include "layout.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_make_lab(data, size);
	struct lab *lab = NULL;
	struct lv_diag diags = {0};
	int rc = lab_load(dir, &lab, &diags);
	if ((rc == 0) != (diags.n == 0) || (rc == 0) != (lab != NULL))
		abort();
	for (size_t i = 0; i < diags.n; i++) {
		if (strncmp(diags.lines[i], dir, strlen(dir)) != 0)
			abort(); /* a message that does not name its file */
		for (const char *c = diags.lines[i]; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				abort(); /* control bytes reached a message */
	}
	if (lab) {
		for (size_t i = 0; i < lab->n_guests; i++)
			if (lab_find_guest(lab, lab->guests[i].name) != &lab->guests[i] ||
			    !lab_is_guest_name(lab->guests[i].name))
				abort();
	}
	lv_diag_free(&diags);
	lab_free(lab);
	return 0;
}
