/*
 * conffile.c — configuration file reader.  Values may be quoted with "…" or
 * '…' to keep leading or trailing spaces or a '#'; an unquoted value ends
 * at a " #" comment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conffile.h"
#include "linereader.h"
#include "log.h"
#include "mqmon.h"

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Strip an unquoted trailing comment and surrounding quotes. */
static bool clean_value(char *v, const char **why)
{
	if (*v == '"' || *v == '\'') {
		char q = *v;
		/* the closing quote is the first one followed by nothing but
		 * spaces or a comment, so a comment may hold quotes too */
		char *end = NULL;
		for (char *c = strchr(v + 1, q); c && !end; c = strchr(c + 1, q)) {
			const char *after = c + 1 + strspn(c + 1, " \t");
			if (*after == '\0' || *after == '#')
				end = c;
		}
		if (!end) {
			*why = strchr(v + 1, q) ? "text after the quoted value" : "unterminated quoted value";
			return false;
		}
		memmove(v, v + 1, (size_t)(end - v - 1));
		v[end - v - 1] = '\0';
		return true;
	}
	for (char *h = strchr(v, '#'); h; h = strchr(h + 1, '#')) {
		if (h > v && (h[-1] == ' ' || h[-1] == '\t')) {
			*h = '\0';
			break;
		}
	}
	char *t = trim(v);
	memmove(v, t, strlen(t) + 1);
	return true;
}

enum conffile_result conffile_read(const char *path, conffile_fn fn, void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return CONFFILE_MISSING;
		mqmon_err("%s: %s", path, strerror(errno));
		return CONFFILE_ERROR;
	}
	struct linereader lr;
	linereader_init(&lr, fd);
	struct line ln;
	char *section = NULL;
	enum conffile_result result = CONFFILE_OK;
	while (linereader_getline(&lr, &ln)) {
		const char *why = NULL;
		if (memchr(ln.data, '\0', ln.len)) {
			why = "NUL byte in line";
			goto bad;
		}
		char *s = trim(ln.data);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			char *after = close ? trim(close + 1) : NULL;
			if (close)
				*close = '\0';
			/* "[ ]" names no program either */
			if (!close || (*after != '\0' && *after != '#' && *after != ';') || *trim(s + 1) == '\0') {
				why = "malformed section header, expected [program-name]";
				goto bad;
			}
			free(section);
			section = xstrdup(trim(s + 1));
			struct conffile_entry header = {NULL, NULL, section, (unsigned)ln.lineno};
			if (!fn(ctx, &header)) {
				result = CONFFILE_ERROR;
				break;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		char *value = NULL;
		if (eq) {
			*eq = '\0';
			value = trim(eq + 1);
			if (!clean_value(value, &why))
				goto bad;
		} else {
			/* "key" alone, maybe with a trailing comment */
			char *h = strchr(s, '#');
			if (h)
				*h = '\0';
		}
		char *key = trim(s);
		if (*key == '\0' || strpbrk(key, " \t")) {
			why = eq ? "missing key before '='" : "expected key = value";
			goto bad;
		}
		struct conffile_entry e = {key, value, section, (unsigned)ln.lineno};
		if (!fn(ctx, &e)) {
			result = CONFFILE_ERROR;
			break;
		}
		continue;
	bad:
		mqmon_err("%s:%lu: %s", path, ln.lineno, why);
		result = CONFFILE_ERROR;
		break;
	}
	if (result == CONFFILE_OK && lr.error) {
		mqmon_err("%s: %s", path, strerror(lr.error));
		result = CONFFILE_ERROR;
	}
	free(section);
	linereader_free(&lr);
	close(fd);
	return result;
}

char *conffile_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	struct buf b = BUF_INIT;
	if (xdg && *xdg) {
		buf_printf(&b, "%s/mqmon/config", xdg);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home)
			return NULL;
		buf_printf(&b, "%s/.config/mqmon/config", home);
	}
	buf_cstr(&b);
	return b.data;
}
