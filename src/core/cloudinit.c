/* cloudinit.c - the files of Proxmox's cloud-init drive, byte for byte what
 * PVE/QemuServer/Cloudinit.pm (qemu-server 9.x) writes for the same config.
 * Where Perl's semantics show through (truthiness, split /\s+/, sort of the
 * netN keys as strings) they are reproduced on purpose: the instance id is a
 * hash of the text, so any difference would make cloud-init in a guest moved
 * from Proxmox run its first-boot modules again. */
#include <ctype.h>
#include <string.h>

#include "cloudinit.h"
#include "sha1.h"

/* ---- Perl's view of strings ---- */

/* Perl's truth of a defined-or-undef string: undef, "" and "0" are false. */
static bool perl_true(const char *s)
{
	return s && *s && !streq(s, "0");
}

/* Perl's \s (ASCII). */
static bool perl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The fields of Perl's split(/\s+/, s): a leading empty field when s starts
 * with blanks, trailing empty fields dropped. */
struct words {
	char *buf;
	const char **w;
	size_t n;
};

static void words_free(struct words *ws)
{
	free(ws->buf);
	free(ws->w);
}

static void words_split(const char *s, struct words *ret)
{
	*ret = (struct words){.buf = xstrdup(s ? s : "")};
	ret->w = xcalloc(strlen(ret->buf) + 1, sizeof(*ret->w));
	char *p = ret->buf;
	bool leading = perl_space(*p);
	for (;;) {
		while (perl_space(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (leading && ret->n == 0)
			ret->w[ret->n++] = "";
		ret->w[ret->n++] = p;
		while (*p && !perl_space(*p))
			p++;
	}
}

/* ---- building text ---- */

struct text {
	char *buf;
	size_t len;
	FILE *f;
};

static void text_open(struct text *t)
{
	*t = (struct text){0};
	t->f = open_memstream(&t->buf, &t->len);
	if (!t->f)
		abort(); /* out of memory, as xmalloc */
}

static void text_close(struct text *t, struct ci_file *ret, const char *path)
{
	fclose(t->f);
	*ret = (struct ci_file){.path = path, .data = t->buf, .len = t->len};
}

static void file_set(struct ci_file *ret, const char *path, const char *data, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	copy[len] = '\0';
	*ret = (struct ci_file){.path = path, .data = copy, .len = len};
}

/* ---- what Cloudinit.pm derives from the config ---- */

/* PVE::QemuServer::Helpers::windows_version() is not 0. */
static bool windows_ostype(const char *ostype)
{
	if (!perl_true(ostype))
		return false;
	if (streq(ostype, "wxp") || streq(ostype, "w2k3") || streq(ostype, "w2k") ||
	    streq(ostype, "w2k8") || streq(ostype, "wvista"))
		return true;
	/* m/^win(\d+)$/ and the digits are true to Perl: any but "0" ("00" is) */
	const char *digits = ostype + 3;
	if (!startswith(ostype, "win") || !*digits || digits[strspn(digits, "0123456789")])
		return false;
	return !streq(digits, "0");
}

enum ci_format cloudinit_format(const struct ci_input *in)
{
	if (in->format != CI_FORMAT_DEFAULT)
		return in->format;
	return windows_ostype(in->ostype) ? CI_FORMAT_CONFIGDRIVE2 : CI_FORMAT_NOCLOUD;
}

/* get_hostname_fqdn(): the name, or "VM<vmid>"; a dotted name is the FQDN and
 * its first label the host name; else the searchdomain value as written is
 * appended (all of it, blanks included, as Proxmox does). */
static void hostname_fqdn(const struct ci_input *in, char **ret_host, char **ret_fqdn)
{
	char *name = in->name ? xstrdup(in->name) : xasprintf("VM%d", in->vmid);
	const char *dot = strchr(name, '.');
	if (dot) {
		*ret_fqdn = xstrdup(name);
		*ret_host = xstrndup(name, (size_t)(dot - name));
		free(name);
	} else if (perl_true(in->searchdomain)) {
		*ret_fqdn = xasprintf("%s.%s", name, in->searchdomain);
		*ret_host = name;
	} else {
		*ret_fqdn = xstrdup(name);
		*ret_host = name;
	}
}

/* get_dns_conf(): the guest's lists, else the host's resolv.conf. */
static void dns_conf(const struct ci_input *in, struct words *ret_search, struct words *ret_ns)
{
	words_split(in->searchdomain ? in->searchdomain : in->host_search, ret_search);
	if (in->nameserver) {
		words_split(in->nameserver, ret_ns);
		return;
	}
	words_split("", ret_ns);
	ret_ns->w = xrealloc(ret_ns->w, 4 * sizeof(*ret_ns->w));
	for (size_t i = 0; i < 3 && in->host_nameservers[i]; i++)
		if (perl_true(in->host_nameservers[i]))
			ret_ns->w[ret_ns->n++] = in->host_nameservers[i];
}

/* PVE::QemuServer::Network::parse_ipconfig(): an inconsistent ipconfig is
 * dropped with a warning (the interface then gets no address); one with
 * neither ip nor ip6 means DHCP for both. */
struct ipcfg {
	const char *ip, *gw, *ip6, *gw6;
};

static void ipconfig(const struct ci_net *n, struct ipcfg *ret)
{
	bool ip6_static =
	    n->ip6 && !streq(n->ip6, "dhcp") && !streq(n->ip6, "auto") && strchr(n->ip6, ':');
	*ret = (struct ipcfg){0};
	if ((perl_true(n->gw) && !perl_true(n->ip)) || (perl_true(n->gw6) && !perl_true(n->ip6)) ||
	    (perl_true(n->gw) && streq(n->ip, "dhcp")) || (perl_true(n->gw6) && !ip6_static))
		return;
	if (!perl_true(n->ip) && !perl_true(n->ip6)) {
		*ret = (struct ipcfg){.ip = "dhcp", .ip6 = "dhcp"};
		return;
	}
	*ret = (struct ipcfg){n->ip, n->gw, n->ip6, n->gw6};
}

/* split_ip4(): the address and the dotted netmask of "A.B.C.D/P". */
static int split_ip4(const char *cidr, char **ret_addr, char ret_mask[16], struct lv_error *err)
{
	const char *slash = strchr(cidr, '/');
	if (!slash || !slash[1] || slash[1] == '/') /* Perl's split('/') gives no mask */
		return lv_fail(err, LV_EXIT_USAGE, "not a CIDR: %s", cidr);
	char *end;
	long p = strtol(slash + 1, &end, 10);
	ret_mask[0] = '\0'; /* PVE::Network::ipv4_reverse_mask has no entry: empty */
	if (end != slash + 1 && p >= 0 && p <= 32) {
		uint32_t m = p ? 0xffffffffu << (32 - p) : 0;
		snprintf(ret_mask, 16, "%u.%u.%u.%u", m >> 24, (m >> 16) & 255, (m >> 8) & 255,
			 m & 255);
	}
	*ret_addr = xstrndup(cidr, (size_t)(slash - cidr));
	return 0;
}

/* The nets in Proxmox's order: `sort keys` of "netN", as strings (net10
 * before net2). */
static int cmp_net(const void *a, const void *b)
{
	char ka[16], kb[16];
	snprintf(ka, sizeof(ka), "net%d", (*(const struct ci_net *const *)a)->index);
	snprintf(kb, sizeof(kb), "net%d", (*(const struct ci_net *const *)b)->index);
	return strcmp(ka, kb);
}

static void sorted_nets(const struct ci_input *in, const struct ci_net *ret[CI_MAX_NETS])
{
	for (size_t i = 0; i < in->n_nets; i++)
		ret[i] = &in->nets[i];
	qsort(ret, in->n_nets, sizeof(*ret), cmp_net);
}

/* ---- user-data (cloudinit_userdata) ---- */

static void put_sshkeys(FILE *f, const char *keys)
{
	fputs("ssh_authorized_keys:\n", f);
	for (const char *k = keys; *k;) {
		size_t n = strcspn(k, "\n");
		bool blank = true;
		for (size_t i = 0; i < n; i++)
			blank &= perl_space(k[i]);
		if (!blank)
			fprintf(f, "  - %.*s\n", (int)n, k);
		k += n + (k[n] == '\n');
	}
}

static void make_user_data(const struct ci_input *in, struct ci_file *ret, const char *path)
{
	_cleanup_free_ char *host = NULL, *fqdn = NULL;
	hostname_fqdn(in, &host, &fqdn);
	struct text t;
	text_open(&t);
	fprintf(t.f, "#cloud-config\nhostname: %s\nmanage_etc_hosts: true\nfqdn: %s\n", host, fqdn);
	if (in->user)
		fprintf(t.f, "user: %s\n", in->user);
	if (in->user && streq(in->user, "root"))
		fputs("disable_root: False\n", t.f);
	if (in->password)
		fprintf(t.f, "password: %s\n", in->password);
	if (in->sshkeys)
		put_sshkeys(t.f, in->sshkeys);
	fputs("chpasswd:\n  expire: False\n", t.f);
	if (!in->user || !streq(in->user, "root"))
		fputs("users:\n  - default\n", t.f);
	if (!in->no_upgrade)
		fputs("package_upgrade: true\n", t.f);
	text_close(&t, ret, path);
}

/* ---- network-config, nocloud (nocloud_network: version 1) ---- */

static int put_v1_subnets(FILE *f, const struct ipcfg *c, struct lv_error *err)
{
	const char *i = "      ";
	if (c->ip && streq(c->ip, "dhcp")) {
		fprintf(f, "%s- type: dhcp4\n", i);
	} else if (c->ip) {
		_cleanup_free_ char *addr = NULL;
		char mask[16];
		if (split_ip4(c->ip, &addr, mask, err) < 0)
			return -1;
		fprintf(f, "%s- type: static\n%s  address: '%s'\n%s  netmask: '%s'\n", i, i, addr,
			i, mask);
		if (c->gw)
			fprintf(f, "%s  gateway: '%s'\n", i, c->gw);
	}
	if (c->ip6 && streq(c->ip6, "dhcp")) {
		fprintf(f, "%s- type: dhcp6\n", i);
	} else if (c->ip6 && streq(c->ip6, "auto")) {
		fprintf(f, "%s- type: ipv6_slaac\n", i);
	} else if (c->ip6) {
		fprintf(f, "%s- type: static6\n%s  address: '%s'\n", i, i, c->ip6);
		if (c->gw6)
			fprintf(f, "%s  gateway: '%s'\n", i, c->gw6);
	}
	return 0;
}

static void put_v1_dns(FILE *f, const struct ci_input *in)
{
	struct words search, ns;
	dns_conf(in, &search, &ns);
	/* Proxmox tests two array references here: always true. */
	fputs("    - type: nameserver\n", f);
	if (ns.n)
		fputs("      address:\n", f);
	for (size_t k = 0; k < ns.n; k++)
		fprintf(f, "      - '%s'\n", ns.w[k]);
	if (search.n)
		fputs("      search:\n", f);
	for (size_t k = 0; k < search.n; k++)
		fprintf(f, "      - '%s'\n", search.w[k]);
	words_free(&search);
	words_free(&ns);
}

static int make_nocloud_network(const struct ci_input *in, struct ci_file *ret, const char *path,
				struct lv_error *err)
{
	const struct ci_net *nets[CI_MAX_NETS];
	sorted_nets(in, nets);
	struct text t;
	text_open(&t);
	fputs("version: 1\nconfig:\n", t.f);
	for (size_t k = 0; k < in->n_nets; k++) {
		const struct ci_net *n = nets[k];
		if (!perl_true(n->mac)) {
			fclose(t.f);
			free(t.buf);
			return lv_fail(err, LV_EXIT_USAGE,
				       "network interface 'net%d' has no mac address", n->index);
		}
		_cleanup_free_ char *mac = xstrdup(n->mac);
		for (char *c = mac; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		fprintf(t.f,
			"    - type: physical\n      name: eth%d\n      mac_address: '%s'\n"
			"      subnets:\n",
			n->index, mac);
		struct ipcfg c;
		ipconfig(n, &c);
		if (put_v1_subnets(t.f, &c, err) < 0) {
			fclose(t.f);
			free(t.buf);
			return -1;
		}
	}
	put_v1_dns(t.f, in);
	text_close(&t, ret, path);
	return 0;
}

/* ---- network, configdrive2 (configdrive2_network; cloudbase_network_eni) ---- */

static int put_eni_iface(FILE *f, const struct ci_net *n, const char *dns, struct lv_error *err)
{
	struct ipcfg c;
	ipconfig(n, &c);
	fprintf(f, "auto eth%d\n", n->index);
	if (perl_true(c.ip) && streq(c.ip, "dhcp")) {
		fprintf(f, "iface eth%d inet dhcp\n", n->index);
	} else if (perl_true(c.ip)) {
		_cleanup_free_ char *addr = NULL;
		char mask[16];
		if (split_ip4(c.ip, &addr, mask, err) < 0)
			return -1;
		fprintf(f, "iface eth%d inet static\n        address %s\n        netmask %s\n",
			n->index, addr, mask);
		if (perl_true(c.gw))
			fprintf(f, "        gateway %s\n", c.gw);
		if (dns)
			fprintf(f, "        dns-nameservers %s\n", dns);
	}
	if (perl_true(c.ip6) && (streq(c.ip6, "auto") || streq(c.ip6, "dhcp"))) {
		fprintf(f, "iface eth%d inet6 %s\n", n->index, c.ip6);
	} else if (perl_true(c.ip6)) {
		size_t alen = strcspn(c.ip6, "/");
		const char *prefix = c.ip6[alen] ? c.ip6 + alen + 1 : "";
		fprintf(f, "iface eth%d inet6 static\n        address %.*s\n        netmask %.*s\n",
			n->index, (int)alen, c.ip6, (int)strcspn(prefix, "/"), prefix);
		if (perl_true(c.gw6))
			fprintf(f, "        gateway %s\n", c.gw6);
		if (dns)
			fprintf(f, "        dns-nameservers %s\n", dns);
	}
	return 0;
}

static char *join_words(const struct words *ws)
{
	struct text t;
	text_open(&t);
	for (size_t k = 0; k < ws->n; k++)
		fprintf(t.f, "%s%s", k ? " " : "", ws->w[k]);
	fclose(t.f);
	return t.buf;
}

/* Linux guests get a loopback stanza and the DNS lines; Windows guests
 * (cloudbase-init) get the name servers on each static stanza instead. */
static int make_eni(const struct ci_input *in, bool windows, struct ci_file *ret, const char *path,
		    struct lv_error *err)
{
	struct words search, ns;
	dns_conf(in, &search, &ns);
	_cleanup_free_ char *dns = ns.n ? join_words(&ns) : NULL;
	_cleanup_free_ char *domains = search.n ? join_words(&search) : NULL;
	words_free(&search);
	words_free(&ns);
	struct text t;
	text_open(&t);
	if (!windows) {
		fputs("auto lo\niface lo inet loopback\n\n", t.f);
		if (dns)
			fprintf(t.f, "        dns_nameservers %s\n", dns);
		if (domains)
			fprintf(t.f, "        dns_search %s\n", domains);
	}
	const struct ci_net *nets[CI_MAX_NETS];
	sorted_nets(in, nets);
	for (size_t k = 0; k < in->n_nets; k++) {
		if (put_eni_iface(t.f, nets[k], windows ? dns : NULL, err) < 0) {
			fclose(t.f);
			free(t.buf);
			return -1;
		}
	}
	text_close(&t, ret, path);
	return 0;
}

/* ---- meta-data ---- */

/* The instance id: sha1_hex($user_data . $network_data), of the files as they
 * go on the drive (snippets included). */
static void instance_id(const struct ci_file *user, const struct ci_file *net, char ret[41])
{
	_cleanup_free_ char *both = xmalloc(user->len + net->len + 1);
	memcpy(both, user->data, user->len);
	memcpy(both + user->len, net->data, net->len);
	sha1_hex(both, user->len + net->len, ret);
}

/* A JSON string as Perl's encode_json writes a byte string: each byte is a
 * Latin-1 character, encoded as UTF-8; '"', '\\' and controls escaped. */
static void put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char esc[] = {
		    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 && *p < sizeof(esc) && esc[*p])
			fprintf(f, "\\%c", esc[*p]);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (*p >= 0x80)
			fprintf(f, "%c%c", 0xc0 | (*p >> 6), 0x80 | (*p & 0x3f));
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* cloudbase_configdrive2_metadata(). Perl's hash order is random; this is
 * one fixed order of the same keys. */
static void make_cloudbase_meta(const struct ci_input *in, const char *id, struct ci_file *ret,
				const char *path)
{
	struct text t;
	text_open(&t);
	fprintf(t.f, "{\"uuid\":\"%s\",\"network_config\":{\"content_path\":\"/content/0000\"}",
		id);
	if (perl_true(in->password)) {
		fputs(",\"admin_pass\":", t.f);
		put_json_string(t.f, in->password);
	}
	if (in->sshkeys) {
		int i = 0;
		for (const char *k = in->sshkeys; *k;) {
			size_t n = strcspn(k, "\n");
			_cleanup_free_ char *key = xstrndup(k, n);
			k += n + (k[n] == '\n');
			bool blank = true;
			for (size_t j = 0; j < n; j++)
				blank &= perl_space(key[j]);
			if (blank)
				continue;
			fprintf(t.f, "%s\"key-%d\":", i ? "," : ",\"public_keys\":{", i);
			put_json_string(t.f, key);
			i++;
		}
		if (i)
			fputc('}', t.f);
	}
	fputc('}', t.f);
	text_close(&t, ret, path);
}

/* ---- context.sh, opennebula (generate_opennebula) ---- */

/* MIME::Base64::encode_base64: lines of 76 characters, each ending in "\n". */
static void put_base64(FILE *f, const char *s)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char out[4] = {abc[v >> 18], abc[(v >> 12) & 63],
			       i + 1 < n ? abc[(v >> 6) & 63] : '=', i + 2 < n ? abc[v & 63] : '='};
		fwrite(out, 1, 4, f);
		if ((col += 4) == 76 && i + 3 < n) {
			fputc('\n', f);
			col = 0;
		}
	}
	if (n)
		fputc('\n', f);
}

/* join("\n", split(/\s*\n\s*\/, $keys)): a run of blanks holding a line break
 * is one separator, and empty fields at the end are dropped. */
static void put_nebula_keys(FILE *f, const char *keys)
{
	_cleanup_free_ char *out = xmalloc(strlen(keys) + 1);
	size_t n = 0;
	for (const char *p = keys; *p;) {
		size_t run = 0;
		while (perl_space(p[run]))
			run++;
		if (run && memchr(p, '\n', run)) {
			out[n++] = '\n';
		} else if (run) {
			memcpy(out + n, p, run);
			n += run;
		} else {
			out[n++] = *p;
			run = 1;
		}
		p += run;
	}
	while (n && out[n - 1] == '\n')
		n--;
	fprintf(f, "SSH_PUBLIC_KEY=\"%.*s\"\n", (int)n, out);
}

static void put_nebula_net(FILE *f, const struct ci_net *n, bool *enabled, struct lv_error *err,
			   int *rc)
{
	struct ipcfg c;
	ipconfig(n, &c);
	/* Proxmox reads the MAC as $net->{hwaddr}, a key parse_net() never sets. */
	const char *mac = "";
	int i = n->index;
	if (perl_true(c.ip)) {
		*enabled = true;
		if (streq(c.ip, "dhcp")) {
			fprintf(f, "ETH%d_DHCP=YES\n", i);
		} else {
			_cleanup_free_ char *addr = NULL;
			char mask[16];
			if (split_ip4(c.ip, &addr, mask, err) < 0) {
				*rc = -1;
				return;
			}
			fprintf(f, "ETH%d_IP=%s\nETH%d_MASK=%s\nETH%d_MAC=%s\n", i, addr, i, mask,
				i, mac);
			if (perl_true(c.gw))
				fprintf(f, "ETH%d_GATEWAY=%s\n", i, c.gw);
		}
		if (perl_true(n->mtu))
			fprintf(f, "ETH%d_MTU=%s\n", i, n->mtu);
	}
	if (perl_true(c.ip6)) {
		*enabled = true;
		if (streq(c.ip6, "dhcp")) {
			fprintf(f, "ETH%d_DHCP6=YES\n", i);
		} else if (streq(c.ip6, "auto")) {
			fprintf(f, "ETH%d_AUTO6=YES\n", i);
		} else {
			size_t alen = strcspn(c.ip6, "/");
			const char *prefix = c.ip6[alen] ? c.ip6 + alen + 1 : "";
			fprintf(f, "ETH%d_IP6=%.*s\nETH%d_MASK6=%.*s\nETH%d_MAC6=%s\n", i,
				(int)alen, c.ip6, i, (int)strcspn(prefix, "/"), prefix, i, mac);
			if (perl_true(c.gw6))
				fprintf(f, "ETH%d_GATEWAY6=%s\n", i, c.gw6);
		}
		if (perl_true(n->mtu))
			fprintf(f, "ETH%d_MTU=%s\n", i, n->mtu);
	}
}

static void put_nebula_identity(FILE *f, const struct ci_input *in)
{
	fprintf(f, "USERNAME=%s\n", perl_true(in->user) ? in->user : "root");
	if (in->password) {
		fputs("CRYPTED_PASSWORD_BASE64=", f);
		put_base64(f, in->password);
		fputc('\n', f);
	}
	if (in->sshkeys)
		put_nebula_keys(f, in->sshkeys);
	_cleanup_free_ char *host = NULL, *fqdn = NULL;
	hostname_fqdn(in, &host, &fqdn);
	fprintf(f, "SET_HOSTNAME=%s\n", host);
	struct words search, ns;
	dns_conf(in, &search, &ns);
	_cleanup_free_ char *dns = ns.n ? join_words(&ns) : NULL;
	_cleanup_free_ char *domains = search.n ? join_words(&search) : NULL;
	words_free(&search);
	words_free(&ns);
	if (dns)
		fprintf(f, "DNS=\"%s\"\n", dns);
	if (domains)
		fprintf(f, "SEARCH_DOMAIN=\"%s\"\n", domains);
}

static int make_opennebula(const struct ci_input *in, struct ci_drive *d, struct lv_error *err)
{
	struct text t;
	text_open(&t);
	put_nebula_identity(t.f, in);
	const struct ci_net *nets[CI_MAX_NETS];
	sorted_nets(in, nets);
	bool enabled = false;
	int rc = 0;
	for (size_t k = 0; k < in->n_nets && rc == 0; k++)
		put_nebula_net(t.f, nets[k], &enabled, err, &rc);
	if (enabled)
		fputs("NETWORK=YES\n", t.f);
	d->volume_id = "CONTEXT";
	text_close(&t, &d->files[0], "context.sh");
	d->n_files = 1;
	return rc;
}

/* ---- the drive ---- */

void cloudinit_drive_free(struct ci_drive *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_files; i++)
		free(d->files[i].data);
	*d = (struct ci_drive){0};
}

static void drive_freep(struct ci_drive *d)
{
	cloudinit_drive_free(d);
}

/* The snippet when given, else what make() writes. */
static int part(struct ci_file *ret, const char *path, const struct ci_blob *custom)
{
	if (!custom->data)
		return 0;
	file_set(ret, path, custom->data, custom->len);
	return 1;
}

static int make_nocloud(const struct ci_input *in, struct ci_drive *d, struct lv_error *err)
{
	/* Proxmox's order: user-data, network-config, meta-data, vendor-data. */
	struct ci_file *user = &d->files[0], *net = &d->files[1], *meta = &d->files[2];
	d->volume_id = "cidata";
	if (!part(user, "user-data", &in->custom_user))
		make_user_data(in, user, "user-data");
	d->n_files = 1;
	if (!part(net, "network-config", &in->custom_network) &&
	    make_nocloud_network(in, net, "network-config", err) < 0)
		return -1;
	d->n_files = 2;
	if (!part(meta, "meta-data", &in->custom_meta)) {
		char id[41];
		instance_id(user, net, id);
		_cleanup_free_ char *text = xasprintf("instance-id: %s\n", id);
		file_set(meta, "meta-data", text, strlen(text));
	}
	d->n_files = 3;
	if (!part(&d->files[3], "vendor-data", &in->custom_vendor))
		file_set(&d->files[3], "vendor-data", "", 0);
	d->n_files = 4;
	return 0;
}

static int make_configdrive2(const struct ci_input *in, struct ci_drive *d, struct lv_error *err)
{
	/* Proxmox's order: user_data, content/0000, meta_data.json, vendor_data.json. */
	struct ci_file *user = &d->files[0], *net = &d->files[1], *meta = &d->files[2];
	bool windows = windows_ostype(in->ostype);
	d->volume_id = "config-2";
	if (!part(user, "openstack/latest/user_data", &in->custom_user))
		make_user_data(in, user, "openstack/latest/user_data");
	d->n_files = 1;
	if (!part(net, "openstack/content/0000", &in->custom_network) &&
	    make_eni(in, windows, net, "openstack/content/0000", err) < 0)
		return -1;
	d->n_files = 2;
	if (!part(meta, "openstack/latest/meta_data.json", &in->custom_meta)) {
		char id[41];
		instance_id(user, net, id);
		if (windows) {
			make_cloudbase_meta(in, id, meta, "openstack/latest/meta_data.json");
		} else {
			/* configdrive2_metadata()'s here-document */
			_cleanup_free_ char *text = xasprintf(
			    "{\n"
			    "     \"uuid\": \"%s\",\n"
			    "     \"network_config\": { \"content_path\": \"/content/0000\" }\n"
			    "}\n",
			    id);
			file_set(meta, "openstack/latest/meta_data.json", text, strlen(text));
		}
	}
	d->n_files = 3;
	if (!part(&d->files[3], "openstack/latest/vendor_data.json", &in->custom_vendor))
		file_set(&d->files[3], "openstack/latest/vendor_data.json", "", 0);
	d->n_files = 4;
	return 0;
}

int cloudinit_make(const struct ci_input *in, struct ci_drive *ret, struct lv_error *err)
{
	if (in->n_nets > CI_MAX_NETS)
		return lv_fail(err, LV_EXIT_USAGE, "more than %d nets", CI_MAX_NETS);
	_cleanup_(drive_freep) struct ci_drive d = {0};
	enum ci_format format = cloudinit_format(in);
	int r = format == CI_FORMAT_CONFIGDRIVE2 ? make_configdrive2(in, &d, err)
		: format == CI_FORMAT_OPENNEBULA ? make_opennebula(in, &d, err)
						 : make_nocloud(in, &d, err);
	if (r < 0)
		return -1;
	size_t sum = 0; /* generate_opennebula() has no size check; the others do */
	for (size_t i = 0; i < d.n_files; i++)
		sum += d.files[i].len;
	if (format != CI_FORMAT_OPENNEBULA && sum > CI_MAX_TOTAL)
		return lv_fail(err, LV_EXIT_USAGE, "Cloud-Init sum of snippets too big (> 3 MiB)");
	*ret = d;
	d = (struct ci_drive){0};
	return 0;
}

/* ---- the host's resolv.conf ---- */

/* PVE::Tools::IPRE, loosely: an IPv4 or IPv6 address's characters. */
static size_t ip_span(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF:.");
	return n && memchr(s, '.', n) != NULL ? n : memchr(s, ':', n) ? n : 0;
}

void cloudinit_resolv_conf(const char *text, char **ret_buf, const char **ret_search,
			   const char *ret_ns[3])
{
	char *buf = xstrdup(text ? text : "");
	size_t n_ns = 0;
	*ret_search = NULL;
	ret_ns[0] = ret_ns[1] = ret_ns[2] = NULL;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *p = line;
		bool search = startswith(p, "search") || startswith(p, "domain");
		if (search && perl_space(p[6])) {
			/* m/^(search|domain)\s+(\S+)/ */
			p += 6;
			while (perl_space(*p))
				p++;
			if (!*p)
				continue;
			*ret_search = p;
			p[strcspn(p, " \t\r\f\v")] = '\0';
			continue;
		}
		while (perl_space(*p))
			p++;
		if (!startswith(p, "nameserver") || !perl_space(p[10]))
			continue;
		for (p += 10; perl_space(*p);)
			p++;
		size_t n = ip_span(p);
		if (!n)
			continue;
		p[n] = '\0';
		if (n_ns < 3)
			ret_ns[n_ns] = p;
		n_ns++;
	}
	*ret_buf = buf;
}
