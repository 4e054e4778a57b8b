/*
 * utf8.h — UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF).  Used to pick an envelope's enc and to check topics.
 */
#ifndef MQMON_UTF8_H
#define MQMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Length of the longest valid UTF-8 prefix of p[0..n). */
size_t utf8_valid_prefix(const char *p, size_t n);
static inline bool utf8_valid(const char *p, size_t n)
{
	return utf8_valid_prefix(p, n) == n;
}
/* Length of the valid sequence at p (1–4), or 0 if p does not start one. */
size_t utf8_sequence_len(const unsigned char *p, size_t n);
/* Append s[0..n) to out with every byte that does not start a valid
 * sequence replaced by U+FFFD, so the result is valid UTF-8. */
void utf8_append_lossy(struct buf *out, const char *s, size_t n);
/* Append code point cp as UTF-8 to out (needs 4 bytes); returns bytes written. */
size_t utf8_encode(unsigned cp, char *out);

#endif
