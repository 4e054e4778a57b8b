/*
 * rowfmt.c — NDJSON, aligned tables and CSV from rows of typed cells.
 * A table is the only format that needs to see rows before writing: it
 * keeps the first ROWFMT_TABLE_ROWS rows already rendered (cut to
 * ROWFMT_TABLE_MAX characters, so the memory held is bounded), computes the
 * widths, and streams everything after them.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mqmon.h"
#include "rowfmt.h"
#include "utf8.h"

struct rowfmt_held {
	size_t off, len; /* in f->text */
	size_t width; /* display columns */
	size_t mid; /* offset in the text of a "…" cut into its middle, or SIZE_MAX */
	bool right; /* a number: right-aligned */
	bool cut; /* cut already, to ROWFMT_TABLE_MAX */
};

static const char ellipsis[] = "\xE2\x80\xA6"; /* … */

void rowfmt_init(struct rowfmt *f, enum rowfmt_kind kind, struct out *out, const char *const *names, size_t ncols)
{
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->out = out;
	f->names = names;
	f->ncols = ncols;
	f->hold_rows = ROWFMT_TABLE_ROWS;
	if (kind == ROWFMT_TABLE)
		f->width = xcalloc(ncols ? ncols : 1, sizeof *f->width);
}

void rowfmt_table_layout(struct rowfmt *f, const struct rowfmt_col *cols)
{
	if (f->kind == ROWFMT_TABLE)
		f->layout = cols;
}

void rowfmt_free(struct rowfmt *f)
{
	buf_free(&f->text);
	buf_free(&f->line);
	buf_free(&f->esc);
	buf_free(&f->cut);
	free(f->held);
	free(f->width);
	memset(f, 0, sizeof *f);
}

/* The cell as plain text (table and CSV): strings as they are (made valid
 * UTF-8), numbers in decimal, null as nothing. */
static void cell_text(struct buf *b, const struct rowfmt_cell *c)
{
	switch (c->type) {
	case ROWFMT_NULL: break;
	case ROWFMT_STR:
	case ROWFMT_JSON: utf8_append_lossy(b, c->s, c->len); break;
	case ROWFMT_INT: buf_printf(b, "%" PRId64, c->i); break;
	case ROWFMT_REAL: json_write_double(b, c->d); break;
	case ROWFMT_BOOL: buf_adds(b, c->b ? "true" : "false"); break;
	}
}

static void cell_json(struct buf *b, const struct rowfmt_cell *c)
{
	switch (c->type) {
	case ROWFMT_NULL: buf_add(b, "null", 4); break;
	case ROWFMT_STR: json_write_text(b, c->s, c->len); break;
	case ROWFMT_JSON: buf_add(b, c->s, c->len); break;
	case ROWFMT_INT: buf_printf(b, "%" PRId64, c->i); break;
	case ROWFMT_REAL: json_write_double(b, c->d); break;
	case ROWFMT_BOOL: buf_adds(b, c->b ? "true" : "false"); break;
	}
}

/* ---- text for people: escapes, display width, cutting ---- */

/* The code point of the UTF-8 sequence at s (valid UTF-8), its length in
 * *len. */
static unsigned decode(const char *s, size_t n, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
	if (k > n)
		k = n;
	unsigned cp = k == 1 ? u[0] : k == 2 ? u[0] & 0x1Fu : k == 3 ? u[0] & 0x0Fu : u[0] & 0x07u;
	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (u[i] & 0x3Fu);
	*len = k;
	return cp;
}

static bool in(unsigned cp, unsigned lo, unsigned hi)
{
	return cp >= lo && cp <= hi;
}

/* Columns a terminal gives cp: 0 for combining marks and zero-width
 * characters, 2 for East Asian wide ones and emoji, else 1 (as wcwidth()
 * says in a UTF-8 locale, for the characters device data holds). */
static size_t cp_width(unsigned cp)
{
	if (cp < 0x300)
		return 1;
	if (in(cp, 0x300, 0x36F) || in(cp, 0x1AB0, 0x1AFF) || in(cp, 0x1DC0, 0x1DFF) || in(cp, 0x200B, 0x200F) ||
	    in(cp, 0x20D0, 0x20FF) || in(cp, 0xFE00, 0xFE0F) || in(cp, 0xFE20, 0xFE2F) || in(cp, 0xE0100, 0xE01EF))
		return 0;
	if (in(cp, 0x1100, 0x115F) || in(cp, 0x231A, 0x231B) || in(cp, 0x2329, 0x232A) || in(cp, 0x23E9, 0x23EC) ||
	    in(cp, 0x2E80, 0x303E) || in(cp, 0x3041, 0x33FF) || in(cp, 0x3400, 0x4DBF) || in(cp, 0x4E00, 0x9FFF) ||
	    in(cp, 0xA000, 0xA4CF) || in(cp, 0xA960, 0xA97F) || in(cp, 0xAC00, 0xD7A3) || in(cp, 0xF900, 0xFAFF) ||
	    in(cp, 0xFE10, 0xFE19) || in(cp, 0xFE30, 0xFE6F) || in(cp, 0xFF00, 0xFF60) || in(cp, 0xFFE0, 0xFFE6) ||
	    in(cp, 0x1F300, 0x1F64F) || in(cp, 0x1F680, 0x1F6FF) || in(cp, 0x1F900, 0x1F9FF) ||
	    in(cp, 0x20000, 0x2FFFD) || in(cp, 0x30000, 0x3FFFD))
		return 2;
	return 1;
}

/* A character that must not reach a terminal (or a CSV file) as it is:
 * C0 controls, DEL, C1 controls; in tables also the bidirectional
 * embeddings, overrides and isolates, which reorder what follows them. */
static bool is_control(unsigned cp, bool bidi)
{
	return cp < 0x20 || in(cp, 0x7F, 0x9F) || (bidi && (in(cp, 0x202A, 0x202E) || in(cp, 0x2066, 0x2069)));
}

/* Append the escape that shows control character cp: \n, \r, \t, \xHH
 * below 0x80, \uHHHH above. */
static void add_escape(struct buf *b, unsigned cp)
{
	switch (cp) {
	case '\n': buf_adds(b, "\\n"); return;
	case '\r': buf_adds(b, "\\r"); return;
	case '\t': buf_adds(b, "\\t"); return;
	}
	if (cp < 0x80)
		buf_printf(b, "\\x%02x", cp);
	else
		buf_printf(b, "\\u%04x", cp);
}

/* Append s[0..n) (valid UTF-8) to b with control characters as escapes;
 * stop once more than limit columns are written (the rest would be cut). */
static void table_escape(struct buf *b, const char *s, size_t n, size_t limit)
{
	size_t width = 0;
	for (size_t i = 0; i < n && width <= limit;) {
		size_t k;
		unsigned cp = decode(s + i, n - i, &k);
		if (is_control(cp, true)) {
			size_t before = b->len;
			add_escape(b, cp);
			width += b->len - before;
		} else {
			buf_add(b, s + i, k);
			width += cp_width(cp);
		}
		i += k;
	}
}

/* Display columns of s[0..n) (escaped text: nothing but printables). */
static size_t text_width(const char *s, size_t n)
{
	size_t width = 0;
	for (size_t i = 0, k; i < n; i += k)
		width += cp_width(decode(s + i, n - i, &k));
	return width;
}

/* Append to b the characters of s[0..n) that fit in max columns, from the
 * start; returns the columns taken. */
static size_t take_head(struct buf *b, const char *s, size_t n, size_t max)
{
	size_t width = 0;
	for (size_t i = 0, k; i < n; i += k) {
		size_t w = cp_width(decode(s + i, n - i, &k));
		if (width + w > max)
			break;
		buf_add(b, s + i, k);
		width += w;
	}
	return width;
}

/* The same from the end: the last characters of s[0..n) that fit. */
static size_t take_tail(struct buf *b, const char *s, size_t n, size_t max)
{
	size_t width = 0, start = n;
	while (start > 0) {
		size_t lead = start - 1;
		while (lead > 0 && ((unsigned char)s[lead] & 0xC0) == 0x80)
			lead--;
		size_t k;
		size_t w = cp_width(decode(s + lead, start - lead, &k));
		if (width + w > max)
			break;
		width += w;
		start = lead;
	}
	buf_add(b, s + start, n - start);
	return width;
}

/* Append escaped text s[0..n) to b in at most max columns (max >= 1):
 * whole when it fits, else cut with "…" as fit says: at its end, at its
 * start, or in its middle (half the room for the head, the rest for the
 * tail).  *mid is the byte offset in s of a "…" already cut into its
 * middle (SIZE_MAX when none): a cut text cut again takes its head and
 * tail from either side of it; on return it is the offset of the one
 * appended (from where the text starts in b), or SIZE_MAX.  Returns the
 * columns taken. */
static size_t cut_text(struct buf *b, const char *s, size_t n, size_t max, enum rowfmt_fit fit, size_t *mid)
{
	size_t width = text_width(s, n);
	if (width <= max) {
		buf_add(b, s, n);
		return width; /* *mid stays: s goes in whole */
	}
	size_t start = b->len;
	if (fit == ROWFMT_CUT_START) {
		buf_add(b, ellipsis, 3);
		return 1 + take_tail(b, s, n, max - 1);
	}
	if (fit != ROWFMT_CUT_MIDDLE) {
		width = take_head(b, s, n, max - 1);
		buf_add(b, ellipsis, 3);
		return width + 1;
	}
	size_t head_n = *mid == SIZE_MAX ? n : *mid;
	size_t tail_off = *mid == SIZE_MAX ? 0 : *mid + 3;
	size_t room = max - 1;
	width = take_head(b, s, head_n, room - room / 2);
	*mid = b->len - start;
	buf_add(b, ellipsis, 3);
	width += 1 + take_tail(b, s + tail_off, n - tail_off, room / 2);
	return width;
}

static enum rowfmt_fit col_fit(const struct rowfmt *f, size_t c)
{
	return f->layout ? f->layout[c].fit : ROWFMT_CUT_END;
}

static void hold_cell(struct rowfmt *f, size_t col, const struct rowfmt_cell *c)
{
	if (f->nheld == f->held_cap) {
		f->held_cap = f->held_cap ? f->held_cap * 2 : 64;
		f->held = xrealloc(f->held, f->held_cap * sizeof *f->held);
	}
	struct rowfmt_held *h = &f->held[f->nheld++];
	enum rowfmt_fit fit = col_fit(f, col);
	*h = (struct rowfmt_held){.off = f->text.len, .mid = SIZE_MAX};
	h->right = c->type == ROWFMT_INT || c->type == ROWFMT_REAL;
	if (fit == ROWFMT_HIDE)
		return;
	buf_reset(&f->line);
	cell_text(&f->line, c);
	buf_reset(&f->esc);
	/* only a text cut at its start or in its middle needs its end */
	table_escape(&f->esc, f->line.data, f->line.len,
	             fit == ROWFMT_CUT_END || fit == ROWFMT_KEEP ? ROWFMT_TABLE_MAX : SIZE_MAX);
	h->width = cut_text(&f->text, f->esc.data, f->esc.len, ROWFMT_TABLE_MAX, fit, &h->mid);
	h->len = f->text.len - h->off;
	h->cut = h->len != f->esc.len;
}

static void pad(struct buf *b, size_t n)
{
	while (n--)
		buf_addc(b, ' ');
}

/* One table line from ncols rendered cells; no trailing blanks.  In a
 * laid-out table, a cell wider than its column (the table was fitted to
 * its width, or a later row is longer) takes the room the line has left,
 * pushing what follows (as in a table without a layout); what does not
 * fit even so is cut, unless its column keeps its values whole. */
static void table_line(struct rowfmt *f, struct buf *b, const char *text, const struct rowfmt_held *cells)
{
	if (!text)
		text = ""; /* nothing held: every cell is empty */
	size_t last = f->ncols, rest = 0, used = 0;
	while (last > 0 && col_fit(f, last - 1) == ROWFMT_HIDE)
		last--;
	for (size_t i = 0; i < last; i++)
		rest += col_fit(f, i) == ROWFMT_HIDE ? 0 : f->width[i] + 2;
	bool first = true;
	for (size_t i = 0; i < last; i++) {
		enum rowfmt_fit fit = col_fit(f, i);
		if (fit == ROWFMT_HIDE)
			continue;
		const struct rowfmt_held *h = &cells[i];
		const char *s = text + h->off;
		size_t len = h->len, width = h->width;
		rest -= f->width[i] + 2; /* now the columns after this one, with their gaps */
		used += first ? 0 : 2;
		size_t room = ROWFMT_TABLE_WIDTH > used + rest ? ROWFMT_TABLE_WIDTH - used - rest : 0;
		if (room < f->width[i])
			room = f->width[i];
		if (f->layout && width > room && fit != ROWFMT_KEEP) {
			size_t mid = h->mid;
			buf_reset(&f->cut);
			width = cut_text(&f->cut, s, len, room, fit, &mid);
			s = f->cut.data;
			len = f->cut.len;
		}
		size_t gap = f->width[i] > width ? f->width[i] - width : 0;
		used += width + gap;
		if (!first)
			buf_add(b, "  ", 2);
		first = false;
		if (h->right)
			pad(b, gap);
		buf_add(b, s, len);
		if (!h->right && i + 1 < last)
			pad(b, gap);
	}
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	buf_addc(b, '\n');
}

/* Narrow the cuttable columns, one column at a time, until a line fits
 * ROWFMT_TABLE_WIDTH, each time the column where that cuts the fewest
 * values not cut yet (cut[c * (ROWFMT_TABLE_MAX + 1) + w] counts the
 * values of column c exactly w wide), the widest on a tie, the rightmost
 * among equals: a long outlier goes before the values of every row, and
 * what is cut anyway (payloads) is cut further before anything else.  A
 * column keeps its minimum (ROWFMT_TABLE_MIN unless the layout says) and
 * its header's width. */
static void table_fit(struct rowfmt *f, const struct rowfmt_held *hdr, const size_t *cut)
{
	size_t total = 0, shown = 0;
	for (size_t c = 0; c < f->ncols; c++) {
		if (col_fit(f, c) != ROWFMT_HIDE) {
			total += f->width[c];
			shown++;
		}
	}
	total += shown > 1 ? 2 * (shown - 1) : 0;
	while (total > ROWFMT_TABLE_WIDTH) {
		size_t best = f->ncols, best_cost = 0;
		for (size_t c = 0; c < f->ncols; c++) {
			enum rowfmt_fit fit = col_fit(f, c);
			size_t floor = f->layout[c].min ? f->layout[c].min : ROWFMT_TABLE_MIN;
			if (hdr[c].width > floor)
				floor = hdr[c].width;
			if (fit == ROWFMT_KEEP || fit == ROWFMT_HIDE || f->width[c] <= floor)
				continue;
			size_t cost = cut[c * (ROWFMT_TABLE_MAX + 1) + f->width[c]];
			if (best == f->ncols || cost < best_cost ||
			    (cost == best_cost && f->width[c] >= f->width[best])) {
				best = c;
				best_cost = cost;
			}
		}
		if (best == f->ncols)
			break; /* nothing more to cut: the kept columns are too wide */
		f->width[best]--;
		total--;
	}
}

/* Fix the widths from the header and the held rows, write them all. */
static bool table_release(struct rowfmt *f)
{
	size_t nrows = f->ncols ? f->nheld / f->ncols : 0;
	struct rowfmt_held *head = xcalloc(f->ncols ? f->ncols : 1, sizeof *head);
	struct buf htext = BUF_INIT;
	for (size_t c = 0; c < f->ncols; c++) {
		const char *name = f->layout && f->layout[c].name ? f->layout[c].name : f->names[c];
		head[c].off = htext.len;
		head[c].mid = SIZE_MAX;
		buf_reset(&f->esc);
		table_escape(&f->esc, name, strlen(name), ROWFMT_TABLE_MAX);
		head[c].width =
		        cut_text(&htext, f->esc.data, f->esc.len, ROWFMT_TABLE_MAX, ROWFMT_CUT_END, &head[c].mid);
		head[c].len = htext.len - head[c].off;
		f->width[c] = head[c].width;
		/* a column of numbers gets its name right-aligned too */
		bool numbers = nrows > 0;
		for (size_t r = 0; r < nrows; r++) {
			const struct rowfmt_held *h = &f->held[r * f->ncols + c];
			if (h->width > f->width[c])
				f->width[c] = h->width;
			if (!h->right && h->len > 0)
				numbers = false;
		}
		head[c].right = numbers;
	}
	if (f->layout) {
		/* how many values of each width each column has, not cut yet */
		size_t *cut = xcalloc(f->ncols * (ROWFMT_TABLE_MAX + 1), sizeof *cut);
		for (size_t i = 0; i < nrows * f->ncols; i++)
			if (!f->held[i].cut && f->held[i].width <= ROWFMT_TABLE_MAX)
				cut[i % f->ncols * (ROWFMT_TABLE_MAX + 1) + f->held[i].width]++;
		table_fit(f, head, cut);
		free(cut);
	}
	struct buf *b = out_buf(f->out);
	table_line(f, b, htext.data, head);
	buf_free(&htext);
	free(head);
	f->header_done = true;
	bool ok = out_commit(f->out);
	for (size_t r = 0; r < nrows && ok; r++) {
		table_line(f, b, f->text.data, &f->held[r * f->ncols]);
		ok = out_commit(f->out);
	}
	f->nheld = 0;
	buf_free(&f->text); /* the held rows may have been large: give it back */
	return ok;
}

/* A CSV field: quoted when it holds a comma, a quote, CR or LF (quotes
 * doubled); CR and LF kept, other control characters escaped. */
static void csv_field(struct buf *b, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (quote)
		buf_addc(b, '"');
	for (size_t i = 0, k; i < n; i += k) {
		unsigned cp = decode(s + i, n - i, &k);
		if (cp == '"')
			buf_addc(b, '"');
		if (is_control(cp, false) && cp != '\r' && cp != '\n')
			add_escape(b, cp);
		else
			buf_add(b, s + i, k);
	}
	if (quote)
		buf_addc(b, '"');
}

static void csv_header(struct rowfmt *f, struct buf *b)
{
	for (size_t i = 0; i < f->ncols; i++) {
		if (i > 0)
			buf_addc(b, ',');
		csv_field(b, f->names[i], strlen(f->names[i]));
	}
	buf_addc(b, '\n');
	f->header_done = true;
}

bool rowfmt_row(struct rowfmt *f, const struct rowfmt_cell *cells)
{
	struct buf *b = out_buf(f->out);
	if (out_closed(f->out) || f->out->error)
		return false;
	switch (f->kind) {
	case ROWFMT_NDJSON:
		buf_addc(b, '{');
		for (size_t i = 0; i < f->ncols; i++) {
			if (i > 0)
				buf_addc(b, ',');
			json_write_string(b, f->names[i], strlen(f->names[i]));
			buf_addc(b, ':');
			cell_json(b, &cells[i]);
		}
		buf_add(b, "}\n", 2);
		return out_commit(f->out);
	case ROWFMT_CSV:
		if (!f->header_done)
			csv_header(f, b);
		for (size_t i = 0; i < f->ncols; i++) {
			if (i > 0)
				buf_addc(b, ',');
			buf_reset(&f->line);
			cell_text(&f->line, &cells[i]);
			csv_field(b, f->line.data, f->line.len);
		}
		buf_addc(b, '\n');
		return out_commit(f->out);
	case ROWFMT_TABLE: break;
	}
	if (!f->header_done) {
		for (size_t i = 0; i < f->ncols; i++)
			hold_cell(f, i, &cells[i]);
		if (f->nheld / (f->ncols ? f->ncols : 1) < f->hold_rows)
			return true;
		return table_release(f);
	}
	/* past the held rows: the widths are fixed, write at once (the held
	 * arrays are empty now and serve for one row) */
	buf_reset(&f->text);
	f->nheld = 0;
	for (size_t i = 0; i < f->ncols; i++)
		hold_cell(f, i, &cells[i]);
	table_line(f, b, f->text.data, f->held);
	f->nheld = 0;
	return out_commit(f->out);
}

bool rowfmt_finish(struct rowfmt *f)
{
	if (out_closed(f->out) || f->out->error)
		return false;
	if (f->kind == ROWFMT_TABLE && !f->header_done)
		return table_release(f);
	if (f->kind == ROWFMT_CSV && !f->header_done) {
		csv_header(f, out_buf(f->out));
		return out_commit(f->out);
	}
	return true;
}
