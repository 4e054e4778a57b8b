/*
 * check_utf8.c — unit tests for src/utf8.h: RFC 3629 validation (overlongs,
 * surrogates, code points above U+10FFFF, truncated sequences), the ASCII
 * fast path's boundaries, and encoding.
 */
#include "config.h"

#include <string.h>

#include "check_main.h"
#include "utf8.h"

#define S(lit) (lit), (sizeof(lit) - 1)

START_TEST(test_valid)
{
	ck_assert(utf8_valid(S("")));
	ck_assert(utf8_valid(S("plain ascii")));
	ck_assert(utf8_valid(S("a\0b"))); /* NUL is valid UTF-8 */
	ck_assert(utf8_valid(S("caf\xc3\xa9")));
	ck_assert(utf8_valid(S("\xc2\x80"))); /* U+0080 */
	ck_assert(utf8_valid(S("\xdf\xbf"))); /* U+07FF */
	ck_assert(utf8_valid(S("\xe0\xa0\x80"))); /* U+0800 */
	ck_assert(utf8_valid(S("\xe2\x82\xac"))); /* U+20AC */
	ck_assert(utf8_valid(S("\xed\x9f\xbf"))); /* U+D7FF */
	ck_assert(utf8_valid(S("\xee\x80\x80"))); /* U+E000 */
	ck_assert(utf8_valid(S("\xef\xbf\xbf"))); /* U+FFFF */
	ck_assert(utf8_valid(S("\xf0\x90\x80\x80"))); /* U+10000 */
	ck_assert(utf8_valid(S("\xf0\x9f\x98\x80"))); /* U+1F600 */
	ck_assert(utf8_valid(S("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
	ck_assert(utf8_valid(S("0123456789abcdef\xc3\xa9"))); /* after the fast path */
}
END_TEST

START_TEST(test_invalid)
{
	ck_assert(!utf8_valid(S("\x80"))); /* lone continuation */
	ck_assert(!utf8_valid(S("\xbf")));
	ck_assert(!utf8_valid(S("\xc0\x80"))); /* overlong NUL */
	ck_assert(!utf8_valid(S("\xc1\xbf"))); /* overlong 2-byte */
	ck_assert(!utf8_valid(S("\xe0\x80\x80"))); /* overlong 3-byte */
	ck_assert(!utf8_valid(S("\xe0\x9f\xbf")));
	ck_assert(!utf8_valid(S("\xf0\x80\x80\x80"))); /* overlong 4-byte */
	ck_assert(!utf8_valid(S("\xf0\x8f\xbf\xbf")));
	ck_assert(!utf8_valid(S("\xed\xa0\x80"))); /* U+D800, a surrogate */
	ck_assert(!utf8_valid(S("\xed\xbf\xbf"))); /* U+DFFF */
	ck_assert(!utf8_valid(S("\xf4\x90\x80\x80"))); /* U+110000 */
	ck_assert(!utf8_valid(S("\xf5\x80\x80\x80")));
	ck_assert(!utf8_valid(S("\xf8\x88\x80\x80\x80")));
	ck_assert(!utf8_valid(S("\xfe")));
	ck_assert(!utf8_valid(S("\xff")));
	ck_assert(!utf8_valid(S("\xc3"))); /* truncated at the end */
	ck_assert(!utf8_valid(S("\xe2\x82")));
	ck_assert(!utf8_valid(S("\xf0\x9f\x98")));
	ck_assert(!utf8_valid(S("\xe2\x82z"))); /* truncated in the middle */
	ck_assert(!utf8_valid(S("\xc3\xc3\xa9"))); /* lead byte where a continuation belongs */
}
END_TEST

START_TEST(test_valid_prefix)
{
	ck_assert_uint_eq(utf8_valid_prefix(S("abc")), 3);
	ck_assert_uint_eq(utf8_valid_prefix(S("abc\xff")), 3);
	ck_assert_uint_eq(utf8_valid_prefix(S("abc\xe2\x82")), 3);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xc3\xa9\xc3")), 2);
	/* the ASCII fast path reads 8 bytes at a time: errors at and around
	 * its boundaries */
	ck_assert_uint_eq(utf8_valid_prefix(S("abcdefgh\xffxyz")), 8);
	ck_assert_uint_eq(utf8_valid_prefix(S("abcdefg\xff")), 7);
	ck_assert_uint_eq(utf8_valid_prefix(S("abcdefghi\xff")), 9);
	ck_assert_uint_eq(utf8_valid_prefix(S("abcdefg\xc3\xa9"
	                                      "abcdefgh\x80")),
	                  17);

	char big[1000];
	memset(big, 'x', sizeof big);
	ck_assert_uint_eq(utf8_valid_prefix(big, sizeof big), sizeof big);
	big[999] = '\xff';
	ck_assert_uint_eq(utf8_valid_prefix(big, sizeof big), 999);
	big[500] = '\x80';
	ck_assert_uint_eq(utf8_valid_prefix(big, sizeof big), 500);
	/* n limits the scan: bytes beyond it are not looked at */
	ck_assert_uint_eq(utf8_valid_prefix(big, 500), 500);
}
END_TEST

START_TEST(test_sequence_len)
{
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"a", 1), 1);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xc3\xa9", 2), 2);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\x80", 1), 0);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
	/* n shorter than the sequence: not valid, even if the bytes follow */
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	ck_assert_uint_eq(utf8_sequence_len((const unsigned char *)"\xf0\x9f\x98\x80", 3), 0);
}
END_TEST

START_TEST(test_encode)
{
	char out[4];
	ck_assert_uint_eq(utf8_encode(0x41, out), 1);
	ck_assert_mem_eq(out, "A", 1);
	ck_assert_uint_eq(utf8_encode(0, out), 1);
	ck_assert_int_eq(out[0], 0);
	ck_assert_uint_eq(utf8_encode(0xE9, out), 2);
	ck_assert_mem_eq(out, "\xc3\xa9", 2);
	ck_assert_uint_eq(utf8_encode(0x7FF, out), 2);
	ck_assert_mem_eq(out, "\xdf\xbf", 2);
	ck_assert_uint_eq(utf8_encode(0x800, out), 3);
	ck_assert_mem_eq(out, "\xe0\xa0\x80", 3);
	ck_assert_uint_eq(utf8_encode(0x20AC, out), 3);
	ck_assert_mem_eq(out, "\xe2\x82\xac", 3);
	ck_assert_uint_eq(utf8_encode(0xFFFD, out), 3);
	ck_assert_mem_eq(out, "\xef\xbf\xbd", 3);
	ck_assert_uint_eq(utf8_encode(0x1F600, out), 4);
	ck_assert_mem_eq(out, "\xf0\x9f\x98\x80", 4);
	ck_assert_uint_eq(utf8_encode(0x10FFFF, out), 4);
	ck_assert_mem_eq(out, "\xf4\x8f\xbf\xbf", 4);
}
END_TEST

/* Every scalar value encodes to a sequence the validator accepts, of the
 * length utf8_sequence_len reports. */
START_TEST(test_encode_all_roundtrip)
{
	char out[4];
	for (unsigned cp = 0; cp <= 0x10FFFF; cp++) {
		if (cp == 0xD800)
			cp = 0xE000;
		size_t n = utf8_encode(cp, out);
		size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		/* no ck_assert per code point: check records each one */
		if (n != want || utf8_sequence_len((const unsigned char *)out, n) != n || !utf8_valid(out, n))
			ck_abort_msg("U+%04X: %zu bytes, valid sequence of %zu", cp, n,
			             utf8_sequence_len((const unsigned char *)out, n));
	}
}
END_TEST

static Suite *utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_valid_prefix);
	tcase_add_test(tc, test_sequence_len);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_encode_all_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(utf8_suite)
