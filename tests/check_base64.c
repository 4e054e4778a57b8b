/*
 * check_base64.c — unit tests for src/base64.h: the RFC 4648 test vectors,
 * optional padding, the error offsets, and that both directions append to
 * what the buffer already holds.
 */
#include "config.h"

#include <string.h>

#include "base64.h"
#include "check_main.h"

static const struct {
	const char *plain, *coded;
} vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
};

START_TEST(test_encode_vectors)
{
	struct buf b = BUF_INIT;
	base64_encode(&b, vectors[_i].plain, strlen(vectors[_i].plain));
	ck_assert_uint_eq(b.len, strlen(vectors[_i].coded));
	ck_assert_mem_eq(b.data ? b.data : "", vectors[_i].coded, b.len);
	buf_free(&b);
}
END_TEST

START_TEST(test_decode_vectors)
{
	struct buf b = BUF_INIT;
	size_t bad = 12345;
	ck_assert(base64_decode(&b, vectors[_i].coded, strlen(vectors[_i].coded), &bad));
	ck_assert_uint_eq(b.len, strlen(vectors[_i].plain));
	ck_assert_mem_eq(b.data, vectors[_i].plain, b.len);
	ck_assert_uint_eq(bad, 12345); /* untouched on success */
	buf_free(&b);
}
END_TEST

START_TEST(test_decode_unpadded)
{
	struct buf b = BUF_INIT;
	size_t bad;
	ck_assert(base64_decode(&b, "Zg", 2, &bad));
	ck_assert_uint_eq(b.len, 1);
	ck_assert_mem_eq(b.data, "f", 1);
	buf_reset(&b);
	ck_assert(base64_decode(&b, "Zm8", 3, &bad));
	ck_assert_uint_eq(b.len, 2);
	ck_assert_mem_eq(b.data, "fo", 2);
	buf_reset(&b);
	ck_assert(base64_decode(&b, "Zm9vYmE", 7, &bad));
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "fooba", 5);
	buf_free(&b);
}
END_TEST

static void expect_bad(const char *text, size_t want_bad)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "keep");
	size_t bad = 9999;
	ck_assert_msg(!base64_decode(&b, text, strlen(text), &bad), "'%s' accepted", text);
	ck_assert_msg(bad == want_bad, "'%s': bad at %zu, expected %zu", text, bad, want_bad);
	/* nothing appended on failure */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_mem_eq(b.data, "keep", 4);
	buf_free(&b);
}

START_TEST(test_decode_errors)
{
	expect_bad("Z", 0); /* one character cannot hold a byte */
	expect_bad("Zm9vY", 4);
	expect_bad("Zg=", 2); /* padding must complete the quantum */
	expect_bad("Zm9v=", 4);
	expect_bad("Zg===", 2); /* at most two '=' */
	expect_bad("=", 0);
	expect_bad("Zm=9", 2); /* '=' only at the end */
	expect_bad("ab!d", 2);
	expect_bad("Zm9v\n", 4); /* whitespace is an error */
	expect_bad(" Zm9v", 0);
	expect_bad("Zm 9v", 2);
	expect_bad("ab-_", 2); /* the URL-safe alphabet is not base64 */
	expect_bad("Zm9\xc3\xa9", 3);
}
END_TEST

START_TEST(test_all_bytes_roundtrip)
{
	unsigned char all[256 * 3];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)(i * 7 + i / 256);
	for (size_t n = 0; n <= sizeof all; n += (n < 10 ? 1 : 97)) {
		struct buf enc = BUF_INIT, dec = BUF_INIT;
		size_t bad;
		base64_encode(&enc, all, n);
		ck_assert_uint_eq(enc.len, (n + 2) / 3 * 4);
		ck_assert(base64_decode(&dec, enc.data, enc.len, &bad));
		ck_assert_uint_eq(dec.len, n);
		if (n)
			ck_assert_mem_eq(dec.data, all, n);
		buf_free(&enc);
		buf_free(&dec);
	}
}
END_TEST

START_TEST(test_appends)
{
	struct buf b = BUF_INIT;
	size_t bad;
	buf_adds(&b, "x:");
	base64_encode(&b, "\x00\xff\x10", 3);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_mem_eq(b.data, "x:AP8Q", 6);
	base64_encode(&b, "", 0);
	ck_assert_uint_eq(b.len, 6);
	ck_assert(base64_decode(&b, "AP8Q", 4, &bad));
	ck_assert_uint_eq(b.len, 9);
	ck_assert_mem_eq(b.data, "x:AP8Q\x00\xff\x10", 9);
	buf_free(&b);

	/* decoding into a buffer near its capacity grows it */
	struct buf big = BUF_INIT;
	char text[400];
	memset(text, 'A', sizeof text);
	buf_reserve(&big, 255);
	memset(big.data, 'z', 255);
	big.len = 255;
	ck_assert(base64_decode(&big, text, sizeof text, &bad));
	ck_assert_uint_eq(big.len, 255 + 300);
	ck_assert_int_eq(big.data[254], 'z');
	ck_assert_int_eq(big.data[255], 0);
	ck_assert_int_eq(big.data[554], 0);
	buf_free(&big);
}
END_TEST

static Suite *base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_encode_vectors, 0, (int)(sizeof vectors / sizeof vectors[0]));
	tcase_add_loop_test(tc, test_decode_vectors, 0, (int)(sizeof vectors / sizeof vectors[0]));
	tcase_add_test(tc, test_decode_unpadded);
	tcase_add_test(tc, test_decode_errors);
	tcase_add_test(tc, test_all_bytes_roundtrip);
	tcase_add_test(tc, test_appends);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(base64_suite)
