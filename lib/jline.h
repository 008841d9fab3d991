/*
 * jline.h - the checksum of a journal line (jline.c, dphp-store(5)): a
 * line is a JSON object whose last member is "crc", the CRC-32C of the
 * text before it, as eight hexadecimal digits.
 */
#ifndef DPHP_JLINE_H
#define DPHP_JLINE_H

#include <stddef.h>
#include <stdint.h>

uint32_t dphp_crc32c(const void *, size_t);
/*
 * Seal the text of a JSON object, len bytes, no newline (malloc'd): its
 * closing brace replaced by the checksum member and a brace.  Returns
 * the text, reallocated; *len is its new length.
 */
char *dphp_jline_seal(char *text, size_t *len);
/* a line read, n bytes without its newline: 1 if sealed and whole, 0 if
 * it carries no checksum, -1 if its checksum is not its text's */
int dphp_jline_check(const char *line, size_t n);

#endif
