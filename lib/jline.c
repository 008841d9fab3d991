/*
 * jline.c - the checksum of a journal line: CRC-32C (Castagnoli), with
 * the SSE 4.2 instruction where the processor has it and a table where
 * not, over the line's text up to its last member, which is the
 * checksum: {...,"crc":"89abcdef"}.  A digit changed on the disk is
 * then found by every reader, and the line stays one JSON object that
 * jq or a person can read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jline.h"
#include "util.h"

#define SUFFIX ",\"crc\":\""
#define SUFFIX_LEN (sizeof(SUFFIX) - 1)
#define SEALED_LEN (SUFFIX_LEN + 8 + 2)		/* and 8 digits and "} */

static uint32_t table[256];

static void
maketable(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		table[i] = c;
	}
}

static uint32_t
bytable(uint32_t crc, const unsigned char *p, size_t n)
{
	if (table[1] == 0)
		maketable();
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t
byinstruction(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc, w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	while (n--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

uint32_t
dphp_crc32c(const void *buf, size_t n)
{
	uint32_t crc = 0xffffffff;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (__builtin_cpu_supports("sse4.2"))
		return ~byinstruction(crc, buf, n);
#endif
	return ~bytable(crc, buf, n);
}

char *
dphp_jline_seal(char *text, size_t *len)
{
	size_t n = *len - 1;	/* without the closing brace */

	text = xrealloc(text, n + SEALED_LEN + 1);
	snprintf(text + n, SEALED_LEN + 1, SUFFIX "%08x\"}",
	    (unsigned)dphp_crc32c(text, n));
	*len = n + SEALED_LEN;
	return text;
}

int
dphp_jline_check(const char *line, size_t n)
{
	char want[9];
	size_t i;

	if (n < SEALED_LEN + 1 || memcmp(line + n - SEALED_LEN, SUFFIX,
	    SUFFIX_LEN) != 0 || memcmp(line + n - 2, "\"}", 2) != 0)
		return 0;
	for (i = n - 10; i < n - 2; i++)
		if (strchr("0123456789abcdef", line[i]) == NULL ||
		    line[i] == '\0')
			return 0;
	snprintf(want, sizeof(want), "%08x", (unsigned)dphp_crc32c(line,
	    n - SEALED_LEN));
	return memcmp(want, line + n - 10, 8) == 0 ? 1 : -1;
}
