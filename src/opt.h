/*
 * opt.h — one parser for every program's settings (SPEC §2).  Settings come
 * from, strongest first: the command line; the environment; the config file
 * (--config, else $MQMON_CONFIG, else $XDG_CONFIG_HOME/mqmon/config); then
 * defaults.  The config file is more argv: each "key = value" line goes
 * through the same option handlers as "--key value", so there is one parser
 * to test.  Options shared by the connecting programs (host, port, TLS,
 * will, reconnect, …) are defined and applied here; each program adds its
 * own table and handler.
 */
#ifndef MQMON_OPT_H
#define MQMON_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"

enum opt_layer { OPT_LAYER_DEFAULT = 0, OPT_LAYER_FILE, OPT_LAYER_ENV, OPT_LAYER_ARGV };

/* Where a value came from, for error messages and list precedence. */
struct opt_where {
	enum opt_layer layer;
	const char *origin; /* config file path or environment variable name */
	unsigned line; /* config file line */
};

/* One option of a program.  key is the short letter (as in mosquitto's
 * clients) or a value >= OPT_KEY_LONG for long-only options. */
struct opt_def {
	const char *name; /* long name, also the config file key */
	int key;
	const char *arg; /* metavar shown in --help; NULL for a flag */
	const char *help; /* one line for --help */
};
#define OPT_KEY_LONG 256
#define OPT_KEY_PROGRAM 512 /* programs number their long-only options from here */

struct opt_err {
	char msg[512];
};
/* Set the message of a bad value; returns false for "return opt_errf(…)". */
bool opt_errf(struct opt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A program's handler for its own options.  val is NULL for flags.
 * Returns false with err filled on a bad value. */
typedef bool (*opt_apply_fn)(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err);

enum opt_sets {
	OPT_SET_CONN = 1, /* the connection options of SPEC §2 */
};

/* For an option of several words, as mosquitto's "-D publish NAME VALUE":
 * how many of the argv words after its value (next[0..n)) belong to it, 0
 * for an ordinary option, or -1 with err filled when they cannot be right.
 * The handler then gets the value and those words in one string, each
 * word ended by '\0' (in a config file, the value is split at white
 * space and must have as many words). */
typedef int (*opt_words_fn)(void *ctx, int key, const char *val, char *const *next, int n, struct opt_err *err);

struct opt_program {
	const char *name; /* "mqmon-sub" */
	const char *synopsis; /* "[options] -t FILTER [-t FILTER ...]" */
	const char *summary; /* one sentence for --help */
	const struct opt_def *opts; /* terminated by an entry with name NULL */
	unsigned sets; /* enum opt_sets */
	opt_apply_fn apply;
	void *ctx;
	const char *epilog; /* optional text after the options in --help */
	opt_words_fn more_words; /* optional */
};

/* Parse everything.  Prints --help or --version and exits 0; prints a
 * usage or configuration error and exits 2.  conn (if the program
 * connects) is filled with defaults first.  Returns the index in argv of
 * the first positional argument. */
int opt_parse(const struct opt_program *p, int argc, char **argv, struct conn_opts *conn);

/* Value helpers for handlers; each fills err and returns false when val is
 * not acceptable.  Seconds accept fractions and units ("2.5", "500ms",
 * "1m"). */
bool opt_int(const char *val, long min, long max, long *out, struct opt_err *err);
bool opt_seconds(const char *val, double *out, struct opt_err *err);
bool opt_bool(const char *val, bool *out, struct opt_err *err);
/* A plain decimal number ("2.5"), finite. */
bool opt_number(const char *val, double *out, struct opt_err *err);

/* A repeatable option.  Values from a stronger layer replace those of a
 * weaker one (-t on the command line replaces topics from the config
 * file); within a layer they accumulate. */
struct opt_list {
	char **items;
	size_t n;
	enum opt_layer layer;
};
void opt_list_add(struct opt_list *l, const char *val, const struct opt_where *w);
/* A topic filter (-t, -T): checked, then added to l. */
bool opt_filter_add(struct opt_list *l, const char *val, const struct opt_where *w, struct opt_err *err);
void opt_list_free(struct opt_list *l);

/* A repeatable option whose values add up across layers instead: topic
 * rules, where the command line's are tried first, then the
 * environment's, then the config file's, so mqmon-store and mqmon-status
 * given the same file and flags read messages alike. */
struct opt_stack {
	struct opt_list by_layer[OPT_LAYER_ARGV + 1];
};
void opt_stack_add(struct opt_stack *s, const char *val, const struct opt_where *w);
/* How many values came from the environment or the command line. */
size_t opt_stack_count_above(const struct opt_stack *s, enum opt_layer layer);
/* Every value, strongest layer first, appended to out; s is emptied. */
void opt_stack_take(struct opt_stack *s, struct opt_list *out);

/* The registry of every long option of every program, with its short
 * letter: "-t" is "topic" everywhere.  Used to tell a typo from another
 * program's key in the config file's global part, and checked against each
 * program's table at start-up (optreg.c). */
struct optreg_entry {
	const char *name;
	int letter; /* 0 if none */
	const char *programs; /* "sub pub" … or "all" */
};
const struct optreg_entry *optreg_find(const char *name);
bool optreg_program_has(const struct optreg_entry *e, const char *progname);

/* Hints for habits from mosquitto_sub and mosquitto_pub that would
 * otherwise fail with a bare "unknown option" or "needs a value": -h
 * alone (the host, not help), -N, mosquitto's -F format strings, -d
 * before a database file …  The table is in optreg.c, next to the
 * registry; opt.c looks it up whenever it reports such an error. */
enum opt_hint_when {
	OPT_HINT_UNKNOWN, /* the program has no such option */
	OPT_HINT_NO_VALUE, /* the option needs a value and has none */
	OPT_HINT_BAD_VALUE, /* the handler refused a value matching pattern */
	OPT_HINT_TRAP, /* a value matching pattern, refused although it parses ("-help" = "-h elp") */
	OPT_HINT_NEXT_WORD, /* a flag followed by a stray word matching pattern ("-d fleet.db") */
};
struct opt_hint {
	const char *programs; /* as in the registry: "sub pub", "all" */
	enum opt_hint_when when;
	int letter; /* the short option, or 0 */
	const char *name; /* or the long option (OPT_HINT_UNKNOWN), or NULL */
	const char *pattern; /* fnmatch(3) pattern of the value or word, or NULL */
	const char *text; /* what to say; for OPT_HINT_TRAP the whole message */
};
/* The first hint for this situation in progname, or NULL.  An entry
 * matches by letter or by long name: opt.c passes the option's letter and
 * long name, or for OPT_HINT_UNKNOWN and OPT_HINT_NO_VALUE only the one
 * the user typed (0 or NULL for the other).  value (the value, or the
 * stray word) is matched against the pattern; it may be NULL. */
const struct opt_hint *optreg_hint(const char *progname, enum opt_hint_when when, int letter, const char *name,
                                   const char *value);

#endif
