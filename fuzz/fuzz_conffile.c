/*
 * fuzz_conffile.c — the configuration file reader (conffile_read) on a
 * file of any bytes.  Every entry it hands out must be well formed, and a
 * file it reads without complaint must read back the same when written
 * out again in a canonical form ("[section]", "key = 'value'", "key #"):
 * the reader and a writer agree on what a line means.  Stopping early (a
 * callback returning false) must be an error and stop at once.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conffile.h"
#include "mqmon.h"

#include "fuzz.h"

struct entry {
	char *key, *value, *section;
};

struct entries {
	struct entry *v;
	size_t n;
	size_t stop_after; /* return false on this entry (0: never) */
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool collect(void *ctx, const struct conffile_entry *e)
{
	struct entries *es = ctx;
	if (e->key) {
		FUZZ_CHECK(e->key[0] != '\0' && e->key[0] != '#' && e->key[0] != ';' && e->key[0] != '[');
		FUZZ_CHECK(strpbrk(e->key, " \t=") == NULL);
	} else {
		FUZZ_CHECK(e->section != NULL && e->value == NULL);
		FUZZ_CHECK(strchr(e->section, ']') == NULL);
	}
	FUZZ_CHECK(e->line >= 1);
	es->v = xrealloc(es->v, (es->n + 1) * sizeof *es->v);
	es->v[es->n++] = (struct entry){dup_or_null(e->key), dup_or_null(e->value), dup_or_null(e->section)};
	return es->n != es->stop_after;
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->v[i].key);
		free(es->v[i].value);
		free(es->v[i].section);
	}
	free(es->v);
	es->v = NULL;
	es->n = 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The file holding the input: made once, rewritten for each input. */
static char path[4096];
static int fd = -1;

static void remove_file(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void write_file(const char *p, size_t n)
{
	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/mqmon-fuzz-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		fd = mkstemp(path);
		FUZZ_CHECK(fd >= 0);
		atexit(remove_file);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(fd, p + done, n - done, (off_t)done);
		FUZZ_CHECK(w > 0);
		done += (size_t)w;
	}
}

static enum conffile_result read_text(const char *p, size_t n, struct entries *es)
{
	write_file(p, n);
	return conffile_read(path, collect, es);
}

/* A quote that can hold v: one that v does not contain. */
static char quote_for(const char *v)
{
	return !strchr(v, '\'') ? '\'' : !strchr(v, '"') ? '"' : 0;
}

/* The entries as a canonical file; false if some value cannot be quoted. */
static bool write_canonical(struct buf *out, const struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		if (!e->key) {
			buf_printf(out, "[%s]\n", e->section);
		} else if (!e->value) {
			/* the comment keeps a trailing '\r' from being taken as
			 * the end of a CRLF line */
			buf_printf(out, "%s #\n", e->key);
		} else {
			char q = quote_for(e->value);
			if (!q)
				return false;
			buf_printf(out, "%s = %c%s%c\n", e->key, q, e->value, q);
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entries first = {0};
	enum conffile_result r = read_text((const char *)data, size, &first);
	FUZZ_CHECK(r == CONFFILE_OK || r == CONFFILE_ERROR);
	struct buf text = BUF_INIT;
	if (r == CONFFILE_OK && write_canonical(&text, &first)) {
		struct entries second = {0};
		FUZZ_CHECK(read_text(text.data, text.len, &second) == CONFFILE_OK);
		FUZZ_CHECK(second.n == first.n);
		for (size_t i = 0; i < first.n; i++) {
			FUZZ_CHECK(same_str(first.v[i].key, second.v[i].key));
			FUZZ_CHECK(same_str(first.v[i].value, second.v[i].value));
			FUZZ_CHECK(same_str(first.v[i].section, second.v[i].section));
		}
		entries_free(&second);
	}
	/* a callback that says stop ends the reading there, as an error */
	if (first.n > 0) {
		struct entries part = {.stop_after = (first.n + 1) / 2};
		FUZZ_CHECK(read_text((const char *)data, size, &part) == CONFFILE_ERROR);
		FUZZ_CHECK(part.n == part.stop_after);
		entries_free(&part);
	}
	buf_free(&text);
	entries_free(&first);
	return 0;
}
