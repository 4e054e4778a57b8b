/*
 * check_linereader.c — unit tests for src/linereader.h over pipes and
 * temporary files: lines split across reads, a 5 MiB line, CRLF, NUL
 * bytes, invalid UTF-8, a last line without newline, empty lines, line
 * numbers, non-blocking descriptors, read errors, and the buffer shrinking
 * back after an outsized line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "linereader.h"

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		ck_assert_int_gt(w, 0);
		c += w;
		n -= (size_t)w;
	}
}

/* A temporary file holding p[0..n), opened for reading at offset 0. */
static int temp_with(const void *p, size_t n)
{
	char path[] = "/tmp/check_linereader.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	write_all(fd, p, n);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void expect_line(struct linereader *lr, const char *want, size_t want_len, unsigned long lineno)
{
	struct line ln;
	ck_assert_msg(linereader_getline(lr, &ln), "no line %lu", lineno);
	ck_assert_uint_eq(ln.len, want_len);
	if (want_len)
		ck_assert_mem_eq(ln.data, want, want_len);
	ck_assert_int_eq(ln.data[ln.len], '\0');
	ck_assert_uint_eq(ln.lineno, lineno);
	ck_assert_uint_eq(lr->lineno, lineno);
}
#define EXPECT_LINE(lr, lit, no) expect_line((lr), (lit), sizeof(lit) - 1, (no))

static void expect_end(struct linereader *lr)
{
	struct line ln;
	ck_assert(!linereader_getline(lr, &ln));
	ck_assert(lr->eof);
	ck_assert_int_eq(lr->error, 0);
	/* and it stays at the end */
	ck_assert(!linereader_getline(lr, &ln));
	ck_assert_int_eq(linereader_fill(lr), 0);
}

START_TEST(test_basic_lines)
{
	static const char text[] = "one\ntwo\n\nfour\n";
	int fd = temp_with(text, sizeof text - 1);
	struct linereader lr;
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "one", 1);
	EXPECT_LINE(&lr, "two", 2);
	EXPECT_LINE(&lr, "", 3);
	EXPECT_LINE(&lr, "four", 4);
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);
}
END_TEST

START_TEST(test_empty_input)
{
	int fd = temp_with("", 0);
	struct linereader lr;
	linereader_init(&lr, fd);
	expect_end(&lr);
	ck_assert_uint_eq(lr.lineno, 0);
	linereader_free(&lr);
	close(fd);

	/* only empty lines */
	fd = temp_with("\n\n\r\n", 4);
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "", 1);
	EXPECT_LINE(&lr, "", 2);
	EXPECT_LINE(&lr, "", 3);
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
	int fd = temp_with("a\nlast", 6);
	struct linereader lr;
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "a", 1);
	EXPECT_LINE(&lr, "last", 2);
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);

	/* a CRLF file whose last line has no line end */
	fd = temp_with("x\r\ny", 4);
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "x", 1);
	EXPECT_LINE(&lr, "y", 2);
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);
}
END_TEST

START_TEST(test_crlf)
{
	static const char text[] = "a\r\nb\r\n\r\nc\rd\r\n\r\r\n";
	int fd = temp_with(text, sizeof text - 1);
	struct linereader lr;
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "a", 1);
	EXPECT_LINE(&lr, "b", 2);
	EXPECT_LINE(&lr, "", 3);
	EXPECT_LINE(&lr, "c\rd", 4); /* only a CR right before the newline goes */
	EXPECT_LINE(&lr, "\r", 5); /* and only one */
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);
}
END_TEST

START_TEST(test_nul_and_invalid_utf8)
{
	static const char text[] = "a\0b\n\0\n\xff\xfe\xc3(\n{\"k\":\"\xe9\"}\n";
	int fd = temp_with(text, sizeof text - 1);
	struct linereader lr;
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "a\0b", 1);
	EXPECT_LINE(&lr, "\0", 2);
	EXPECT_LINE(&lr, "\xff\xfe\xc3(", 3);
	EXPECT_LINE(&lr, "{\"k\":\"\xe9\"}", 4);
	expect_end(&lr);
	linereader_free(&lr);
	close(fd);
}
END_TEST

/* Lines arrive in pieces: next() says "need more" until the newline. */
START_TEST(test_split_across_reads)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct linereader lr;
	struct line ln;
	linereader_init(&lr, p[0]);

	write_all(p[1], "hel", 3);
	ck_assert_int_eq(linereader_fill(&lr), 3);
	ck_assert(!linereader_next(&lr, &ln));
	write_all(p[1], "lo wo", 5);
	ck_assert_int_eq(linereader_fill(&lr), 5);
	ck_assert(!linereader_next(&lr, &ln));
	write_all(p[1], "rld\r", 4);
	ck_assert_int_eq(linereader_fill(&lr), 4);
	ck_assert(!linereader_next(&lr, &ln)); /* a CR alone is no line end */
	write_all(p[1], "\nsecond\nthi", 11);
	ck_assert_int_eq(linereader_fill(&lr), 11);
	ck_assert(linereader_next(&lr, &ln));
	ck_assert_uint_eq(ln.len, 11);
	ck_assert_str_eq(ln.data, "hello world");
	ck_assert_uint_eq(ln.lineno, 1);
	ck_assert(linereader_next(&lr, &ln));
	ck_assert_str_eq(ln.data, "second");
	ck_assert_uint_eq(ln.lineno, 2);
	ck_assert(!linereader_next(&lr, &ln));
	write_all(p[1], "rd", 2);
	close(p[1]);
	ck_assert_int_eq(linereader_fill(&lr), 2);
	ck_assert(!linereader_next(&lr, &ln)); /* not at the end yet */
	ck_assert_int_eq(linereader_fill(&lr), 0);
	ck_assert(lr.eof);
	ck_assert(linereader_next(&lr, &ln));
	ck_assert_str_eq(ln.data, "third");
	ck_assert_uint_eq(ln.lineno, 3);
	ck_assert(!linereader_next(&lr, &ln));
	linereader_free(&lr);
	close(p[0]);
}
END_TEST

/* Byte by byte through a pipe: the same lines as one read. */
START_TEST(test_one_byte_reads)
{
	static const char text[] = "ab\r\n\nc\0d\ne";
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct linereader lr;
	struct line ln;
	linereader_init(&lr, p[0]);
	const char *want[] = {"ab", "", "c\0d", "e"};
	size_t want_len[] = {2, 0, 3, 1};
	size_t got = 0;
	for (size_t i = 0; i <= sizeof text - 1; i++) {
		if (i < sizeof text - 1)
			write_all(p[1], text + i, 1);
		else
			close(p[1]);
		ck_assert_int_eq(linereader_fill(&lr), i < sizeof text - 1 ? 1 : 0);
		while (linereader_next(&lr, &ln)) {
			ck_assert_uint_lt(got, 4);
			ck_assert_uint_eq(ln.len, want_len[got]);
			ck_assert_mem_eq(ln.data, want[got], ln.len);
			ck_assert_uint_eq(ln.lineno, got + 1);
			got++;
		}
	}
	ck_assert_uint_eq(got, 4);
	linereader_free(&lr);
	close(p[0]);
}
END_TEST

/* A 5 MiB line between two short ones, then memory goes back down. */
START_TEST(test_huge_line_and_shrink)
{
	const size_t big = 5u << 20;
	struct buf text = BUF_INIT;
	buf_adds(&text, "first\n");
	char *p = buf_reserve(&text, big);
	for (size_t i = 0; i < big; i++)
		p[i] = (char)('a' + i % 26);
	text.len += big;
	buf_adds(&text, "\n");
	for (int i = 0; i < 100; i++)
		buf_printf(&text, "small line %d\n", i);
	int fd = temp_with(text.data, text.len);

	struct linereader lr;
	linereader_init(&lr, fd);
	EXPECT_LINE(&lr, "first", 1);
	struct line ln;
	ck_assert(linereader_getline(&lr, &ln));
	ck_assert_uint_eq(ln.len, big);
	ck_assert_mem_eq(ln.data, text.data + 6, big);
	ck_assert_int_eq(ln.data[big], '\0');
	ck_assert_uint_eq(ln.lineno, 2);
	ck_assert_uint_ge(lr.buf.cap, big);
	for (int i = 0; i < 100; i++) {
		char want[32];
		snprintf(want, sizeof want, "small line %d", i);
		ck_assert(linereader_getline(&lr, &ln));
		ck_assert_str_eq(ln.data, want);
		ck_assert_uint_eq(ln.lineno, (unsigned long)i + 3);
	}
	expect_end(&lr);
	/* the reads after the big line gave its memory back */
	ck_assert_uint_le(lr.buf.cap, 512 * 1024);
	linereader_free(&lr);
	close(fd);
	buf_free(&text);
}
END_TEST

/* The same through a pipe, as a long run of ordinary lines after the big
 * one: the capacity must come back down while reading continues. */
START_TEST(test_shrink_through_pipe)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct linereader lr;
	struct line ln;
	linereader_init(&lr, p[0]);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		char *big = malloc(3u << 20);
		memset(big, 'x', 3u << 20);
		big[(3u << 20) - 1] = '\n';
		write_all(p[1], big, 3u << 20);
		free(big);
		char small[64];
		for (int i = 0; i < 20000; i++) {
			int n = snprintf(small, sizeof small, "line %d\n", i);
			write_all(p[1], small, (size_t)n);
		}
		_exit(0);
	}
	close(p[1]);
	ck_assert(linereader_getline(&lr, &ln));
	ck_assert_uint_eq(ln.len, (3u << 20) - 1);
	size_t peak = lr.buf.cap;
	ck_assert_uint_ge(peak, 3u << 20);
	int count = 0;
	size_t late_max = 0;
	while (linereader_getline(&lr, &ln)) {
		char want[32];
		snprintf(want, sizeof want, "line %d", count);
		ck_assert_str_eq(ln.data, want);
		count++;
		if (count > 10000 && lr.buf.cap > late_max)
			late_max = lr.buf.cap;
	}
	ck_assert_int_eq(count, 20000);
	ck_assert_int_eq(lr.error, 0);
	ck_assert_uint_le(late_max, 512 * 1024);
	linereader_free(&lr);
	close(p[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_nonblocking)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	struct linereader lr;
	struct line ln;
	linereader_init(&lr, p[0]);
	errno = 0;
	ck_assert_int_eq(linereader_fill(&lr), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	ck_assert_int_eq(lr.error, 0); /* not an error */
	ck_assert(!lr.eof);
	ck_assert(!linereader_next(&lr, &ln));

	write_all(p[1], "x\ny", 3);
	ck_assert_int_eq(linereader_fill(&lr), 3);
	ck_assert(linereader_next(&lr, &ln));
	ck_assert_str_eq(ln.data, "x");
	ck_assert(!linereader_next(&lr, &ln));
	errno = 0;
	ck_assert_int_eq(linereader_fill(&lr), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	ck_assert(!linereader_next(&lr, &ln)); /* the partial "y" is kept */
	write_all(p[1], "z\n", 2);
	ck_assert_int_eq(linereader_fill(&lr), 2);
	ck_assert(linereader_next(&lr, &ln));
	ck_assert_str_eq(ln.data, "yz");
	ck_assert_uint_eq(ln.lineno, 2);
	close(p[1]);
	ck_assert_int_eq(linereader_fill(&lr), 0);
	ck_assert(lr.eof);
	ck_assert(!linereader_next(&lr, &ln));
	ck_assert_int_eq(lr.error, 0);
	linereader_free(&lr);
	close(p[0]);
}
END_TEST

START_TEST(test_read_error)
{
	struct linereader lr;
	struct line ln;
	int fd = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	linereader_init(&lr, fd); /* reading a write-only descriptor fails */
	ck_assert(!linereader_getline(&lr, &ln));
	ck_assert_int_eq(lr.error, EBADF);
	ck_assert(!lr.eof);
	linereader_free(&lr);
	close(fd);
}
END_TEST

static Suite *linereader_suite(void)
{
	Suite *s = suite_create("linereader");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_basic_lines);
	tcase_add_test(tc, test_empty_input);
	tcase_add_test(tc, test_last_line_without_newline);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_nul_and_invalid_utf8);
	tcase_add_test(tc, test_split_across_reads);
	tcase_add_test(tc, test_one_byte_reads);
	tcase_add_test(tc, test_nonblocking);
	tcase_add_test(tc, test_read_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("memory");
	tcase_add_test(tc, test_huge_line_and_shrink);
	tcase_add_test(tc, test_shrink_through_pipe);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(linereader_suite)
