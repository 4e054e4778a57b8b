/*
 * rowfmt.h — rows of typed cells written as NDJSON, an aligned table or
 * CSV: the output of mqmon-store's subcommands (and of any snapshot a
 * program prints for people and for scripts).  The columns are declared
 * once; each row is an array of cells in that order:
 *
 *   static const char *const cols[] = {"topic", "count"};
 *   struct rowfmt f;
 *   rowfmt_init(&f, ROWFMT_TABLE, out, cols, 2);
 *   struct rowfmt_cell row[] = {rowfmt_str("a/b", 3), rowfmt_int(42)};
 *   if (!rowfmt_row(&f, row))   ...the reader went away: stop
 *   rowfmt_finish(&f);
 *   rowfmt_free(&f);
 *
 * NDJSON: one object per row, {"topic":"a/b","count":42}; strings escaped,
 * numbers and booleans as JSON, ROWFMT_JSON cells embedded as they are.
 * Table: a header line with the column names, then the rows; columns are
 * separated by two spaces and padded to the widest value (counted in
 * display columns, not bytes: East Asian wide characters count two),
 * numbers right-aligned, the last column not padded.  Widths come from the
 * first ROWFMT_TABLE_ROWS rows, which are held back until then (or until
 * rowfmt_finish); later rows use the same widths.  Values longer than
 * ROWFMT_TABLE_MAX columns are cut with "…", and control characters are
 * shown as escapes (\n, \t, \x1b; C1 controls and the bidirectional
 * overrides as \u009b, \u202e), so one row stays one line and nothing in
 * the data drives the terminal.  rowfmt_table_layout() fits a table into
 * ROWFMT_TABLE_WIDTH columns: it hides the columns that only a program
 * wants (wide JSON), may give others a shorter header, and narrows the
 * columns that may be cut, where that cuts the fewest values, until the
 * lines fit.
 * CSV (RFC 4180): a header row, then the rows; a field containing a comma,
 * a double quote, CR or LF is quoted, with quotes doubled.  Records end
 * with LF, as psql --csv and most Unix tools write them (RFC 4180 readers
 * accept it).  null is an empty field.  CR and LF stay as they are, inside
 * quotes, as RFC 4180 allows; every other control character (NUL, TAB,
 * ESC, DEL, C1) is written as the table shows it (\x00, \t, \x1b,
 * \x7f, \u0085), so a CSV file carries no other byte below 0x20.  (The
 * exact bytes are in the NDJSON.)
 *
 * Table and CSV always print the header, also when there are no rows, so
 * a script reading them finds the columns it expects.
 */
#ifndef MQMON_ROWFMT_H
#define MQMON_ROWFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "out.h"

enum rowfmt_kind { ROWFMT_NDJSON, ROWFMT_TABLE, ROWFMT_CSV };

#define ROWFMT_TABLE_ROWS 10000 /* rows held back to compute table widths */
#define ROWFMT_TABLE_MAX 60 /* longest table value, in display columns */
#define ROWFMT_TABLE_WIDTH 100 /* widest line of a laid-out table (rowfmt_table_layout) */
#define ROWFMT_TABLE_MIN 10 /* a cut column keeps at least this (or its header's) width */

enum rowfmt_type {
	ROWFMT_NULL, /* null; empty in a table or CSV */
	ROWFMT_STR, /* text s[0..len) (UTF-8; invalid bytes become U+FFFD) */
	ROWFMT_INT, /* i */
	ROWFMT_REAL, /* d, as the shortest text that reads back equal; NaN and infinities are null */
	ROWFMT_BOOL, /* b: true or false */
	ROWFMT_JSON, /* s[0..len), valid single-line JSON text: embedded in NDJSON, shown as text elsewhere */
};

/* A cell borrows its text: it must stay valid until rowfmt_row() returns. */
struct rowfmt_cell {
	enum rowfmt_type type;
	const char *s;
	size_t len;
	int64_t i;
	double d;
	bool b;
};

static inline struct rowfmt_cell rowfmt_null(void)
{
	return (struct rowfmt_cell){.type = ROWFMT_NULL};
}
static inline struct rowfmt_cell rowfmt_str(const char *s, size_t len)
{
	return (struct rowfmt_cell){.type = ROWFMT_STR, .s = s, .len = len};
}
/* A NUL-terminated string, or null when s is NULL. */
static inline struct rowfmt_cell rowfmt_cstr(const char *s)
{
	return s ? rowfmt_str(s, strlen(s)) : rowfmt_null();
}
static inline struct rowfmt_cell rowfmt_int(int64_t i)
{
	return (struct rowfmt_cell){.type = ROWFMT_INT, .i = i};
}
static inline struct rowfmt_cell rowfmt_real(double d)
{
	return (struct rowfmt_cell){.type = ROWFMT_REAL, .d = d};
}
static inline struct rowfmt_cell rowfmt_bool(bool b)
{
	return (struct rowfmt_cell){.type = ROWFMT_BOOL, .b = b};
}
static inline struct rowfmt_cell rowfmt_json(const char *s, size_t len)
{
	return (struct rowfmt_cell){.type = ROWFMT_JSON, .s = s, .len = len};
}

/* How a column shows in a table laid out by rowfmt_table_layout(). */
enum rowfmt_fit {
	ROWFMT_KEEP, /* whole, up to ROWFMT_TABLE_MAX: times, numbers, short words */
	ROWFMT_CUT_END, /* cut at its end with "…" when the line is too wide: payloads */
	ROWFMT_CUT_START, /* cut at its start: topics, whose last levels tell them apart */
	ROWFMT_CUT_MIDDLE, /* cut in its middle, keeping both ends: ids, names, paths */
	ROWFMT_HIDE, /* not in the table (wide JSON): NDJSON and CSV only */
};

struct rowfmt_col {
	const char *name; /* the table's header; NULL: the column's own name */
	enum rowfmt_fit fit;
	size_t min; /* cut to no fewer columns than this (0: ROWFMT_TABLE_MIN) */
};

struct rowfmt {
	enum rowfmt_kind kind;
	struct out *out;
	const char *const *names; /* borrowed: must outlive the writer */
	size_t ncols;
	bool header_done; /* CSV header written; table widths fixed and header written */
	/* table: rendered cells of the rows held back, and the widths */
	size_t hold_rows; /* how many rows to hold back (ROWFMT_TABLE_ROWS) */
	struct buf text; /* the rendered cells, one after another */
	struct rowfmt_held *held; /* per held cell: where its text is, its width */
	size_t nheld, held_cap; /* cells */
	size_t *width;
	const struct rowfmt_col *layout; /* table: per column (borrowed), or NULL */
	struct buf line, esc, cut; /* scratch */
};

/* Start a writer for ncols columns named names[] (the NDJSON keys and the
 * header).  Nothing is written yet. */
void rowfmt_init(struct rowfmt *f, enum rowfmt_kind kind, struct out *out, const char *const *names, size_t ncols);

/* Lay a table out (nothing for NDJSON and CSV): cols[f->ncols], borrowed
 * like the names, say how each column shows; the lines are then at most
 * ROWFMT_TABLE_WIDTH columns wide.  ROWFMT_CUT_* columns are narrowed one
 * column at a time, each time where that cuts the fewest values of the
 * held rows (the widest column on a tie), down to their minimum or their
 * header, until the table fits; ROWFMT_KEEP columns are never cut below
 * their width (a number longer than the held rows' pushes its line out).
 * Call it before the first row. */
void rowfmt_table_layout(struct rowfmt *f, const struct rowfmt_col *cols);

/* Write one row of f->ncols cells (a table may hold it back).  Returns
 * false once the output is closed (a reader that went away: stop quietly)
 * or failed (out->error). */
bool rowfmt_row(struct rowfmt *f, const struct rowfmt_cell *cells);

/* Write what is held back (and the header of a table or CSV with no
 * rows).  Returns false like rowfmt_row().  Call it once, at the end. */
bool rowfmt_finish(struct rowfmt *f);

void rowfmt_free(struct rowfmt *f);

#endif
