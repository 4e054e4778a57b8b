/*
 * base64.h — RFC 4648 base64 (standard alphabet, padded) for binary bodies
 * and correlation data in envelopes.
 */
#ifndef MQMON_BASE64_H
#define MQMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Append the base64 text of p[0..n) to out. */
void base64_encode(struct buf *out, const void *p, size_t n);
/* Append the bytes encoded by text s[0..n) to out.  Padding is optional;
 * whitespace and anything outside the alphabet is an error.  On error
 * returns false and sets *bad to the offset of the offending character. */
bool base64_decode(struct buf *out, const char *s, size_t n, size_t *bad);

#endif
