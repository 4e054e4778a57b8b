/*
 * json.c — iterative JSON scanner (RFC 8259).  The container stack is a bit
 * array (object/array per level), so depth costs a bit, not a stack frame.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mqmon.h"
#include "utf8.h"

static bool fail(struct json_err *err, size_t pos, const char *msg)
{
	if (err) {
		err->pos = pos;
		err->msg = msg;
	}
	return false;
}

/* 0x0101…01: a byte's value in every byte of a word */
#define ONES 0x0101010101010101ULL

/* Scan a string literal at p[i] == '"'; returns the offset after it, or 0. */
static size_t skip_string(const char *p, size_t n, size_t i, struct json_err *err)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t start = i++;
	for (;;) {
		/* fast path over ordinary ASCII: 8 bytes at a time while none
		 * is a control character, non-ASCII, '"' or '\\' */
		while (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			uint64_t q = w ^ ONES * '"', b = w ^ ONES * '\\';
			/* the top bit of a byte: < 0x20, == '"', == '\\', >= 0x80 */
			uint64_t hit = ((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | w;
			if (hit & ONES * 0x80) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* the lowest flag is a true one (a borrow only runs up) */
				i += (size_t)__builtin_ctzll(hit & ONES * 0x80) / 8;
#endif
				break;
			}
			i += 8;
		}
		while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
			i++;
		if (i >= n) {
			fail(err, start, "unterminated string");
			return 0;
		}
		unsigned c = s[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (i + 1 >= n) {
				fail(err, start, "unterminated string");
				return 0;
			}
			char e = p[i + 1];
			if (e == 'u') {
				if (i + 6 > n || mqmon_hexval(p[i + 2]) < 0 || mqmon_hexval(p[i + 3]) < 0 ||
				    mqmon_hexval(p[i + 4]) < 0 || mqmon_hexval(p[i + 5]) < 0) {
					fail(err, i, "bad \\u escape in string");
					return 0;
				}
				i += 6;
			} else if (e && strchr("\"\\/bfnrt", e)) {
				i += 2;
			} else {
				fail(err, i, "bad escape in string");
				return 0;
			}
			continue;
		}
		if (c < 0x20) {
			fail(err, i, "control character in string");
			return 0;
		}
		size_t k = utf8_sequence_len(s + i, n - i);
		if (!k) {
			fail(err, i, "invalid UTF-8 in string");
			return 0;
		}
		i += k;
	}
}

static size_t skip_digits(const char *p, size_t n, size_t i)
{
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i;
}

static size_t skip_number(const char *p, size_t n, size_t i, struct json_err *err)
{
	size_t start = i;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		i = skip_digits(p, n, i + 1);
	else {
		fail(err, start, "bad number");
		return 0;
	}
	if (i < n && p[i] == '.') {
		size_t j = skip_digits(p, n, i + 1);
		if (j == i + 1) {
			fail(err, i, "bad number: no digits after '.'");
			return 0;
		}
		i = j;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		size_t j = skip_digits(p, n, i);
		if (j == i) {
			fail(err, i, "bad number: no digits in exponent");
			return 0;
		}
		i = j;
	}
	return i;
}

static size_t skip_literal(const char *p, size_t n, size_t i, const char *word, struct json_err *err)
{
	size_t len = strlen(word);
	if (n - i < len || memcmp(p + i, word, len) != 0) {
		fail(err, i, "unexpected character");
		return 0;
	}
	return i + len;
}

bool json_skip_value(const char *p, size_t n, size_t *pos, struct json_err *err)
{
	/* bit set = inside an object, clear = inside an array */
	uint64_t stack[(JSON_MAX_DEPTH + 63) / 64];
	int depth = 0;
	size_t i = json_skip_ws(p, n, *pos);

	for (;;) {
		/* expect a value at p[i] */
		if (i >= n)
			return fail(err, i,
			            depth ? "unexpected end inside a container" : "empty input, expected a value");
		char c = p[i];
		if (c == '{' || c == '[') {
			if (depth >= JSON_MAX_DEPTH)
				return fail(err, i, "nested too deeply");
			uint64_t bit = 1ULL << (depth % 64);
			if (c == '{')
				stack[depth / 64] |= bit;
			else
				stack[depth / 64] &= ~bit;
			depth++;
			i = json_skip_ws(p, n, i + 1);
			char close = c == '{' ? '}' : ']';
			if (i < n && p[i] == close) {
				depth--;
				i++;
				goto after_value;
			}
			if (c == '{')
				goto expect_key;
			continue;
		} else if (c == '"') {
			if (!(i = skip_string(p, n, i, err)))
				return false;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (!(i = skip_number(p, n, i, err)))
				return false;
		} else if (c == 't') {
			if (!(i = skip_literal(p, n, i, "true", err)))
				return false;
		} else if (c == 'f') {
			if (!(i = skip_literal(p, n, i, "false", err)))
				return false;
		} else if (c == 'n') {
			if (!(i = skip_literal(p, n, i, "null", err)))
				return false;
		} else {
			return fail(err, i, "unexpected character, expected a value");
		}

	after_value:
		if (depth == 0) {
			*pos = i;
			return true;
		}
		i = json_skip_ws(p, n, i);
		if (i >= n)
			return fail(err, i, "unexpected end inside a container");
		{
			bool in_object = stack[(depth - 1) / 64] >> ((depth - 1) % 64) & 1;
			char close = in_object ? '}' : ']';
			if (p[i] == close) {
				depth--;
				i++;
				goto after_value;
			}
			if (p[i] != ',')
				return fail(err, i, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
			i = json_skip_ws(p, n, i + 1);
			if (!in_object)
				continue;
		}
	expect_key:
		if (i >= n || p[i] != '"')
			return fail(err, i, "expected a string key");
		if (!(i = skip_string(p, n, i, err)))
			return false;
		i = json_skip_ws(p, n, i);
		if (i >= n || p[i] != ':')
			return fail(err, i, "expected ':' after key");
		i = json_skip_ws(p, n, i + 1);
	}
}

bool json_validate(const char *p, size_t n, struct json_err *err)
{
	size_t pos = 0;
	if (!json_skip_value(p, n, &pos, err))
		return false;
	pos = json_skip_ws(p, n, pos);
	if (pos != n)
		return fail(err, pos, "trailing characters after the value");
	return true;
}

void json_compact(struct buf *out, const char *p, size_t n)
{
	char *o = buf_reserve(out, n);
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
		} else if (c == '"') {
			size_t j = i + 1;
			while (j < n && p[j] != '"') {
				if (p[j] == '\\' && j + 1 < n)
					j++;
				j++;
			}
			j = j < n ? j + 1 : n;
			memcpy(o, p + i, j - i);
			o += j - i;
			i = j;
		} else {
			*o++ = c;
			i++;
		}
	}
	out->len = (size_t)(o - out->data);
}

static int hex4(const char *p)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		int h = mqmon_hexval(p[k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

bool json_string_decode(const char *p, size_t n, size_t *pos, struct buf *out, struct json_err *err)
{
	size_t i = *pos;
	if (i >= n || p[i] != '"')
		return fail(err, i, "expected a string");
	size_t end = skip_string(p, n, i, err);
	if (!end)
		return false;
	i++;
	/* the literal is valid, so only escapes need care here */
	char *o = buf_reserve(out, end - i);
	while (i < end - 1) {
		const char *bs = memchr(p + i, '\\', end - 1 - i);
		size_t run = bs ? (size_t)(bs - (p + i)) : end - 1 - i;
		memcpy(o, p + i, run);
		o += run;
		i += run;
		if (!bs)
			break;
		char e = p[i + 1];
		i += 2;
		switch (e) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = (unsigned)hex4(p + i);
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= end && p[i] == '\\' && p[i + 1] == 'u') {
				int lo = hex4(p + i + 2);
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD; /* a lone surrogate cannot be UTF-8 */
			/* 6 escape bytes always cover a sequence of at most 4 */
			o += utf8_encode(cp, o);
			break;
		}
		default: *o++ = e; break; /* \" \\ \/ */
		}
	}
	out->len = (size_t)(o - out->data);
	*pos = end;
	return true;
}

static const char hexdigits[] = "0123456789abcdef";

void json_write_string(struct buf *out, const char *s, size_t n)
{
	/* worst case every byte becomes \u00XX */
	char *o = buf_reserve(out, n * 6 + 2);
	*o++ = '"';
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hexdigits[c >> 4];
			*o++ = hexdigits[c & 15];
		}
	}
	*o++ = '"';
	out->len = (size_t)(o - out->data);
}

void json_write_text(struct buf *out, const char *s, size_t n)
{
	if (utf8_valid(s, n)) {
		json_write_string(out, s, n);
		return;
	}
	struct buf fixed = BUF_INIT;
	utf8_append_lossy(&fixed, s, n);
	json_write_string(out, fixed.data, fixed.len);
	buf_free(&fixed);
}

void json_write_double(struct buf *out, double d)
{
	if (!isfinite(d)) {
		buf_add(out, "null", 4);
		return;
	}
	char tmp[40];
	int n = 0;
	/* 15 digits print 25.6 as "25.6"; 17 always read back exactly */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_add(out, tmp, (size_t)n);
}

bool json_object_begin(const char *p, size_t n, size_t *pos, struct json_err *err)
{
	size_t i = json_skip_ws(p, n, *pos);
	if (i >= n || p[i] != '{')
		return fail(err, i, "not a JSON object");
	*pos = i + 1;
	return true;
}

bool json_object_next(const char *p, size_t n, size_t *pos, struct json_member *m, struct json_err *err)
{
	if (err)
		err->msg = NULL;
	size_t i = json_skip_ws(p, n, *pos);
	if (i < n && p[i] == ',') {
		size_t back = i;
		while (back > 0 &&
		       (p[back - 1] == ' ' || p[back - 1] == '\t' || p[back - 1] == '\r' || p[back - 1] == '\n'))
			back--;
		if (back > 0 && p[back - 1] == '{')
			return fail(err, i, "expected a string key");
		i = json_skip_ws(p, n, i + 1);
		if (i < n && p[i] == '}')
			return fail(err, i, "expected a string key");
	} else if (i < n && p[i] == '}') {
		*pos = i + 1;
		return false;
	}
	if (i >= n || p[i] != '"')
		return fail(err, i, i >= n ? "unterminated object" : "expected a string key");
	size_t kend = skip_string(p, n, i, err);
	if (!kend)
		return false;
	m->key = p + i;
	m->key_len = kend - i;
	i = json_skip_ws(p, n, kend);
	if (i >= n || p[i] != ':')
		return fail(err, i, "expected ':' after key");
	i = json_skip_ws(p, n, i + 1);
	size_t vstart = i;
	if (!json_skip_value(p, n, &i, err))
		return false;
	m->val = p + vstart;
	m->val_len = i - vstart;
	i = json_skip_ws(p, n, i);
	if (i >= n || (p[i] != ',' && p[i] != '}'))
		return fail(err, i, i >= n ? "unterminated object" : "expected ',' or '}'");
	*pos = i;
	return true;
}

bool json_value_is(const struct json_member *m, const char *text)
{
	size_t n = strlen(text);
	return m->val_len == n && memcmp(m->val, text, n) == 0;
}

bool json_uint(const char *v, size_t n, unsigned long max, unsigned long *out)
{
	if (n == 0 || n > 10)
		return false;
	unsigned long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (unsigned long)(v[i] - '0');
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}
