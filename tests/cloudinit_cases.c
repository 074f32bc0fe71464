/* cloudinit_cases.c - one entry per case of tests/cloudinit/ (see its README):
 * the config keys Proxmox would read, as struct ci_input. */
#include "cloudinit_cases.h"

#define HASH                                                                                       \
	"$6$rounds=4096$Q8o1bA4x$"                                                                 \
	"P0pYd3o1l3bZ8nC7b5jZ1p6kX0JrH5m0v7X9lB2u7wM3h8q3yT6s1dF0aG4kE9c2Nn5rV8wQ1xZ4yU7iO0pL3"
#define KEY1                                                                                       \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ4wE4b0b9Qm6o0hY8l7Qy0mXr3oKX3pWn8d0bq6d3E "        \
	"admin@laptop"
#define BLOB(s)                                                                                    \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
#define KEY2 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7vX9 owner@phone"

const struct ci_case ci_cases[] = {
    /* the reference lab's server: static IPv4, gateway, DNS, user, hash */
    {"static-ipv4",
     {.name = "alpine",
      .vmid = 101,
      .user = "admin",
      .password = HASH,
      .nameserver = "10.0.0.1",
      .searchdomain = "lab.example",
      .nets = {{0, "BC:24:11:2A:3B:4C", "10.0.0.5/24", "10.0.0.1"}},
      .n_nets = 1}},
    /* no name (VM<vmid>), DHCP, DNS from the host's resolv.conf */
    {"dhcp-host-dns",
     {.vmid = 100,
      .host_search = "home.arpa",
      .host_nameservers = {"192.168.1.1", "192.168.1.2"},
      .nets = {{0, "bc:24:11:00:00:01", "dhcp"}},
      .n_nets = 1}},
    /* IPv6: static with gateway only; SLAAC; DHCP for both */
    {"ipv6",
     {.name = "v6",
      .vmid = 102,
      .nameserver = "2001:db8::53",
      .searchdomain = "",
      .nets = {{0, "bc:24:11:00:00:10", NULL, NULL, "2001:db8::5/64", "2001:db8::1"},
	       {1, "bc:24:11:00:00:11", "192.0.2.7/28", NULL, "auto"},
	       {2, "bc:24:11:00:00:12", "dhcp", NULL, "dhcp"}},
      .n_nets = 3}},
    /* nets sorted as Proxmox sorts "netN" (net10 before net2); an ipconfig
     * with neither ip nor ip6 is DHCP for both; root; keys; no upgrade */
    {"nets-root-keys",
     {.name = "ubuntu-server",
      .vmid = 103,
      .user = "root",
      .password = "plain-secret",
      .sshkeys = KEY1 "\n\n   \n" KEY2 "\n",
      .no_upgrade = true,
      .nameserver = "1.1.1.1 9.9.9.9  8.8.8.8",
      .nets = {{2, "bc:24:11:00:00:22", "10.2.0.2/16"},
	       {10, "bc:24:11:00:00:2a", "10.10.0.2/8", "10.0.0.1"},
	       {0, "bc:24:11:00:00:20"}},
      .n_nets = 3}},
    /* a dotted name is the FQDN; several search domains */
    {"fqdn-name",
     {.name = "web.example.com",
      .vmid = 104,
      .searchdomain = "a.example b.example",
      .host_nameservers = {"10.9.9.9"},
      .nets = {{0, "bc:24:11:00:00:30", "dhcp"}},
      .n_nets = 1}},
    /* Proxmox appends the whole searchdomain value to the host name */
    {"fqdn-search",
     {.name = "xubuntu",
      .vmid = 105,
      .user = "owner",
      .searchdomain = "a.example b.example",
      .nameserver = "10.0.0.1",
      .n_nets = 0}},
    /* inconsistent ipconfigs: Proxmox warns and gives the interface no subnet */
    {"ipconfig-dropped",
     {.name = "odd",
      .vmid = 106,
      .nameserver = "10.0.0.1",
      .nets = {{0, "bc:24:11:00:00:40", "dhcp", "10.0.0.1"},
	       {1, "bc:24:11:00:00:41", NULL, "10.0.0.1"},
	       {3, "bc:24:11:00:00:43", NULL, NULL, "auto", "fe80::1"}},
      .n_nets = 3}},
    /* cicustom: user and network snippets replace Proxmox's; the instance id
     * is the hash of the snippets; a vendor snippet */
    {"cicustom",
     {.name = "custom",
      .vmid = 107,
      .user = "ignored",
      .nameserver = "10.0.0.1",
      .nets = {{0, "bc:24:11:00:00:50", "10.0.0.50/24", "10.0.0.1"}},
      .n_nets = 1,
      .custom_user = BLOB("#cloud-config\npackages:\n  - htop\n"),
      .custom_network = BLOB("version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"),
      .custom_vendor = BLOB("#cloud-config\nruncmd:\n  - [touch, /run/vendor]\n")}},
    /* cicustom meta: the snippet is meta-data as given */
    {"cicustom-meta",
     {.name = "custom-meta",
      .vmid = 108,
      .host_nameservers = {"10.0.0.1"},
      .custom_meta = BLOB("instance-id: iid-local01\nlocal-hostname: custom\n")}},
    /* configdrive2 for Linux: ENI network, JSON meta data */
    {"configdrive2",
     {.name = "cd2",
      .vmid = 109,
      .format = CI_FORMAT_CONFIGDRIVE2,
      .user = "admin",
      .password = HASH,
      .sshkeys = KEY1,
      .nameserver = "10.0.0.1 10.0.0.2",
      .searchdomain = "lab.example",
      .nets = {{0, "bc:24:11:00:00:60", "10.0.0.60/24", "10.0.0.1", "2001:db8::60/64",
		"2001:db8::1"},
	       {1, "bc:24:11:00:00:61", "dhcp", NULL, "auto"}},
      .n_nets = 2}},
    /* a Windows ostype: configdrive2 by default, for cloudbase-init */
    {"configdrive2-windows",
     {.name = "win",
      .vmid = 110,
      .ostype = "win11",
      .user = "Administrator",
      .password = "p\"ss\\word",
      .sshkeys = KEY1 "\n" KEY2,
      .nameserver = "10.0.0.1",
      .nets = {{0, "bc:24:11:00:00:70", "10.0.0.70/24", "10.0.0.1"},
	       {1, "bc:24:11:00:00:71", "dhcp"}},
      .n_nets = 2}},
    /* an explicit nocloud wins over the Windows default */
    {"nocloud-windows",
     {.name = "win-nocloud",
      .vmid = 111,
      .ostype = "win10",
      .format = CI_FORMAT_NOCLOUD,
      .searchdomain = "lab.example",
      .nets = {{0, "bc:24:11:00:00:80", "dhcp"}},
      .n_nets = 1}},
    /* opennebula: context.sh; MIME base64 of the password in 76-column lines;
     * keys split on line breaks with the blanks around them; the MTU; and the
     * MAC left empty, as Proxmox leaves it (it reads a key parse_net never sets) */
    {"opennebula",
     {.name = "one",
      .vmid = 114,
      .format = CI_FORMAT_OPENNEBULA,
      .password = HASH,
      .sshkeys = "\n  " KEY1 "  \n\n " KEY2 " \n",
      .nameserver = "10.0.0.1 10.0.0.2",
      .searchdomain = "lab.example home.arpa",
      .nets = {{0, "bc:24:11:00:00:a0", "10.0.0.160/24", "10.0.0.1", .mtu = "1400"},
	       {1, "bc:24:11:00:00:a1", "dhcp", NULL, "2001:db8::a1/64", "2001:db8::1", "9000"},
	       {2, "bc:24:11:00:00:a2", NULL, NULL, "auto"}},
      .n_nets = 3,
      .custom_user = BLOB("#cloud-config\n")}},
    /* opennebula with little: root, an empty password, no net, the host's DNS */
    {"opennebula-bare",
     {.vmid = 115,
      .format = CI_FORMAT_OPENNEBULA,
      .password = "",
      .host_nameservers = {"192.168.1.1"},
      .host_search = "home.arpa"}},
    /* bytes as they are: UTF-8 and CRLF line ends (a key file edited on Windows:
     * Proxmox splits on "\n" and keeps the "\r") */
    {"bytes-nocloud",
     {.name = "bytes",
      .vmid = 116,
      .user = "jos\xc3\xa9",
      .password = "p\xc3\xa4ss",
      .sshkeys = KEY1 " jos\xc3\xa9@port\xc3\xa1til\r\n" KEY2 "\r\n\r\n",
      .searchdomain = "lab.example",
      .nameserver = "10.0.0.1"}},
    /* ... and in cloudbase-init's JSON, where Perl's encode_json takes each byte
     * for a character and encodes it again as UTF-8 */
    {"bytes-windows",
     {.name = "bytes-win",
      .vmid = 117,
      .ostype = "w2k8",
      .password = "p\xc3\xa4ss\ttab\x01",
      .sshkeys = KEY1 " jos\xc3\xa9@port\xc3\xa1til\r\n",
      .nameserver = "10.0.0.1"}},
    /* errors, as Proxmox dies */
    {"err-not-cidr",
     {.name = "bad", .vmid = 112, .nets = {{0, "bc:24:11:00:00:90", "10.0.0.5"}}, .n_nets = 1}},
    {"err-no-mac", {.name = "bad", .vmid = 113, .nets = {{4, NULL, "dhcp"}}, .n_nets = 1}},
};

const size_t ci_n_cases = ARRAY_SIZE(ci_cases);

const struct ci_case *ci_case_find(const char *name)
{
	for (size_t i = 0; i < ci_n_cases; i++)
		if (streq(ci_cases[i].name, name))
			return &ci_cases[i];
	return NULL;
}
