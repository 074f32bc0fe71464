/* layout/values.c - values: IPv4 addresses and subnets, shared by lab.cfg and guest files. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- addresses ---- */

/* Strict dotted quad: four numbers 0..255 without leading zeros. */
bool parse_ipv4(const char *s, size_t n, uint32_t *ret)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return false;
		size_t start = i;
		unsigned v = 0;
		while (i < n && i - start < 4 && is_digit(s[i]))
			v = v * 10 + (unsigned)(s[i++] - '0');
		size_t len = i - start;
		if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0'))
			return false;
		a = a << 8 | v;
	}
	*ret = a;
	return i == n;
}

void ipv4_str(uint32_t a, char ret[16])
{
	snprintf(ret, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* "A.B.C.D/P": 0 done, -1 not that form, -2 prefix out of 8..30. */
int parse_cidr(const char *s, struct subnet *ret)
{
	const char *slash = strchr(s, '/');
	uint32_t a;
	if (!slash || !parse_ipv4(s, (size_t)(slash - s), &a))
		return -1;
	const char *pfx = slash + 1;
	size_t n = strlen(pfx);
	if (n == 0 || n > 2 || !is_all(pfx, DIGITS) || (n == 2 && pfx[0] == '0'))
		return -1;
	int prefix = atoi(pfx);
	if (prefix < 8 || prefix > 30)
		return -2;
	uint32_t mask = ~0u << (32 - prefix);
	*ret = (struct subnet){a, a & mask, (a & mask) | ~mask, prefix};
	return 0;
}
