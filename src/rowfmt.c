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
	size_t width; /* characters */
	bool right; /* a number: right-aligned */
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

void rowfmt_free(struct rowfmt *f)
{
	buf_free(&f->text);
	buf_free(&f->line);
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

static bool is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Append text (valid UTF-8) to b for a table: control characters as
 * escapes, at most ROWFMT_TABLE_MAX characters (the last one "…" when
 * cut).  Returns the width in characters. */
static size_t table_text(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t width = 0;
	size_t marks[ROWFMT_TABLE_MAX + 1]; /* b->len before each character */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_cont(c)) {
			buf_addc(b, (char)c);
			continue;
		}
		if (width == ROWFMT_TABLE_MAX) {
			/* one character too many: replace the last one by "…" */
			b->len = marks[ROWFMT_TABLE_MAX - 1];
			buf_add(b, ellipsis, 3);
			return width;
		}
		marks[width++] = b->len;
		if (c >= 0x20 && c != 0x7F) {
			buf_addc(b, (char)c);
			continue;
		}
		/* an escape counts as the characters it shows */
		char esc[4];
		size_t el;
		switch (c) {
		case '\n': memcpy(esc, "\\n", 2), el = 2; break;
		case '\r': memcpy(esc, "\\r", 2), el = 2; break;
		case '\t': memcpy(esc, "\\t", 2), el = 2; break;
		default: esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15], el = 4;
		}
		for (size_t k = 0; k < el; k++) {
			if (k > 0) {
				if (width == ROWFMT_TABLE_MAX) {
					b->len = marks[ROWFMT_TABLE_MAX - 1];
					buf_add(b, ellipsis, 3);
					return width;
				}
				marks[width++] = b->len;
			}
			buf_addc(b, esc[k]);
		}
	}
	return width;
}

static void hold_cell(struct rowfmt *f, const struct rowfmt_cell *c, struct buf *scratch)
{
	if (f->nheld == f->held_cap) {
		f->held_cap = f->held_cap ? f->held_cap * 2 : 64;
		f->held = xrealloc(f->held, f->held_cap * sizeof *f->held);
	}
	struct rowfmt_held *h = &f->held[f->nheld++];
	buf_reset(scratch);
	cell_text(scratch, c);
	h->off = f->text.len;
	h->width = table_text(&f->text, scratch->data, scratch->len);
	h->len = f->text.len - h->off;
	h->right = c->type == ROWFMT_INT || c->type == ROWFMT_REAL;
}

static void pad(struct buf *b, size_t n)
{
	while (n--)
		buf_addc(b, ' ');
}

/* One table line from ncols rendered cells; no trailing blanks. */
static void table_line(struct rowfmt *f, struct buf *b, const char *text, const struct rowfmt_held *cells)
{
	if (!text)
		text = ""; /* nothing held: every cell is empty */
	for (size_t i = 0; i < f->ncols; i++) {
		const struct rowfmt_held *h = &cells[i];
		size_t gap = f->width[i] > h->width ? f->width[i] - h->width : 0;
		if (i > 0)
			buf_add(b, "  ", 2);
		if (h->right)
			pad(b, gap);
		buf_add(b, text + h->off, h->len);
		if (!h->right && i + 1 < f->ncols)
			pad(b, gap);
	}
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	buf_addc(b, '\n');
}

/* Fix the widths from the header and the held rows, write them all. */
static bool table_release(struct rowfmt *f)
{
	size_t nrows = f->ncols ? f->nheld / f->ncols : 0;
	struct rowfmt_held *head = xcalloc(f->ncols ? f->ncols : 1, sizeof *head);
	struct buf htext = BUF_INIT;
	for (size_t c = 0; c < f->ncols; c++) {
		head[c].off = htext.len;
		head[c].width = table_text(&htext, f->names[c], strlen(f->names[c]));
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

static void csv_field(struct buf *b, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		buf_add(b, s, n);
		return;
	}
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
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
			hold_cell(f, &cells[i], &f->line);
		if (f->nheld / (f->ncols ? f->ncols : 1) < f->hold_rows)
			return true;
		return table_release(f);
	}
	/* past the held rows: the widths are fixed, write at once (the held
	 * arrays are empty now and serve for one row) */
	buf_reset(&f->text);
	f->nheld = 0;
	for (size_t i = 0; i < f->ncols; i++)
		hold_cell(f, &cells[i], &f->line);
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
