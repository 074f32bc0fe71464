/* network.c - the lab's libvirt networks: define and start, start, remove. */
#include "virt-private.h"

int virt_network_create(struct virt *v, const char *xml, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkDefineXML(v->conn, xml);
	if (!net)
		return virt_fail(err, "define network");
	if (virNetworkCreate(net) < 0 || virNetworkSetAutostart(net, 1) < 0) {
		struct lv_error keep;
		virt_fail(&keep, "start network");
		if (virNetworkIsActive(net) == 1)
			virNetworkDestroy(net);
		virNetworkUndefine(net);
		if (err)
			*err = keep;
		return -1;
	}
	return 0;
}

int virt_network_start(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	if (!net || virNetworkCreate(net) < 0)
		return virt_fail(err, "start network");
	return 0;
}

int virt_network_remove(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	if (!net)
		return virt_fail(err, "look up network");
	if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0)
		return virt_fail(err, "stop network");
	if (virNetworkIsPersistent(net) == 1 && virNetworkUndefine(net) < 0)
		return virt_fail(err, "undefine network");
	return 0;
}
