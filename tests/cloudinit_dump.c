/* cloudinit_dump.c - prints the cases of cloudinit_cases.c as the config keys
 * Proxmox would read (one `key<TAB>value` line each, `case` and `end` around a
 * case), for tests/cloudinit/xcheck.pl; writes the cicustom snippets into DIR.
 * Usage: cloudinit_dump DIR */
#include <string.h>

#include "cloudinit_cases.h"

static void kv(const char *k, const char *v)
{
	if (!v)
		return;
	printf("%s\t", k);
	for (const char *p = v; *p; p++)
		fputs(*p == '\n'   ? "\\n"
		      : *p == '\t' ? "\\t"
		      : *p == '\\' ? "\\\\"
				   : (char[]){*p, 0},
		      stdout);
	putchar('\n');
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static int snippet(const char *dir, const struct ci_case *c, const char *part,
		   const struct ci_blob *b)
{
	if (!b->data)
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/%s-%s", dir, c->name, part);
	struct lv_error err = {0};
	if (lv_write_file_atomic(path, b->data, b->len, 0644, &err) < 0) {
		fprintf(stderr, "cloudinit_dump: %s\n", err.msg);
		return -1;
	}
	printf("custom_%s\t%s\n", part, path);
	return 0;
}

static int dump(const char *dir, const struct ci_case *c)
{
	const struct ci_input *in = &c->in;
	printf("case\t%s\nvmid\t%d\n", c->name, in->vmid);
	kv("name", in->name);
	kv("ostype", in->ostype);
	if (in->format != CI_FORMAT_DEFAULT)
		kv("citype", in->format == CI_FORMAT_NOCLOUD      ? "nocloud"
			     : in->format == CI_FORMAT_OPENNEBULA ? "opennebula"
								  : "configdrive2");
	kv("ciuser", in->user);
	kv("cipassword", in->password);
	kv("sshkeys", in->sshkeys);
	kv("nameserver", in->nameserver);
	kv("searchdomain", in->searchdomain);
	kv("ciupgrade", in->no_upgrade ? "0" : NULL);
	kv("host_search", in->host_search);
	for (int k = 0; k < 3 && in->host_nameservers[k]; k++)
		printf("dns%d\t%s\n", k + 1, in->host_nameservers[k]);
	for (size_t k = 0; k < in->n_nets; k++) {
		const struct ci_net *n = &in->nets[k];
		printf("net\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", n->index, or_dash(n->mac),
		       or_dash(n->ip), or_dash(n->gw), or_dash(n->ip6), or_dash(n->gw6),
		       or_dash(n->mtu));
	}
	if (snippet(dir, c, "user", &in->custom_user) < 0 ||
	    snippet(dir, c, "network", &in->custom_network) < 0 ||
	    snippet(dir, c, "meta", &in->custom_meta) < 0 ||
	    snippet(dir, c, "vendor", &in->custom_vendor) < 0)
		return -1;
	puts("end");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cloudinit_dump DIR\n");
		return 2;
	}
	for (size_t i = 0; i < ci_n_cases; i++)
		if (dump(argv[1], &ci_cases[i]) < 0)
			return 1;
	return 0;
}
