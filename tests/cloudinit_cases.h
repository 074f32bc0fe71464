/* cloudinit_cases.h - the inputs of the cloud-init golden cases
 * (tests/cloudinit/CASE/), shared by test_cloudinit and cidrive_iso. */
#ifndef CLOUDINIT_CASES_H
#define CLOUDINIT_CASES_H

#include "cloudinit.h"

struct ci_case {
	const char *name;
	struct ci_input in;
};

extern const struct ci_case ci_cases[];
extern const size_t ci_n_cases;

const struct ci_case *ci_case_find(const char *name);

#endif
