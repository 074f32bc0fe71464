/* cloudinit_guest.c - the cloud-init input of a guest of the layout. Kept apart
 * from cloudinit.c so that the drive's text does not depend on layout.h. */
#include <errno.h>
#include <string.h>

#include "cloudinit.h"
#include "layout.h"

#define SNIPPET_MAX (1024 * 1024) /* Proxmox's read_cloudinit_snippets_file() */

/* A guest without `name:` is named after its file; for a numeric file that
 * is the vmid, and Proxmox then says "VM<vmid>". */
static const char *proxmox_name(const struct lab_guest *g)
{
	char vmid[16];
	snprintf(vmid, sizeof(vmid), "%d", g->vmid);
	return g->vmid > 0 && streq(g->name, vmid) ? NULL : g->name;
}

static int read_snippet(const char *path, char **ret_buf, struct ci_blob *ret, struct lv_error *err)
{
	if (!path)
		return 0;
	size_t len;
	char *data = lv_read_file(path, &len);
	if (!data)
		return lv_fail_errno(err, errno, "cannot read cicustom snippet '%s'", path);
	if (len > SNIPPET_MAX) {
		free(data);
		return lv_fail(err, LV_EXIT_USAGE, "cicustom snippet '%s' is over 1 MiB", path);
	}
	*ret_buf = data;
	*ret = (struct ci_blob){data, len};
	return 0;
}

/* The nets that have an ipconfig (Proxmox leaves the others out). */
static void fill_nets(const struct lab_guest *g, struct ci_guest_input *gi)
{
	struct ci_input *in = &gi->in;
	for (size_t i = 0; i < g->ci.n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &g->ci.ipconfig[i];
		for (size_t k = 0; k < g->n_nets && in->n_nets < CI_MAX_NETS; k++) {
			const struct lab_net *n = &g->nets[k];
			if (n->index != ic->index)
				continue;
			char *mtu = gi->mtu[in->n_nets];
			if (n->mtu)
				snprintf(mtu, sizeof(gi->mtu[0]), "%d", n->mtu);
			in->nets[in->n_nets++] = (struct ci_net){.index = ic->index,
								 .mac = n->mac,
								 .ip = ic->ip,
								 .gw = ic->gw,
								 .ip6 = ic->ip6,
								 .gw6 = ic->gw6,
								 .mtu = n->mtu ? mtu : NULL};
		}
	}
}

int cloudinit_input_from_guest(const struct lab_guest *g, const char *resolv_conf,
			       struct ci_guest_input **ret, struct lv_error *err)
{
	/* On the heap: the input points into the struct itself (the MTUs). */
	_cleanup_(cloudinit_guest_input_freep) struct ci_guest_input *gi = xcalloc(1, sizeof(*gi));
	const struct lab_cloudinit *ci = &g->ci;
	gi->in = (struct ci_input){
	    .name = proxmox_name(g),
	    .vmid = g->vmid,
	    .ostype = g->ostype,
	    .user = ci->user,
	    .password = ci->password,
	    .sshkeys = ci->sshkeys,
	    .nameserver = ci->nameserver,
	    .searchdomain = ci->searchdomain,
	    .no_upgrade = ci->no_upgrade,
	    .format = !ci->type                         ? CI_FORMAT_DEFAULT
		      : streq(ci->type, "configdrive2") ? CI_FORMAT_CONFIGDRIVE2
		      : streq(ci->type, "opennebula")   ? CI_FORMAT_OPENNEBULA
							: CI_FORMAT_NOCLOUD,
	};
	fill_nets(g, gi);
	cloudinit_resolv_conf(resolv_conf, &gi->resolv_buf, &gi->in.host_search,
			      gi->in.host_nameservers);
	const char *paths[4] = {ci->custom_user, ci->custom_network, ci->custom_meta,
				ci->custom_vendor};
	struct ci_blob *blobs[4] = {&gi->in.custom_user, &gi->in.custom_network,
				    &gi->in.custom_meta, &gi->in.custom_vendor};
	for (size_t i = 0; i < 4; i++)
		if (read_snippet(paths[i], &gi->snippets[i], blobs[i], err) < 0)
			return -1;
	*ret = steal_pointer(&gi);
	return 0;
}

void cloudinit_guest_input_free(struct ci_guest_input *gi)
{
	if (!gi)
		return;
	free(gi->resolv_buf);
	for (size_t i = 0; i < 4; i++)
		free(gi->snippets[i]);
	free(gi);
}
