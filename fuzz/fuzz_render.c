/* fuzz_render.c - libFuzzer target: parser and renderer. For every lab that
 * loads, each guest's domain XML (TCG and KVM) and each network's XML must
 * re-parse with libxml2, and the domain must keep the guest's name. */
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "layout.h"
#include "render.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* Re-parses xml; its root must be `root` with a <name> child of `name`. */
static void check_xml(const char *xml, const char *root, const char *name)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "fuzz.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		abort(); /* the renderer made XML that does not parse */
	xmlNode *r = xmlDocGetRootElement(doc);
	if (!r || strcmp((const char *)r->name, root) != 0)
		abort();
	xmlChar *got = xmlNodeGetContent(child(r, "name"));
	if (!got || strcmp((const char *)got, name) != 0)
		abort(); /* the guest's name did not survive */
	xmlFree(got);
	xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_make_lab(data, size);
	struct lab *lab = NULL;
	struct lv_diag diags = {0};
	if (lab_load(dir, &lab, &diags) < 0) {
		lv_diag_free(&diags);
		return 0;
	}
	for (size_t i = 0; i < lab->n_guests; i++) {
		const enum lab_accel accels[] = {ACCEL_TCG, ACCEL_KVM};
		for (size_t a = 0; a < 2; a++) {
			char *xml = NULL;
			struct lv_error err = {0};
			if (render_domain(lab, &lab->guests[i], accels[a], &xml, &err) < 0)
				abort(); /* a lab that loads must render */
			check_xml(xml, "domain", lab->guests[i].name);
			free(xml);
		}
	}
	for (size_t b = 0; b < lab->n_bridges; b++) {
		if (lab->bridges[b].mode == BRIDGE_HOST)
			continue;
		char *xml = NULL;
		struct lv_error err = {0};
		if (render_network(lab, &lab->bridges[b], &xml, &err) < 0)
			abort();
		char *net = lab_network_name(lab, &lab->bridges[b]);
		check_xml(xml, "network", net);
		free(net);
		free(xml);
	}
	lab_free(lab);
	return 0;
}
