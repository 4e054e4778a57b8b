/*
 * check_rowfmt.c — unit tests for src/rowfmt.h: NDJSON escaping and value
 * types, table alignment (widths in characters, numbers to the right, the
 * header held with the first rows, then streaming), cutting long values
 * with "…" and escaping control characters in tables (C0, DEL, C1, the
 * bidirectional overrides), wide characters, laid-out tables (hidden and
 * renamed columns, fitting 100 columns by narrowing the columns where the
 * fewest values are cut, at their end, start or middle, later rows taking
 * the room left), CSV quoting of comma, quote, CR and LF and escaping of
 * every other control character, headers with no rows, and a reader that
 * went away.
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "rowfmt.h"

static const struct rowfmt_col *layout; /* for render(): the table's layout, or NULL */

/* Everything the writer printed for rows[nrows][ncols], as a string to
 * free.  hold is how many table rows are held back (0: the default). */
static char *render(enum rowfmt_kind kind, const char *const *names, size_t ncols, const struct rowfmt_cell *rows,
                    size_t nrows, size_t hold)
{
	FILE *tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	struct out o;
	out_init(&o, fileno(tmp));
	struct rowfmt f;
	rowfmt_init(&f, kind, &o, names, ncols);
	if (hold)
		f.hold_rows = hold;
	if (layout)
		rowfmt_table_layout(&f, layout);
	for (size_t r = 0; r < nrows; r++)
		ck_assert(rowfmt_row(&f, rows + r * ncols));
	ck_assert(rowfmt_finish(&f));
	rowfmt_free(&f);
	ck_assert(out_flush(&o));
	out_free(&o);
	long n = ftell(tmp);
	ck_assert_int_ge(n, 0);
	char *s = calloc(1, (size_t)n + 1);
	rewind(tmp);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, tmp), (size_t)n);
	fclose(tmp);
	return s;
}

static void expect(enum rowfmt_kind kind, const char *const *names, size_t ncols, const struct rowfmt_cell *rows,
                   size_t nrows, size_t hold, const char *want)
{
	char *got = render(kind, names, ncols, rows, nrows, hold);
	ck_assert_str_eq(got, want);
	free(got);
}

#define S(x) rowfmt_str(x, sizeof(x) - 1)

static const char *const two[] = {"name", "n"};

START_TEST(test_ndjson_types)
{
	static const char *const names[] = {"s", "i", "r", "b", "j", "z", "c"};
	struct rowfmt_cell row[] = {
	        S("x"),
	        rowfmt_int(-42),
	        rowfmt_real(25.6),
	        rowfmt_bool(true),
	        rowfmt_json("{\"a\":[1,2.50]}", 14),
	        rowfmt_null(),
	        rowfmt_cstr(NULL),
	};
	expect(ROWFMT_NDJSON, names, 7, row, 1, 0,
	       "{\"s\":\"x\",\"i\":-42,\"r\":25.6,\"b\":true,\"j\":{\"a\":[1,2.50]},\"z\":null,\"c\":null}\n");
}
END_TEST

START_TEST(test_ndjson_escaping)
{
	static const char *const names[] = {"k\"ey", "v"};
	struct rowfmt_cell row[] = {S("a\"b\\c\nd\te\x01"), S("bad \xff byte \xc3\xa9")};
	expect(ROWFMT_NDJSON, names, 2, row, 1, 0,
	       "{\"k\\\"ey\":\"a\\\"b\\\\c\\nd\\te\\u0001\",\"v\":\"bad \xEF\xBF\xBD byte \xc3\xa9\"}\n");
}
END_TEST

START_TEST(test_ndjson_no_rows)
{
	expect(ROWFMT_NDJSON, two, 2, NULL, 0, 0, "");
}
END_TEST

START_TEST(test_table_alignment)
{
	static const char *const names[] = {"topic", "count", "last"};
	struct rowfmt_cell rows[] = {
	        S("a/b"),      rowfmt_int(7),          S("x"),           S("autocore/long"), rowfmt_int(12345),
	        rowfmt_null(), S("\xc3\xa9t\xc3\xa9"), rowfmt_real(2.5), S("last one"),
	};
	/* numbers and their header to the right; the last column unpadded;
	 * "été" is 3 characters wide though 5 bytes; no trailing blanks */
	expect(ROWFMT_TABLE, names, 3, rows, 3, 0,
	       "topic          count  last\n"
	       "a/b                7  x\n"
	       "autocore/long  12345\n"
	       "\xc3\xa9t\xc3\xa9              2.5  last one\n");
}
END_TEST

START_TEST(test_table_header_wider)
{
	static const char *const names[] = {"a_long_name", "retain"};
	struct rowfmt_cell rows[] = {S("x"), rowfmt_bool(false), S("yy"), rowfmt_bool(true)};
	expect(ROWFMT_TABLE, names, 2, rows, 2, 0,
	       "a_long_name  retain\n"
	       "x            false\n"
	       "yy           true\n");
}
END_TEST

START_TEST(test_table_no_rows)
{
	expect(ROWFMT_TABLE, two, 2, NULL, 0, 0, "name  n\n");
}
END_TEST

START_TEST(test_table_cut_and_escape)
{
	char longv[100];
	memset(longv, 'x', 70);
	longv[70] = '\0';
	char cut[100];
	memset(cut, 'x', 59);
	strcpy(cut + 59, "\xE2\x80\xA6");
	char exact[61];
	memset(exact, 'y', 60);
	exact[60] = '\0';
	static const char *const names[] = {"v"};
	struct rowfmt_cell rows[] = {rowfmt_cstr(longv), rowfmt_cstr(exact), S("a\nb\tc\x1b"), S("\xff")};
	char want[400];
	snprintf(want, sizeof want, "v\n%s\n%s\na\\nb\\tc\\x1b\n\xEF\xBF\xBD\n", cut, exact);
	expect(ROWFMT_TABLE, names, 1, rows, 4, 0, want);
	/* a multi-byte character is never split */
	char wide[200] = "";
	for (int i = 0; i < 61; i++)
		strcat(wide, "\xc3\xa9");
	char wide_cut[200] = "v\n";
	for (int i = 0; i < 59; i++)
		strcat(wide_cut, "\xc3\xa9");
	strcat(wide_cut, "\xE2\x80\xA6\n");
	struct rowfmt_cell w[] = {rowfmt_cstr(wide)};
	expect(ROWFMT_TABLE, names, 1, w, 1, 0, wide_cut);
}
END_TEST

START_TEST(test_table_streams_after_held_rows)
{
	/* widths come from the first two rows; the third is written with
	 * them (a wider value just pushes the line) */
	struct rowfmt_cell rows[] = {S("a"), rowfmt_int(1), S("bb"), rowfmt_int(22), S("cccccc"), rowfmt_int(333)};
	expect(ROWFMT_TABLE, two, 2, rows, 3, 2,
	       "name   n\n"
	       "a      1\n"
	       "bb    22\n"
	       "cccccc  333\n");
}
END_TEST

START_TEST(test_csv_quoting)
{
	static const char *const names[] = {"name", "with,comma", "v"};
	struct rowfmt_cell rows[] = {
	        S("plain"),
	        S("a,b"),
	        rowfmt_int(1),
	        S("say \"hi\""),
	        S("two\nlines"),
	        rowfmt_null(),
	        S("cr\rhere"),
	        rowfmt_bool(false),
	        rowfmt_real(0.25),
	        S(" spaced "),
	        rowfmt_json("{\"a\":1,\"b\":\"x\"}", 15),
	        S(""),
	};
	expect(ROWFMT_CSV, names, 3, rows, 4, 0,
	       "name,\"with,comma\",v\n"
	       "plain,\"a,b\",1\n"
	       "\"say \"\"hi\"\"\",\"two\nlines\",\n"
	       "\"cr\rhere\",false,0.25\n"
	       " spaced ,\"{\"\"a\"\":1,\"\"b\"\":\"\"x\"\"}\",\n");
}
END_TEST

START_TEST(test_table_escapes_terminal_controls)
{
	/* C0, DEL, C1 (U+009B, the one-byte CSI) and a right-to-left override
	 * never reach the terminal as they are; other text stays */
	static const char *const names[] = {"v"};
	struct rowfmt_cell rows[] = {S("a\x1b[31mred\x7f"),
	                             S("b\xc2\x9b"
	                               "31m"),
	                             S("c\xe2\x80\xae"
	                               "evil"),
	                             S("\0nul")};
	expect(ROWFMT_TABLE, names, 1, rows, 4, 0, "v\na\\x1b[31mred\\x7f\nb\\u009b31m\nc\\u202eevil\n\\x00nul\n");
}
END_TEST

START_TEST(test_table_wide_characters)
{
	/* CJK characters take two columns: the next column starts after them */
	static const char *const names[] = {"name", "n"};
	struct rowfmt_cell rows[] = {S("\xe6\xb8\xa9\xe5\xba\xa6"), rowfmt_int(1), S("abcde"), rowfmt_int(2)};
	expect(ROWFMT_TABLE, names, 2, rows, 2, 0,
	       "name   n\n"
	       "\xe6\xb8\xa9\xe5\xba\xa6   1\n"
	       "abcde  2\n");
}
END_TEST

/* A string of n copies of c, in a static buffer of its own (k of 6). */
static const char *rep_char(int k, char c, size_t n)
{
	static char bufs[6][128];
	memset(bufs[k], c, n);
	bufs[k][n] = '\0';
	return bufs[k];
}

/* The widest line of s, in characters (s is ASCII and "…"). */
static size_t widest(const char *s)
{
	size_t best = 0, w = 0;
	for (; *s; s++) {
		if (*s == '\n') {
			best = w > best ? w : best;
			w = 0;
		} else if (((unsigned char)*s & 0xC0) != 0x80) {
			w++;
		}
	}
	return best;
}

START_TEST(test_table_layout_fits)
{
	/* ts kept whole, qos hidden, the topic (cut at its start) and the
	 * payload (at its end) narrowed until the lines fit 100 columns, each
	 * time where the fewest values are cut: the long payload first, alone,
	 * down to the short one; then the long topic: 24 + 2 + 42 + 2 + 30 */
	static const char *const names[] = {"ts", "qos", "topic", "payload"};
	static const struct rowfmt_col cols[] = {{NULL, ROWFMT_KEEP, 0},
	                                         {NULL, ROWFMT_HIDE, 0},
	                                         {"where", ROWFMT_CUT_START, 0},
	                                         {NULL, ROWFMT_CUT_END, 24}};
	char topic[256], want[1024];
	snprintf(topic, sizeof topic, "fleet/%s/AA:BB:CC:DD:EE:FF/reading", rep_char(0, 'x', 20));
	struct rowfmt_cell rows[] = {
	        S("2025-01-28T10:30:15.123Z"), rowfmt_int(1), rowfmt_cstr(topic), rowfmt_cstr(rep_char(1, 'p', 58)),
	        S("2025-01-28T10:30:16.000Z"), rowfmt_int(0), S("fleet/short"),   rowfmt_cstr(rep_char(2, 'q', 30)),
	};
	layout = cols;
	char *got = render(ROWFMT_TABLE, names, 4, rows, 2, 0);
	layout = NULL;
	snprintf(want, sizeof want,
	         "ts                        where%s  payload\n"
	         "2025-01-28T10:30:15.123Z  \xE2\x80\xA6%s/AA:BB:CC:DD:EE:FF/reading  %s\xE2\x80\xA6\n"
	         "2025-01-28T10:30:16.000Z  fleet/short%s  %s\n",
	         rep_char(3, ' ', 37), rep_char(0, 'x', 15), rep_char(1, 'p', 29), rep_char(4, ' ', 31),
	         rep_char(2, 'q', 30));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(widest(got), 100);
	free(got);
}
END_TEST

START_TEST(test_table_layout_middle_and_keep)
{
	/* a device id cut in its middle keeps both ends; a value cut already
	 * (to 60) is cut further before one that is whole; a number is never
	 * cut */
	static const char *const names[] = {"device", "count", "value"};
	static const struct rowfmt_col cols[] = {
	        {NULL, ROWFMT_CUT_MIDDLE, 0}, {NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_CUT_END, 0}};
	char dev[256], want[1024];
	snprintf(dev, sizeof dev, "head-%s-tail", rep_char(0, 'd', 60));
	struct rowfmt_cell rows[] = {rowfmt_cstr(dev), rowfmt_int(1234567890123456789LL),
	                             rowfmt_cstr(rep_char(1, 'v', 40))};
	layout = cols;
	char *got = render(ROWFMT_TABLE, names, 3, rows, 1, 0);
	layout = NULL;
	/* held: 60 columns (head 30, tail 29); 123 columns cut to 100: the
	 * device to 37, head and tail 18 columns each */
	snprintf(want, sizeof want,
	         "device%s  %scount  value\n"
	         "head-%s\xE2\x80\xA6%s-tail  1234567890123456789  %s\n",
	         rep_char(4, ' ', 31), rep_char(5, ' ', 14), rep_char(2, 'd', 13), rep_char(3, 'd', 13),
	         rep_char(1, 'v', 40));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(widest(got), 100);
	free(got);
}
END_TEST

START_TEST(test_table_layout_floor)
{
	/* a cut column keeps the width of its header (or 10); when the kept
	 * columns leave less, the line stays wider than 100 */
	static const char *const names[] = {"a", "b", "a_long_header"};
	static const struct rowfmt_col cols[] = {
	        {NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_CUT_END, 0}};
	char want[1024];
	struct rowfmt_cell rows[] = {rowfmt_cstr(rep_char(0, 'a', 40)), rowfmt_cstr(rep_char(1, 'b', 45)),
	                             rowfmt_cstr(rep_char(2, 'c', 30))};
	layout = cols;
	char *got = render(ROWFMT_TABLE, names, 3, rows, 1, 0);
	layout = NULL;
	snprintf(want, sizeof want, "a%s  b%s  a_long_header\n%s  %s  %s\xE2\x80\xA6\n", rep_char(3, ' ', 39),
	         rep_char(4, ' ', 44), rep_char(0, 'a', 40), rep_char(1, 'b', 45), rep_char(2, 'c', 12));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(widest(got), 102);
	free(got);
}
END_TEST

START_TEST(test_table_layout_later_rows)
{
	/* after the held rows a longer value takes the room the line has
	 * left (the last column up to 100), and is cut beyond it */
	static const char *const names[] = {"name", "v"};
	static const struct rowfmt_col cols[] = {{NULL, ROWFMT_CUT_END, 0}, {NULL, ROWFMT_CUT_END, 0}};
	char want[1024];
	struct rowfmt_cell rows[] = {
	        S("a"), S("b"), S("aa"), rowfmt_cstr(rep_char(0, 'w', 50)), S("a"), rowfmt_cstr(rep_char(1, 'z', 120))};
	layout = cols;
	char *got = render(ROWFMT_TABLE, names, 2, rows, 3, 1);
	layout = NULL;
	snprintf(want, sizeof want, "name  v\na     b\naa    %s\na     %s\xE2\x80\xA6\n", rep_char(0, 'w', 50),
	         rep_char(1, 'z', 59));
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

START_TEST(test_csv_control_characters)
{
	/* CR and LF stay, quoted; NUL, TAB, ESC, other C0, DEL and C1 are
	 * escaped, so no other byte below 0x20 is written */
	static const char *const names[] = {"v"};
	struct rowfmt_cell rows[] = {S("nul\0x"), S("tab\tx"), S("esc\x1b[2Jx\x01"), S("del\x7f c1\xc2\x85"),
	                             S("cr\rlf\nx")};
	expect(ROWFMT_CSV, names, 1, rows, 5, 0,
	       "v\n"
	       "nul\\x00x\n"
	       "tab\\tx\n"
	       "esc\\x1b[2Jx\\x01\n"
	       "del\\x7f c1\\u0085\n"
	       "\"cr\rlf\nx\"\n");
}
END_TEST

START_TEST(test_csv_no_rows)
{
	expect(ROWFMT_CSV, two, 2, NULL, 0, 0, "name,n\n");
}
END_TEST

START_TEST(test_closed_reader)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	struct out o;
	out_init(&o, p[1]);
	o.block = 1; /* write every row at once */
	struct rowfmt f;
	rowfmt_init(&f, ROWFMT_NDJSON, &o, two, 2);
	struct rowfmt_cell row[] = {S("x"), rowfmt_int(1)};
	ck_assert(!rowfmt_row(&f, row));
	ck_assert(out_closed(&o));
	ck_assert_int_eq(o.error, 0);
	ck_assert(!rowfmt_row(&f, row));
	ck_assert(!rowfmt_finish(&f));
	rowfmt_free(&f);
	out_free(&o);
	close(p[1]);
}
END_TEST

static Suite *rowfmt_suite(void)
{
	Suite *s = suite_create("rowfmt");
	TCase *tc = tcase_create("ndjson");
	tcase_add_test(tc, test_ndjson_types);
	tcase_add_test(tc, test_ndjson_escaping);
	tcase_add_test(tc, test_ndjson_no_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_test(tc, test_table_alignment);
	tcase_add_test(tc, test_table_header_wider);
	tcase_add_test(tc, test_table_no_rows);
	tcase_add_test(tc, test_table_cut_and_escape);
	tcase_add_test(tc, test_table_streams_after_held_rows);
	tcase_add_test(tc, test_table_escapes_terminal_controls);
	tcase_add_test(tc, test_table_wide_characters);
	tcase_add_test(tc, test_table_layout_fits);
	tcase_add_test(tc, test_table_layout_middle_and_keep);
	tcase_add_test(tc, test_table_layout_floor);
	tcase_add_test(tc, test_table_layout_later_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("csv");
	tcase_add_test(tc, test_csv_quoting);
	tcase_add_test(tc, test_csv_no_rows);
	tcase_add_test(tc, test_csv_control_characters);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_closed_reader);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rowfmt_suite)
