/*
 * check_out.c — unit tests for src/out.h: records are gathered and written
 * only when a block is full or on flush; a reader that went away (EPIPE)
 * closes the output quietly, without a SIGPIPE death; other write errors
 * are reported; memory shrinks back after an outsized record.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "check_main.h"
#include "out.h"

/* Bytes waiting in a pipe. */
static int pipe_pending(int fd)
{
	int n = -1;
	ck_assert_int_eq(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static void add_record(struct out *o, const char *s)
{
	buf_adds(out_buf(o), s);
}

START_TEST(test_init)
{
	signal(SIGPIPE, SIG_DFL);
	struct out o;
	out_init(&o, 7);
	ck_assert_int_eq(o.fd, 7);
	ck_assert_uint_eq(o.block, 65536);
	ck_assert_uint_ge(o.buf.cap, 2 * o.block); /* a record fits after a nearly full block */
	ck_assert(!out_pending(&o));
	ck_assert(!out_closed(&o));
	ck_assert_int_eq(o.error, 0);
	struct sigaction sa;
	ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	ck_assert_ptr_eq((void *)sa.sa_handler, (void *)SIG_IGN);
	out_free(&o);
}
END_TEST

START_TEST(test_commit_waits_flush_writes)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct out o;
	out_init(&o, p[1]);
	add_record(&o, "{\"a\":1}\n");
	ck_assert(out_commit(&o));
	add_record(&o, "{\"b\":2}\n");
	ck_assert(out_commit(&o));
	ck_assert(out_pending(&o));
	ck_assert_int_eq(pipe_pending(p[0]), 0); /* nothing written yet */

	ck_assert(out_flush(&o));
	ck_assert(!out_pending(&o));
	ck_assert_int_eq(pipe_pending(p[0]), 16);
	char got[32];
	ck_assert_int_eq(read(p[0], got, sizeof got), 16);
	ck_assert_mem_eq(got, "{\"a\":1}\n{\"b\":2}\n", 16);

	/* flushing with nothing pending writes nothing */
	ck_assert(out_flush(&o));
	ck_assert_int_eq(pipe_pending(p[0]), 0);
	out_free(&o);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_commit_writes_full_block)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	/* room for the whole block, so the writer never waits for a reader */
	ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 4 * 65536);
	struct out o;
	out_init(&o, p[1]);
	char rec[101];
	memset(rec, 'r', 99);
	rec[99] = '\n';
	rec[100] = '\0';
	size_t total = 0;
	while (total + 100 < o.block) {
		add_record(&o, rec);
		total += 100;
		ck_assert(out_commit(&o));
		ck_assert_int_eq(pipe_pending(p[0]), 0);
	}
	ck_assert_uint_eq(o.buf.len, total);
	/* the record that fills the block sends everything at once */
	add_record(&o, rec);
	total += 100;
	ck_assert_uint_ge(total, o.block);
	ck_assert(out_commit(&o));
	ck_assert(!out_pending(&o));
	ck_assert_int_eq(pipe_pending(p[0]), (int)total);

	/* and the stream is the records in order */
	char *got = malloc(total);
	size_t have = 0;
	while (have < total) {
		ssize_t n = read(p[0], got + have, total - have);
		ck_assert_int_gt(n, 0);
		have += (size_t)n;
	}
	for (size_t i = 0; i < total; i += 100)
		ck_assert_mem_eq(got + i, rec, 100);
	free(got);
	out_free(&o);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_closed_pipe)
{
	signal(SIGPIPE, SIG_DFL); /* out_init must take care of it */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct out o;
	out_init(&o, p[1]);
	close(p[0]); /* the reader went away, as after `| head` */
	add_record(&o, "line\n");
	ck_assert(out_commit(&o)); /* not written yet, nothing known */
	ck_assert(!out_closed(&o));
	ck_assert(!out_flush(&o));
	ck_assert(out_closed(&o));
	ck_assert_int_eq(o.error, 0); /* closed is not an error */
	ck_assert(!out_pending(&o));
	/* from now on everything is dropped */
	add_record(&o, "more\n");
	ck_assert(!out_commit(&o));
	ck_assert(!out_flush(&o));
	ck_assert(!out_pending(&o));
	ck_assert(out_closed(&o));
	out_free(&o);
	close(p[1]);
}
END_TEST

START_TEST(test_closed_pipe_on_commit)
{
	signal(SIGPIPE, SIG_DFL);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct out o;
	out_init(&o, p[1]);
	close(p[0]);
	char *big = malloc(o.block + 1);
	memset(big, 'x', o.block);
	big[o.block] = '\0';
	add_record(&o, big);
	free(big);
	ck_assert(!out_commit(&o));
	ck_assert(out_closed(&o));
	ck_assert_int_eq(o.error, 0);
	out_free(&o);
	close(p[1]);
}
END_TEST

START_TEST(test_write_error)
{
	int fd = open("/dev/null", O_RDONLY); /* writing it fails with EBADF */
	ck_assert_int_ge(fd, 0);
	char errpath[] = "/tmp/check_out_err.XXXXXX";
	int errfd = mkstemp(errpath);
	ck_assert_int_ge(errfd, 0);
	int saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	dup2(errfd, STDERR_FILENO);

	struct out o;
	out_init(&o, fd);
	add_record(&o, "x\n");
	bool flushed = out_flush(&o);
	bool commit_after = out_commit(&o);

	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert(!flushed);
	ck_assert(!commit_after);
	ck_assert_int_eq(o.error, EBADF);
	ck_assert(!out_closed(&o)); /* a failure, not a closed pipe */
	ck_assert(!out_pending(&o));

	char text[512] = {0};
	ck_assert_int_ge(pread(errfd, text, sizeof text - 1, 0), 1);
	ck_assert_msg(strstr(text, "cannot write output") != NULL, "stderr: %s", text);
	out_free(&o);
	close(errfd);
	unlink(errpath);
	close(fd);
}
END_TEST

/* An outsized record is written whole and its memory given back. */
START_TEST(test_large_record_shrinks)
{
	char path[] = "/tmp/check_out.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	struct out o;
	out_init(&o, fd);
	size_t initial = o.buf.cap;
	const size_t big = 1u << 20;
	char *p = buf_reserve(out_buf(&o), big);
	for (size_t i = 0; i < big; i++)
		p[i] = (char)(i % 251);
	o.buf.len += big;
	ck_assert_uint_ge(o.buf.cap, big);
	ck_assert(out_commit(&o));
	ck_assert(!out_pending(&o));
	ck_assert_uint_eq(o.buf.cap, initial);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), (off_t)big);

	char *back = malloc(big);
	ck_assert_int_eq(pread(fd, back, big, 0), (ssize_t)big);
	for (size_t i = 0; i < big; i++)
		if ((unsigned char)back[i] != i % 251)
			ck_abort_msg("byte %zu differs", i);
	free(back);
	out_free(&o);
	close(fd);
}
END_TEST

static Suite *out_suite(void)
{
	Suite *s = suite_create("out");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_commit_waits_flush_writes);
	tcase_add_test(tc, test_commit_writes_full_block);
	tcase_add_test(tc, test_closed_pipe);
	tcase_add_test(tc, test_closed_pipe_on_commit);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_large_record_shrinks);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(out_suite)
