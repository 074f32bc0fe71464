/* virt.h - the libvirt adapter: the only place that includes libvirt.h. */
#ifndef VIRT_H
#define VIRT_H

#include "plan.h"

struct virt;

/* Opens uri; NULL picks: qemu:///system when a daemon answers, otherwise the
 * embedded driver qemu:///embed?root=STATE/embed. events: the caller waits on
 * libvirt events (virt_console, virt_domains_wait_off, virt_watch_agents),
 * which need libvirt's event loop running in a thread of this process. */
int virt_open(const char *uri, const char *state_dir, bool events, struct virt **ret_virt,
	      struct lv_error *err);
void virt_close(struct virt *v);
/* Opens the connection for the lab's containers: libvirt's LXC driver beside the
 * QEMU one (lxc:///system); an error naming why when there is none (the embedded
 * driver, a session URI). Domain calls by name then look on both. */
int virt_open_lxc(struct virt *v, struct lv_error *err);
static inline void virt_closep(struct virt **v)
{
	virt_close(*v);
}
const char *virt_uri(const struct virt *v);
bool virt_network_driver(const struct virt *v);
/* Whether the connection still answers (false once the daemon is gone). */
bool virt_alive(const struct virt *v);
/* Whether the connection is to this host (a local bridge can be checked). */
bool virt_is_local(const struct virt *v);
/* ACCEL_KVM when the hypervisor offers KVM, else ACCEL_TCG. */
enum lab_accel virt_best_accel(struct virt *v);
/* The machine types (pc-q35-7.2, q35, ...) the host's QEMU has for x86_64. */
int virt_machine_types(struct virt *v, char ***ret, size_t *ret_n, struct lv_error *err);

/* Reads what exists of the lab into inv. */
int virt_inventory(struct virt *v, const struct lab *lab, struct inventory *inv,
		   struct lv_error *err);
/* What status shows of a running domain. */
struct virt_dom_info {
	int vcpus;
	unsigned long long mem_mib;
	char console[128];           /* the pty path, or "" */
	char macs[LAB_MAX_NETS][18]; /* its interfaces' MACs */
	size_t n_macs;
	bool agent_channel; /* it has a guest agent channel */
};
/* virt_inventory, and for each guest whose domain is not shut off what status
 * shows of it (live[n_guests]; zero for the others), read from its live XML
 * instead of its definition: one call per guest for both. */
int virt_inventory_live(struct virt *v, const struct lab *lab, struct inventory *inv,
			struct virt_dom_info *live, struct lv_error *err);
int virt_domain_query(struct virt *v, const char *lab, const char *name, struct inv_domain *ret,
		      struct lv_error *err);

/* Which of the lab's guests have a running domain (one call). */
int virt_running(struct virt *v, const struct lab *lab, bool *ret_running, struct lv_error *err);

/* Defines the domain. A <graphics> element without a passwd gets the password
 * the domain already has, or a new random one: labvirt's rendered XML never
 * carries it, and it is never printed. */
int virt_domain_define(struct virt *v, const char *xml, bool autostart, struct lv_error *err);
/* The persistent XML as defined now (to restore it on undo). */
int virt_domain_xml(struct virt *v, const char *name, char **ret_xml, struct lv_error *err);
/* keep_nvram: the domain's <nvram> file stays (a volume labvirt did not make);
 * else libvirt removes it with the domain. */
int virt_domain_undefine(struct virt *v, const char *name, bool keep_nvram, struct lv_error *err);
int virt_domain_start(struct virt *v, const char *name, struct lv_error *err);
int virt_domain_shutdown(struct virt *v, const char *name, struct lv_error *err);
int virt_domain_poweroff(struct virt *v, const char *name, struct lv_error *err);
/* Pauses a running guest's vCPUs (its disks then hold still), and lets it run again. */
int virt_domain_suspend(struct virt *v, const char *name, struct lv_error *err);
int virt_domain_resume(struct virt *v, const char *name, struct lv_error *err);
/* Waits (on lifecycle events) until every named domain is shut off, or
 * timeout_ms passes; ret_off[i] says which ones are. */
int virt_domains_wait_off(struct virt *v, char **names, size_t n, int timeout_ms, bool *ret_off,
			  struct lv_error *err);

/* Internal snapshots (qcow2) of a domain (snapshot.c). create: memory too with
 * memory, and always for a running domain (libvirt takes no disk-only internal
 * snapshot of a running QEMU); fails naming a writable disk that is not qcow2.
 * revert: running, the state the snapshot holds (its memory); else the disks as they
 * were and the domain off. */
int virt_snapshot_create(struct virt *v, const char *dom, const char *name, const char *desc,
			 bool memory, struct lv_error *err);
int virt_snapshot_revert(struct virt *v, const char *dom, const char *name, bool running,
			 struct lv_error *err);
int virt_snapshot_delete(struct virt *v, const char *dom, const char *name, struct lv_error *err);
/* A running domain's disks as they are now, copied by libvirt's push-mode backup job
 * into qcow2 files in dir (the guest runs on; the call returns when the job is over).
 * *ret_sources: each disk's file or device, *ret_copies its copy (NULL ended; caller
 * frees and removes). */
int virt_backup_push(struct virt *v, const char *dom, const char *dir, char ***ret_sources,
		     char ***ret_copies, struct lv_error *err);
/* 1 when the domain has that snapshot, else 0. */
int virt_snapshot_exists(struct virt *v, const char *dom, const char *name);

int virt_network_create(struct virt *v, const char *xml, struct lv_error *err);
int virt_network_start(struct virt *v, const char *name, struct lv_error *err);
int virt_network_remove(struct virt *v, const char *name, struct lv_error *err);

/* The guest's serial console, copied to and from in_fd/out_fd. With raw, the
 * terminal is put in raw mode and Ctrl-] leaves; otherwise the copy ends when
 * in_fd ends. */
int virt_console(struct virt *v, const char *name, int in_fd, int out_fd, bool raw,
		 struct lv_error *err);

/* The graphical console of a running domain, for a viewer. */
struct virt_graphics {
	char type[8];     /* "vnc", "spice" */
	char host[64];    /* the listen address */
	int port;         /* the TCP port */
	char passwd[128]; /* the password; wipe it after use */
};
int virt_domain_graphics(struct virt *v, const char *name, struct virt_graphics *ret,
			 struct lv_error *err);

/* A guest address: which interface (by MAC), and where it was learnt. */
struct virt_addr {
	char mac[18];
	char addr[64];      /* "10.10.10.128/24" */
	const char *source; /* "agent", "lease", "arp" */
};
/* The addresses of a running domain: from its guest agent when one answers
 * (then ret_agent is set), the DHCP leases of the named libvirt networks, and
 * the host's neighbour table. Loopback and link-local addresses are left out. */
/* known: what virt_inventory_live just read of the domain, or NULL to read it. */
int virt_domain_addresses(struct virt *v, const char *name, const struct virt_dom_info *known,
			  char *const *networks, size_t n_networks, struct virt_addr **ret,
			  size_t *ret_n, bool *ret_agent, struct lv_error *err);
/* From now on, each network's DHCP leases are read once per connection (for a
 * command that lists many guests at one moment, as status does). */
void virt_cache_leases(struct virt *v);

/* Guest agent events (it connects, it goes), to wait on them. */
struct virt_watch;
int virt_watch_agents(struct virt *v, struct virt_watch **ret, struct lv_error *err);
/* Returns when an agent event came, or after timeout_ms. */
void virt_watch_wait(struct virt_watch *w, int timeout_ms);
void virt_watch_free(struct virt_watch *w);

#endif
