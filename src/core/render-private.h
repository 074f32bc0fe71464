/* render-private.h - what render.c (VMs and networks) and render_ct.c
 * (containers) share: the libxml2 tree builder. Not a public header. */
#ifndef RENDER_PRIVATE_H
#define RENDER_PRIVATE_H

#include <libxml/tree.h>

#include "render.h"

/* A tree under construction. The first failed libxml2 allocation sets failed,
 * and every later call on a NULL node is a no-op, so that the builders read as
 * the XML they make and the failure is reported once, at the end. */
struct xml_builder {
	bool failed;
};

static inline void xml_doc_freep(xmlDoc **doc)
{
	if (*doc)
		xmlFreeDoc(*doc);
}
#define _cleanup_xml_doc_ _cleanup_(xml_doc_freep)

/* Adds <name>text</name> (text escaped; NULL for none) under parent. */
xmlNode *add(struct xml_builder *xb, xmlNode *parent, const char *name, const char *text);
xmlNode *__attribute__((format(printf, 4, 5)))
addf(struct xml_builder *xb, xmlNode *parent, const char *name, const char *fmt, ...);
void set(struct xml_builder *xb, xmlNode *node, const char *name, const char *value);
void __attribute__((format(printf, 4, 5)))
setf(struct xml_builder *xb, xmlNode *node, const char *name, const char *fmt, ...);
/* Adds <name attr='value'/>, the most common shape in libvirt XML. */
xmlNode *add_with(struct xml_builder *xb, xmlNode *parent, const char *name, const char *attr,
		  const char *value);
xmlNode *new_root(struct xml_builder *xb, xmlDoc *doc, const char *name);
/* <metadata><labvirt:owner xmlns:labvirt=LV_XMLNS lab=LAB/></metadata>; returns owner. */
xmlNode *add_owner(struct xml_builder *xb, xmlNode *parent, const struct lab *lab);
/* Stamps owner with config=hash of the XML so far, and dumps the result. */
int finish(struct xml_builder *xb, xmlDoc *doc, xmlNode *owner, char **ret_xml,
	   struct lv_error *err);
/* <name>, <uuid>, <genid>, <description>. */
void add_general(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g);

/* render_ct.c: a container's <domain type='lxc'>. */
int build_ct(struct xml_builder *xb, xmlDoc *doc, const struct lab *lab, const struct lab_guest *g,
	     xmlNode **ret_owner, struct lv_error *err);

#endif
