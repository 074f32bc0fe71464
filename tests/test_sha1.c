/* test_sha1.c - sha1.c against FIPS 180's examples and the lengths around its
 * block and padding edges (55, 56, 63, 64, 65, 119, 120 bytes), as sha1sum
 * gives them. */
#include <string.h>

#include "lv.h"
#include "sha1.h"

static const struct {
	const char *text; /* or NULL: `n` times 'a' */
	size_t n;
	const char *hex;
} vectors[] = {
    {"", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
     "opqrsmnopqrstnopqrstu",
     112, "a49b2446a02c645bf419f995b67091253a04a259"},
    {NULL, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
    {NULL, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
    {NULL, 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
    {NULL, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
    {NULL, 65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
    {NULL, 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
    {NULL, 120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
    {NULL, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
};

int main(void)
{
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		_cleanup_free_ char *a = NULL;
		const char *text = vectors[i].text;
		if (!text) {
			a = xmalloc(vectors[i].n);
			memset(a, 'a', vectors[i].n);
			text = a;
		}
		char hex[41];
		sha1_hex(text, vectors[i].n, hex);
		if (!streq(hex, vectors[i].hex)) {
			printf("FAIL %zu bytes: %s, not %s\n", vectors[i].n, hex, vectors[i].hex);
			failed++;
		}
	}
	printf("%zu passed, %d failed\n", ARRAY_SIZE(vectors) - failed, failed);
	return failed != 0;
}
