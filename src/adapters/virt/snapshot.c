/* snapshot.c - a domain's internal snapshots (qcow2) through libvirt: taken with
 * libxml2-built <domainsnapshot> XML (each qcow2 disk internal, every other disk
 * left out), reverted to and deleted. The guest config's [NAME] sections are the
 * record the user sees (pvesnap.h); libvirt's snapshot is the state behind it. */
#include <string.h>

#include "virt-private.h"

/* The <domainsnapshot> XML: the domain's qcow2 disks internal, the rest (raw
 * volumes, CD-ROMs, the cloud-init drive) not snapshotted, memory as asked. Fails
 * naming a writable disk that is not qcow2. */
static int snapshot_xml(virDomainPtr dom, const char *name, const char *desc, bool memory,
			char **ret, struct lv_error *err)
{
	_cleanup_free_ char *dxml = virDomainGetXMLDesc(dom, 0);
	if (!dxml)
		return virt_fail(err, "snapshot %s", name);
	_cleanup_doc_ xmlDocPtr ddoc = parse_xml(dxml);
	if (!ddoc)
		return lv_fail(err, LV_EXIT_FAIL, "snapshot %s: the domain XML does not parse",
			       name);
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domainsnapshot");
	xmlDocSetRootElement(doc, root);
	xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
	if (desc)
		xmlNewTextChild(root, NULL, BAD_CAST "description", BAD_CAST desc);
	xmlNodePtr mem = xmlNewChild(root, NULL, BAD_CAST "memory", NULL);
	xmlNewProp(mem, BAD_CAST "snapshot", BAD_CAST(memory ? "internal" : "no"));
	xmlNodePtr disks = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
	int rc = 0;
	xmlNodePtr devices = child(xmlDocGetRootElement(ddoc), "devices");
	for (xmlNodePtr d = child(devices, "disk"); d && rc == 0; d = next_named(d, "disk")) {
		char target[64], type[32], device[32], src[4096];
		attr(child(d, "target"), "dev", target, sizeof(target));
		attr(child(d, "driver"), "type", type, sizeof(type));
		attr(d, "device", device, sizeof(device));
		attr(child(d, "source"), "file", src, sizeof(src));
		if (!src[0])
			attr(child(d, "source"), "dev", src, sizeof(src));
		bool internal = streq(type, "qcow2") && streq(device, "disk");
		if (!internal && streq(device, "disk") && !child(d, "readonly"))
			rc = lv_fail(err, LV_EXIT_FAIL,
				     "snapshot %s: disk %s (%s) is %s, not qcow2: only qcow2 "
				     "volumes take snapshots here",
				     name, target, src, type[0] ? type : "not a file");
		xmlNodePtr x = xmlNewChild(disks, NULL, BAD_CAST "disk", NULL);
		xmlNewProp(x, BAD_CAST "name", BAD_CAST target);
		xmlNewProp(x, BAD_CAST "snapshot", BAD_CAST(internal ? "internal" : "no"));
	}
	xmlChar *out = NULL;
	int len = 0;
	if (rc == 0) {
		xmlDocDumpMemory(doc, &out, &len);
		*ret = xstrdup((const char *)out);
		xmlFree(out);
	}
	xmlFreeDoc(doc);
	return rc;
}

int virt_snapshot_create(struct virt *v, const char *dom_name, const char *name, const char *desc,
			 bool memory, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, dom_name);
	if (!dom)
		return virt_fail(err, "snapshot %s of %s", name, dom_name);
	int active = virDomainIsActive(dom);
	_cleanup_free_ char *xml = NULL;
	/* A running domain's internal snapshot holds its memory too (libvirt takes no
	 * disk-only internal snapshot of a running QEMU); without --vmstate it is used as
	 * a disk snapshot only (virt_snapshot_revert). */
	if (snapshot_xml(dom, name, desc, memory || active == 1, &xml, err) < 0)
		return -1;
	virDomainSnapshotPtr s = virDomainSnapshotCreateXML(dom, xml, 0);
	if (!s)
		return virt_fail(err, "snapshot %s of %s", name, dom_name);
	virDomainSnapshotFree(s);
	return 0;
}

/* Off, whether it was running or not; in embedded mode the event thread may mark it
 * off before virDomainDestroy returns, which then says "not running". */
static int power_off(virDomainPtr dom, const char *dom_name, struct lv_error *err)
{
	int state, reason;
	if (virDomainIsActive(dom) != 1 || virDomainDestroy(dom) == 0)
		return 0;
	if (virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF)
		return 0;
	return virt_fail(err, "rollback %s: power off", dom_name);
}

int virt_snapshot_revert(struct virt *v, const char *dom_name, const char *name, bool running,
			 struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, dom_name);
	virDomainSnapshotPtr s = dom ? virDomainSnapshotLookupByName(dom, name, 0) : NULL;
	if (!s)
		return virt_fail(err, "rollback %s to %s", dom_name, name);
	int rc = 0;
	if (running) {
		if (virDomainRevertToSnapshot(s, VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING) < 0)
			rc = virt_fail(err, "rollback %s to %s", dom_name, name);
	} else {
		/* The disks as they were, the guest off: a snapshot that holds memory is
		 * reverted paused and powered off, which leaves its disks at that point. */
		rc = power_off(dom, dom_name, err);
		if (rc == 0 && virDomainRevertToSnapshot(s, VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED) < 0)
			rc = virt_fail(err, "rollback %s to %s", dom_name, name);
		if (rc == 0)
			rc = power_off(dom, dom_name, err);
	}
	virDomainSnapshotFree(s);
	return rc;
}

int virt_snapshot_delete(struct virt *v, const char *dom_name, const char *name,
			 struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, dom_name);
	virDomainSnapshotPtr s = dom ? virDomainSnapshotLookupByName(dom, name, 0) : NULL;
	if (!s)
		return virt_fail(err, "delsnapshot %s of %s", name, dom_name);
	int rc = virDomainSnapshotDelete(s, 0) < 0
		     ? virt_fail(err, "delsnapshot %s of %s", name, dom_name)
		     : 0;
	virDomainSnapshotFree(s);
	return rc;
}

int virt_snapshot_exists(struct virt *v, const char *dom_name, const char *name)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, dom_name);
	virDomainSnapshotPtr s = dom ? virDomainSnapshotLookupByName(dom, name, 0) : NULL;
	if (!s)
		return 0;
	virDomainSnapshotFree(s);
	return 1;
}

/* ---- a running domain's disks as they are now: libvirt's push-mode backup ----
 * (Pull mode, an NBD export read while the guest runs, is not used: Debian 12's QEMU 7.2
 * aborts when an NBD client of a disk with an iothread goes away.) */

int virt_backup_push(struct virt *v, const char *dom_name, const char *dir, char ***ret_sources,
		     char ***ret_copies, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, dom_name);
	_cleanup_free_ char *dxml = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	if (!dxml)
		return virt_fail(err, "backup %s", dom_name);
	_cleanup_doc_ xmlDocPtr ddoc = parse_xml(dxml);
	if (!ddoc)
		return lv_fail(err, LV_EXIT_FAIL, "backup %s: the domain XML does not parse",
			       dom_name);
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domainbackup");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "mode", BAD_CAST "push");
	xmlNodePtr disks = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
	char **sources = xcalloc(1, sizeof(*sources)), **copies = xcalloc(1, sizeof(*copies));
	size_t n = 0;
	xmlNodePtr devices = child(xmlDocGetRootElement(ddoc), "devices");
	for (xmlNodePtr d = child(devices, "disk"); d; d = next_named(d, "disk")) {
		char target[64], device[32], src[4096];
		attr(child(d, "target"), "dev", target, sizeof(target));
		attr(d, "device", device, sizeof(device));
		attr(child(d, "source"), "file", src, sizeof(src));
		if (!src[0])
			attr(child(d, "source"), "dev", src, sizeof(src));
		bool take = streq(device, "disk") && !child(d, "readonly");
		xmlNodePtr x = xmlNewChild(disks, NULL, BAD_CAST "disk", NULL);
		xmlNewProp(x, BAD_CAST "name", BAD_CAST target);
		xmlNewProp(x, BAD_CAST "backup", BAD_CAST(take ? "yes" : "no"));
		if (!take)
			continue;
		xmlNewProp(x, BAD_CAST "type", BAD_CAST "file");
		char *copy = xasprintf("%s/%s.qcow2", dir, target);
		xmlNodePtr t = xmlNewChild(x, NULL, BAD_CAST "target", NULL);
		xmlNewProp(t, BAD_CAST "file", BAD_CAST copy);
		xmlNodePtr drv = xmlNewChild(x, NULL, BAD_CAST "driver", NULL);
		xmlNewProp(drv, BAD_CAST "type", BAD_CAST "qcow2");
		sources = xrealloc(sources, (n + 2) * sizeof(*sources));
		copies = xrealloc(copies, (n + 2) * sizeof(*copies));
		sources[n] = xstrdup(src);
		copies[n++] = copy;
		sources[n] = copies[n] = NULL;
	}
	xmlChar *out = NULL;
	int len = 0;
	xmlDocDumpMemory(doc, &out, &len);
	xmlFreeDoc(doc);
	int rc = virDomainBackupBegin(dom, (const char *)out, NULL, 0) < 0
		     ? virt_fail(err, "backup %s: libvirt's backup job", dom_name)
		     : 0;
	xmlFree(out);
	/* until the job is over, then how it ended */
	virDomainJobInfo info;
	struct timespec tick = {0, 50 * 1000000L};
	while (rc == 0 && virDomainGetJobInfo(dom, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE)
		nanosleep(&tick, NULL);
	int type = VIR_DOMAIN_JOB_NONE, nparams = 0;
	virTypedParameterPtr params = NULL;
	if (rc == 0 &&
	    virDomainGetJobStats(dom, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
		rc = virt_fail(err, "backup %s: libvirt's backup job", dom_name);
	virTypedParamsFree(params, nparams);
	if (rc == 0 && type != VIR_DOMAIN_JOB_COMPLETED)
		rc = lv_fail(err, LV_EXIT_FAIL, "backup %s: libvirt's backup job failed", dom_name);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			unlink(copies[i]), free(sources[i]), free(copies[i]);
		free(sources), free(copies);
		return -1;
	}
	*ret_sources = sources;
	*ret_copies = copies;
	return 0;
}
