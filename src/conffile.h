/*
 * conffile.h — the configuration file: lines "key = value" using the long
 * option names, '#' comments, blank lines, and "[mqmon-sub]"-style sections
 * whose lines apply to one program only.  The reader only splits lines; the
 * option parser (opt.c) gives every pair the same treatment as argv.
 */
#ifndef MQMON_CONFFILE_H
#define MQMON_CONFFILE_H

#include <stdbool.h>

struct conffile_entry {
	const char *key; /* NULL for a "[section]" header line */
	const char *value; /* NULL for a bare "key" line */
	const char *section; /* NULL in the global part, else the section name */
	unsigned line;
};

/* Called for each entry; return false to stop reading (the callback has
 * reported the problem). */
typedef bool (*conffile_fn)(void *ctx, const struct conffile_entry *e);

enum conffile_result { CONFFILE_OK, CONFFILE_MISSING, CONFFILE_ERROR };

/* Read path.  A malformed line is reported as "path:line: why" and is
 * CONFFILE_ERROR, as is a callback returning false; a file that does not
 * exist is CONFFILE_MISSING (errno ENOENT) and nothing is reported. */
enum conffile_result conffile_read(const char *path, conffile_fn fn, void *ctx);

/* The default file: $XDG_CONFIG_HOME/mqmon/config, else
 * ~/.config/mqmon/config.  Returns a malloc'd path or NULL without HOME. */
char *conffile_default_path(void);

#endif
