/*
 * opt.c — settings from defaults, config file, environment and command
 * line, strongest last, all through one set of handlers.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conffile.h"
#include "log.h"
#include "mqmon.h"
#include "opt.h"
#include "topic.h"
#include "timeutil.h"

enum shared_key {
	OPT_CONFIG = OPT_KEY_LONG,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_CAFILE,
	OPT_CAPATH,
	OPT_CERT,
	OPT_KEY,
	OPT_INSECURE,
	OPT_TLS_VERSION,
	OPT_WILL_TOPIC,
	OPT_WILL_PAYLOAD,
	OPT_WILL_QOS,
	OPT_WILL_RETAIN,
	OPT_RECONNECT_DELAY,
	OPT_NO_RECONNECT,
	OPT_CONNECT_TIMEOUT,
};

static const struct opt_def general_opts[] = {
        {"config", OPT_CONFIG, "FILE", "read settings from FILE (default $MQMON_CONFIG, ~/.config/mqmon/config)"},
        {"quiet", OPT_QUIET, NULL, "print only errors on stderr"},
        {"debug", 'd', NULL, "print debugging information on stderr"},
        {"help", OPT_HELP, NULL, "show this help and exit"},
        {"version", OPT_VERSION, NULL, "show the version and exit"},
        {NULL, 0, NULL, NULL},
};

static const struct opt_def conn_opts_table[] = {
        {"host", 'h', "HOST", "broker host (localhost)"},
        {"port", 'p', "PORT", "broker port (1883, 8883 with TLS)"},
        {"url", 'L', "URL", "mqtt[s]://[user[:pass]@]host[:port][/topic]"},
        {"username", 'u', "USER", "user name"},
        {"password", 'P', "PASS", "password (prefer $MQMON_PASSWORD)"},
        {"id", 'i', "ID", "client id"},
        {"no-clean", 'c', NULL, "persistent session (needs -i)"},
        {"keepalive", 'k', "SECS", "keepalive interval (60)"},
        {"protocol", 'V', "VER", "MQTT version: 5, 311 or 31 (5)"},
        {"qos", 'q', "QOS", "quality of service 0, 1 or 2 (0)"},
        {"cafile", OPT_CAFILE, "FILE", "trust the CA certificates in FILE (enables TLS)"},
        {"capath", OPT_CAPATH, "DIR", "trust the CA certificates in DIR (enables TLS)"},
        {"cert", OPT_CERT, "FILE", "client certificate (enables TLS)"},
        {"key", OPT_KEY, "FILE", "client private key"},
        {"insecure", OPT_INSECURE, NULL, "do not check the server's host name"},
        {"tls-version", OPT_TLS_VERSION, "VER", "tlsv1.3, tlsv1.2 or tlsv1.1"},
        {"will-topic", OPT_WILL_TOPIC, "TOPIC", "topic of the last will"},
        {"will-payload", OPT_WILL_PAYLOAD, "MSG", "body of the last will"},
        {"will-qos", OPT_WILL_QOS, "QOS", "QoS of the last will (0)"},
        {"will-retain", OPT_WILL_RETAIN, NULL, "retain the last will"},
        {"reconnect-delay", OPT_RECONNECT_DELAY, "MIN[:MAX]", "backoff between retries, seconds (1:60)"},
        {"no-reconnect", OPT_NO_RECONNECT, NULL, "exit with status 1 when the connection is lost"},
        {"connect-timeout", OPT_CONNECT_TIMEOUT, "SECS", "give up connecting after SECS, 0 = never (10)"},
        {NULL, 0, NULL, NULL},
};

bool opt_errf(struct opt_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return false;
}

bool opt_int(const char *val, long min, long max, long *out, struct opt_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (end == val || *end != '\0' || errno)
		return opt_errf(err, "'%s' is not a whole number", val);
	if (v < min || v > max)
		return opt_errf(err, "%ld is out of range (%ld to %ld)", v, min, max);
	*out = v;
	return true;
}

bool opt_number(const char *val, double *out, struct opt_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	if (end == val || *end || errno || !isfinite(v))
		return opt_errf(err, "'%s' is not a number", val);
	*out = v;
	return true;
}

bool opt_seconds(const char *val, double *out, struct opt_err *err)
{
	int64_t ms;
	const char *why;
	if (!time_parse_span(val, &ms, &why))
		return opt_errf(err, "'%s' is not a time in seconds: %s", val, why);
	*out = (double)ms / 1000.0;
	return true;
}

bool opt_bool(const char *val, bool *out, struct opt_err *err)
{
	static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(val, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return opt_errf(err, "'%s' is not true or false", val);
}

void opt_list_add(struct opt_list *l, const char *val, const struct opt_where *w)
{
	if (w->layer > l->layer) {
		opt_list_free(l);
		l->layer = w->layer;
	}
	l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
	l->items[l->n++] = xstrdup(val);
}

bool opt_filter_add(struct opt_list *l, const char *val, const struct opt_where *w, struct opt_err *err)
{
	const char *why;
	if (!topic_filter_valid(val, strlen(val), &why))
		return opt_errf(err, "'%s': %s", val, why);
	opt_list_add(l, val, w);
	return true;
}

void opt_list_free(struct opt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void opt_stack_add(struct opt_stack *s, const char *val, const struct opt_where *w)
{
	struct opt_list *l = &s->by_layer[w->layer];
	l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
	l->items[l->n++] = xstrdup(val);
}

size_t opt_stack_count_above(const struct opt_stack *s, enum opt_layer layer)
{
	size_t n = 0;
	for (int i = (int)layer + 1; i <= OPT_LAYER_ARGV; i++)
		n += s->by_layer[i].n;
	return n;
}

void opt_stack_take(struct opt_stack *s, struct opt_list *out)
{
	static const struct opt_where here = {OPT_LAYER_DEFAULT, NULL, 0};
	for (int layer = OPT_LAYER_ARGV; layer >= OPT_LAYER_DEFAULT; layer--) {
		for (size_t i = 0; i < s->by_layer[layer].n; i++)
			opt_list_add(out, s->by_layer[layer].items[i], &here);
		opt_list_free(&s->by_layer[layer]);
	}
}

/* ---- the parse state ---- */

struct parser {
	const struct opt_program *p;
	struct conn_opts *conn;
	const struct opt_def *tables[3];
	size_t ntables;
};

static const struct opt_def *find_def(const struct parser *ps, const char *name, int key)
{
	for (size_t t = 0; t < ps->ntables; t++)
		for (const struct opt_def *d = ps->tables[t]; d->name; d++)
			if (name ? strcmp(d->name, name) == 0 : d->key == key)
				return d;
	return NULL;
}

static bool in_table(const struct opt_def *d, const struct opt_def *t)
{
	for (; t->name; t++)
		if (t == d)
			return true;
	return false;
}

static bool is_shared(const struct opt_def *d)
{
	return in_table(d, conn_opts_table) || in_table(d, general_opts);
}

static void set_str(char **slot, const char *val)
{
	free(*slot);
	*slot = xstrdup(val);
}

static bool apply_qos(const char *val, int *out, struct opt_err *err)
{
	long v;
	if (!opt_int(val, 0, 2, &v, err))
		return opt_errf(err, "'%s' is not a QoS (0, 1 or 2)", val);
	*out = (int)v;
	return true;
}

/* URL parts are percent-decoded, so a password may hold '@' or ':' and a
 * topic filter "#" ("%23").  "%00" would cut the C string short (a topic
 * "a%00b" would become "a"): NULL. */
static char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && mqmon_hexval(s[i + 1]) >= 0 && mqmon_hexval(s[i + 2]) >= 0) {
			*o = (char)(mqmon_hexval(s[i + 1]) * 16 + mqmon_hexval(s[i + 2]));
			if (*o++ == '\0') {
				free(out);
				return NULL;
			}
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Where the password of "[scheme://]user:pass@host/..." lies: between
 * *colon and *at.  A '/' left unencoded in it ("user:pa/ss@host") still
 * counts, so that no message shows it. */
static bool url_password(const char *url, const char **colon, const char **at)
{
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	size_t alen = strcspn(auth, "/");
	*at = memrchr(auth, '@', alen);
	if (!*at)
		*at = strchr(auth + alen, '@');
	*colon = *at ? memchr(auth, ':', (size_t)(*at - auth)) : NULL;
	return *colon != NULL;
}

/* The text of a URL (or of something meant as one) for a message: the
 * password shown as "***", so that no error ever prints it. */
static const char *url_shown(const char *url)
{
	static char shown[512];
	const char *colon, *at;
	if (!url_password(url, &colon, &at))
		snprintf(shown, sizeof shown, "%s", url);
	else
		snprintf(shown, sizeof shown, "%.*s***%s", (int)(colon + 1 - url), url, at);
	return shown;
}

static bool apply_program(struct parser *ps, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	return ps->p->apply(ps->p->ctx, key, val, w, err);
}

static bool apply_url(struct parser *ps, const char *url, const struct opt_where *w, struct opt_err *err)
{
	struct conn_opts *o = ps->conn;
	const char *rest;
	if (strncmp(url, "mqtt://", 7) == 0) {
		rest = url + 7;
		o->tls = false;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		rest = url + 8;
		o->tls = true;
	} else {
		return opt_errf(err, "'%s' is not an mqtt:// or mqtts:// URL", url_shown(url));
	}
	size_t authority_len = strcspn(rest, "/");
	const char *path = rest[authority_len] == '/' ? rest + authority_len + 1 : NULL;
	const char *at = memrchr(rest, '@', authority_len);
	const char *hostpart = rest;
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		size_t ulen = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
		char *user = url_decode(rest, ulen);
		char *pass = colon ? url_decode(colon + 1, (size_t)(at - colon - 1)) : NULL;
		if (!user || (colon && !pass)) {
			free(user);
			free(pass);
			return opt_errf(err, "'%s': %%00 (a NUL character) is not allowed", url_shown(url));
		}
		free(o->username);
		o->username = user;
		if (colon) {
			free(o->password);
			o->password = pass;
		}
		hostpart = at + 1;
	}
	size_t hlen = (size_t)(rest + authority_len - hostpart);
	const char *portstr = NULL;
	size_t namelen = hlen;
	if (hlen > 0 && hostpart[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(hostpart, ']', hlen);
		if (!close)
			return opt_errf(err, "'%s': unterminated [IPv6 address]", url_shown(url));
		free(o->host);
		o->host = xstrndup(hostpart + 1, (size_t)(close - hostpart - 1));
		if (close + 1 < hostpart + hlen && close[1] == ':')
			portstr = close + 2;
	} else {
		const char *colon = memchr(hostpart, ':', hlen);
		if (colon) {
			namelen = (size_t)(colon - hostpart);
			portstr = colon + 1;
		}
		if (namelen > 0) {
			free(o->host);
			o->host = xstrndup(hostpart, namelen);
		}
	}
	if (portstr) {
		char *p = xstrndup(portstr, (size_t)(rest + authority_len - portstr));
		long port;
		bool ok = opt_int(p, 1, 65535, &port, err);
		free(p);
		if (!ok)
			return opt_errf(err, "'%s': the port is not a number from 1 to 65535", url_shown(url));
		o->port = (int)port;
	}
	if (path && *path) {
		if (!find_def(ps, "topic", 0))
			return opt_errf(err, "'%s': %s takes no topic", url_shown(url), ps->p->name);
		char *topic = url_decode(path, strlen(path));
		if (!topic)
			return opt_errf(err, "'%s': %%00 (a NUL character) is not allowed", url_shown(url));
		bool ok = apply_program(ps, 't', topic, w, err);
		free(topic);
		return ok;
	}
	return true;
}

static bool apply_reconnect_delay(struct conn_opts *o, const char *val, struct opt_err *err)
{
	const char *colon = strchr(val, ':');
	char *min = colon ? xstrndup(val, (size_t)(colon - val)) : xstrdup(val);
	double lo = 0, hi;
	bool ok = opt_seconds(min, &lo, err);
	free(min);
	if (!ok)
		return false;
	hi = lo > 60 ? lo : 60;
	if (colon && !opt_seconds(colon + 1, &hi, err))
		return false;
	if (lo <= 0 || hi < lo)
		return opt_errf(err, "'%s': need 0 < MIN <= MAX", val);
	o->reconnect_min = lo;
	o->reconnect_max = hi;
	return true;
}

static bool apply_shared(struct parser *ps, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct conn_opts *o = ps->conn;
	long v;
	switch (key) {
	case OPT_QUIET: log_set_level(LOG_QUIET); return true;
	case 'd': log_set_level(LOG_DEBUG); return true;
	case OPT_CONFIG: /* handled before anything else */
	case OPT_HELP:
	case OPT_VERSION: return true;
	case 'h': {
		if (!*val)
			return opt_errf(err, "the host name is empty");
		if (val[0] == '-')
			return opt_errf(err, "'%s' is not a host name", val);
		if (strstr(val, "://"))
			return opt_errf(err, "'%s' is a URL: give it with -L", url_shown(val));
		if (strchr(val, '@'))
			return opt_errf(err, "'%s' is not a host name: give the user and password with -u and -P",
			                url_shown(val));
		/* "host:port" (an IPv6 address has more colons) */
		const char *colon = strchr(val, ':');
		if (colon && !strchr(colon + 1, ':') && colon[1] &&
		    strspn(colon + 1, "0123456789") == strlen(colon + 1))
			return opt_errf(err, "'%s' is a host and a port: give the port with -p %s", val, colon + 1);
		set_str(&o->host, val);
		return true;
	}
	case 'p':
		if (!opt_int(val, 1, 65535, &v, err))
			return opt_errf(err, "'%s' is not a port number (1-65535)", val);
		o->port = (int)v;
		return true;
	case 'L': return apply_url(ps, val, w, err);
	case 'u': set_str(&o->username, val); return true;
	case 'P': set_str(&o->password, val); return true;
	case 'i':
		if (!*val || strlen(val) > 65535)
			return opt_errf(err, "a client id must be 1 to 65535 bytes");
		set_str(&o->id, val);
		return true;
	case 'c': o->clean = false; return true;
	case 'k': {
		/* MQTT counts keepalive in whole seconds: "90", "1.5m" */
		double secs = 0;
		if (!opt_seconds(val, &secs, err) || secs < 5 || secs > 65535 || secs != (double)(long)secs)
			return opt_errf(err, "'%s' is not a keepalive of 5 to 65535 whole seconds", val);
		o->keepalive = (int)secs;
		return true;
	}
	case 'V':
		if (strcmp(val, "5") == 0 || strcmp(val, "mqttv5") == 0)
			o->protocol = 5;
		else if (strcmp(val, "311") == 0 || strcmp(val, "mqttv311") == 0)
			o->protocol = 311;
		else if (strcmp(val, "31") == 0 || strcmp(val, "mqttv31") == 0)
			o->protocol = 31;
		else
			return opt_errf(err, "'%s' is not an MQTT version (5, 311 or 31)", val);
		return true;
	case 'q': return apply_qos(val, &o->qos, err);
	case OPT_CAFILE: set_str(&o->cafile, val); return true;
	case OPT_CAPATH: set_str(&o->capath, val); return true;
	case OPT_CERT: set_str(&o->cert, val); return true;
	case OPT_KEY: set_str(&o->key, val); return true;
	case OPT_INSECURE: o->insecure = true; return true;
	case OPT_TLS_VERSION:
		if (strcmp(val, "tlsv1.3") && strcmp(val, "tlsv1.2") && strcmp(val, "tlsv1.1"))
			return opt_errf(err, "'%s' is not tlsv1.3, tlsv1.2 or tlsv1.1", val);
		set_str(&o->tls_version, val);
		return true;
	case OPT_WILL_TOPIC: set_str(&o->will_topic, val); return true;
	case OPT_WILL_PAYLOAD: set_str(&o->will_payload, val); return true;
	case OPT_WILL_QOS: return apply_qos(val, &o->will_qos, err);
	case OPT_WILL_RETAIN: o->will_retain = true; return true;
	case OPT_RECONNECT_DELAY: return apply_reconnect_delay(o, val, err);
	case OPT_NO_RECONNECT: o->reconnect = false; return true;
	case OPT_CONNECT_TIMEOUT: return opt_seconds(val, &o->connect_timeout, err);
	}
	return opt_errf(err, "internal error: unhandled option %d", key);
}

static bool apply_def(struct parser *ps, const struct opt_def *d, const char *val, const struct opt_where *w,
                      struct opt_err *err)
{
	if (is_shared(d))
		return apply_shared(ps, d->key, val, w, err);
	return apply_program(ps, d->key, val, w, err);
}

/* ---- --help and --version ---- */

static void print_table(struct buf *b, const char *title, const struct opt_def *t)
{
	buf_printf(b, "\n%s:\n", title);
	for (const struct opt_def *d = t; d->name; d++) {
		char left[64];
		int n;
		if (d->key < OPT_KEY_LONG)
			n = snprintf(left, sizeof left, "  -%c, --%s%s%s", d->key, d->name, d->arg ? " " : "",
			             d->arg ? d->arg : "");
		else
			n = snprintf(left, sizeof left, "      --%s%s%s", d->name, d->arg ? " " : "",
			             d->arg ? d->arg : "");
		if (n < 30)
			buf_printf(b, "%-30s%s\n", left, d->help);
		else
			buf_printf(b, "%s\n%30s%s\n", left, "", d->help);
	}
}

static _Noreturn void print_help(const struct opt_program *p)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "Usage: %s %s\n%s\n", p->name, p->synopsis, p->summary);
	if (p->opts && p->opts->name)
		print_table(&b, "Options", p->opts);
	if (p->sets & OPT_SET_CONN)
		print_table(&b, "Connection", conn_opts_table);
	print_table(&b, "General", general_opts);
	if (p->epilog)
		buf_printf(&b, "\n%s\n", p->epilog);
	buf_printf(&b,
	           "\nExit status: 0 success, 1 runtime failure, 2 usage error, 3 timeout, 4 nack,\n"
	           "65 some input lines rejected.  See %s(1) and mqmon(7).\n",
	           p->name);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	exit(fflush(stdout) == 0 ? MQMON_EXIT_OK : MQMON_EXIT_RUNTIME);
}

static _Noreturn void print_version(const struct opt_program *p)
{
	int major, minor, rev;
	mosquitto_lib_version(&major, &minor, &rev);
	printf("%s (mqmon) %s\nlibmosquitto %d.%d.%d\n", p->name, PACKAGE_VERSION, major, minor, rev);
	exit(fflush(stdout) == 0 ? MQMON_EXIT_OK : MQMON_EXIT_RUNTIME);
}

/* ---- the registry check ---- */

static void check_registry(const struct parser *ps)
{
	for (size_t t = 0; t < ps->ntables; t++) {
		for (const struct opt_def *d = ps->tables[t]; d->name; d++) {
			const struct optreg_entry *e = optreg_find(d->name);
			int letter = d->key < OPT_KEY_LONG ? d->key : 0;
			if (!e || !optreg_program_has(e, ps->p->name) || (letter && letter != e->letter)) {
				mqmon_die(MQMON_EXIT_RUNTIME, "internal error: option --%s disagrees with src/optreg.c",
				          d->name);
			}
		}
	}
}

/* ---- hints and options of several words ---- */

static int def_letter(const struct opt_def *d)
{
	return d->key < OPT_KEY_LONG ? d->key : 0;
}

/* What to add to the handler's complaint about val, or NULL. */
static const struct opt_hint *value_hint(const struct parser *ps, const struct opt_def *d, const char *val)
{
	return optreg_hint(ps->p->name, OPT_HINT_BAD_VALUE, def_letter(d), d->name, val);
}

/* How many words after val the option takes from next[0..n) (see
 * opt_words_fn), and the words joined into *joined when there are any. */
static int gather_words(const struct parser *ps, const struct opt_def *d, const char *val, char *const *next, int n,
                        struct buf *joined, struct opt_err *err)
{
	if (!d->arg || !ps->p->more_words || is_shared(d))
		return 0;
	int more = ps->p->more_words(ps->p->ctx, d->key, val, next, n, err);
	if (more <= 0)
		return more;
	if (more > n) {
		opt_errf(err, "internal error: more words than there are");
		return -1;
	}
	buf_add(joined, val, strlen(val) + 1);
	for (int i = 0; i < more; i++)
		buf_add(joined, next[i], strlen(next[i]) + 1);
	return more;
}

/* A config file value of an option of several words: its words, split at
 * white space, must be as many as the option takes. */
static bool config_words(const struct parser *ps, const struct opt_def *d, const char *val, struct buf *joined,
                         struct opt_err *err)
{
	char *copy = xstrdup(val), *save = NULL;
	char *words[16];
	int n = 0;
	for (char *w = strtok_r(copy, " \t", &save); w && n < (int)MQMON_ARRAY_LEN(words);
	     w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	bool ok = true;
	if (n > 0) {
		int more = gather_words(ps, d, words[0], words + 1, n - 1, joined, err);
		if (more < 0)
			ok = false;
		else if (more > 0 && more != n - 1)
			ok = opt_errf(err, "'%s': too many words", val);
		else if (more == 0)
			buf_free(joined); /* an ordinary value: kept whole */
	}
	free(copy);
	return ok;
}

/* ---- config file ---- */

static bool config_entry(void *ctx, const struct conffile_entry *e);

struct file_ctx {
	struct parser *ps;
	const char *path;
	bool holds_password; /* password = …, or a url = with user:pass@ */
};

static bool config_entry(void *ctx, const struct conffile_entry *e)
{
	struct file_ctx *fc = ctx;
	struct parser *ps = fc->ps;
	struct opt_where w = {OPT_LAYER_FILE, fc->path, e->line};
	struct opt_err err = {{0}};
	/* [mqmon] is the shared part again, like the lines before any header */
	bool shared = !e->section || strcmp(e->section, "mqmon") == 0;
	/* in any section: the file holds it, whichever program it is for */
	const char *colon, *at;
	if (e->key && e->value &&
	    (strcmp(e->key, "password") == 0 || (strcmp(e->key, "url") == 0 && url_password(e->value, &colon, &at))))
		fc->holds_password = true;
	if (!e->key) {
		static const char *const known[] = {"mqmon",     "mqmon-sub",   "mqmon-pub",
		                                    "mqmon-cmd", "mqmon-store", "mqmon-status"};
		for (size_t i = 0; i < MQMON_ARRAY_LEN(known); i++)
			if (strcmp(e->section, known[i]) == 0)
				return true;
		mqmon_err("%s:%u: unknown section [%s] (sections are program names such as [mqmon-sub])", fc->path,
		          e->line, e->section);
		return false;
	}
	if (!shared && strcmp(e->section, ps->p->name) != 0)
		return true; /* another program's settings */
	const struct opt_def *d = find_def(ps, e->key, 0);
	if (!d) {
		if (shared) {
			const struct optreg_entry *r = optreg_find(e->key);
			if (r && !optreg_program_has(r, ps->p->name))
				return true; /* another program's option in the shared part */
		}
		mqmon_err("%s:%u: unknown key '%s'", fc->path, e->line, e->key);
		return false;
	}
	if (d->key == OPT_CONFIG || d->key == OPT_HELP || d->key == OPT_VERSION) {
		mqmon_err("%s:%u: '%s' cannot be set in a config file", fc->path, e->line, e->key);
		return false;
	}
	const char *val = e->value;
	if (!d->arg) {
		bool on = true;
		if (val && !opt_bool(val, &on, &err)) {
			mqmon_err("%s:%u: %s: %s", fc->path, e->line, e->key, err.msg);
			return false;
		}
		if (!on)
			return true;
		val = NULL;
	} else if (!val) {
		mqmon_err("%s:%u: %s needs a value (%s = %s)", fc->path, e->line, e->key, e->key, d->arg);
		return false;
	}
	struct buf words = BUF_INIT;
	if (val && !config_words(ps, d, val, &words, &err)) {
		mqmon_err("%s:%u: %s: %s", fc->path, e->line, e->key, err.msg);
		buf_free(&words);
		return false;
	}
	bool ok = apply_def(ps, d, words.data ? words.data : val, &w, &err);
	buf_free(&words);
	if (!ok) {
		const struct opt_hint *h = value_hint(ps, d, val);
		mqmon_err("%s:%u: %s: %s%s%s", fc->path, e->line, e->key, err.msg, h ? "; " : "", h ? h->text : "");
		return false;
	}
	return true;
}

/* Returns what was read, for the -d report once -d itself is known, and
 * in *loose whether it holds a password that others may read (said once
 * --quiet is known). */
static char *load_config(struct parser *ps, const char *explicit_path, bool *loose)
{
	char *path = NULL;
	bool must_exist = true;
	if (explicit_path) {
		path = xstrdup(explicit_path);
	} else if (getenv("MQMON_CONFIG") && *getenv("MQMON_CONFIG")) {
		path = xstrdup(getenv("MQMON_CONFIG"));
	} else {
		path = conffile_default_path();
		must_exist = false;
	}
	if (!path)
		return NULL;
	struct file_ctx fc = {ps, path, false};
	enum conffile_result r = conffile_read(path, config_entry, &fc);
	struct stat st;
	*loose = r == CONFFILE_OK && fc.holds_password && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	         (st.st_mode & (S_IRGRP | S_IROTH));
	if (r == CONFFILE_MISSING && must_exist) {
		mqmon_err("%s: no such config file", path);
		exit(MQMON_EXIT_USAGE);
	}
	if (r == CONFFILE_ERROR)
		exit(MQMON_EXIT_USAGE);
	if (r == CONFFILE_OK)
		return path;
	free(path);
	return NULL;
}

/* ---- environment ---- */

static const struct {
	const char *var;
	const char *option;
} env_map[] = {
        /* the names existing deployments already set come first, so MQMON_*
         * win when both are present */
        {"MQTT_BROKER_HOST", "host"},    {"MQTT_BROKER_PORT", "port"},
        {"MQTT_USERNAME", "username"},   {"MQTT_PASSWORD", "password"},
        {"MQTT_KEEPALIVE", "keepalive"}, {"MQMON_HOST", "host"},
        {"MQMON_PORT", "port"},          {"MQMON_USERNAME", "username"},
        {"MQMON_PASSWORD", "password"},  {"MQMON_DB", "db"},
};

static void load_env(struct parser *ps)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(env_map); i++) {
		const char *val = getenv(env_map[i].var);
		if (!val || !*val)
			continue;
		const struct opt_def *d = find_def(ps, env_map[i].option, 0);
		if (!d)
			continue; /* e.g. MQMON_DB for a program without --db */
		struct opt_where w = {OPT_LAYER_ENV, env_map[i].var, 0};
		struct opt_err err = {{0}};
		if (!apply_def(ps, d, val, &w, &err)) {
			mqmon_err("%s: %s", env_map[i].var, err.msg);
			exit(MQMON_EXIT_USAGE);
		}
	}
}

/* ---- the command line ---- */

struct getopt_tables {
	struct option *longs;
	char shorts[128];
};

static void build_getopt(const struct parser *ps, struct getopt_tables *g)
{
	size_t count = 0;
	for (size_t t = 0; t < ps->ntables; t++)
		for (const struct opt_def *d = ps->tables[t]; d->name; d++)
			count++;
	g->longs = xcalloc(count + 1, sizeof *g->longs);
	size_t k = 0, s = 0;
	/* '+' would stop at the first positional; permuting lets options
	 * follow "mqmon-cmd DEVICE COMMAND" and store's subcommands */
	g->shorts[s++] = ':';
	for (size_t t = 0; t < ps->ntables; t++) {
		for (const struct opt_def *d = ps->tables[t]; d->name; d++) {
			g->longs[k].name = d->name;
			g->longs[k].has_arg = d->arg ? required_argument : no_argument;
			g->longs[k].val = d->key;
			k++;
			if (d->key < OPT_KEY_LONG && s + 3 < sizeof g->shorts) {
				g->shorts[s++] = (char)d->key;
				if (d->arg)
					g->shorts[s++] = ':';
			}
		}
	}
	g->shorts[s] = '\0';
}

static const char *option_text(const struct option *longs, int longindex, int key, char *tmp)
{
	if (longindex >= 0)
		return longs[longindex].name;
	tmp[0] = (char)key;
	tmp[1] = '\0';
	return tmp;
}

int opt_parse(const struct opt_program *p, int argc, char **argv, struct conn_opts *conn)
{
	struct parser ps = {.p = p, .conn = conn};
	struct conn_opts scratch;
	if (!conn) {
		conn_opts_init(&scratch);
		ps.conn = &scratch;
	} else {
		conn_opts_init(conn);
	}
	if (p->opts)
		ps.tables[ps.ntables++] = p->opts;
	if (p->sets & OPT_SET_CONN)
		ps.tables[ps.ntables++] = conn_opts_table;
	ps.tables[ps.ntables++] = general_opts;
	check_registry(&ps);

	struct getopt_tables g;
	build_getopt(&ps, &g);

	/* First pass: only --help, --version and --config, which decide what
	 * happens before anything else is read.  The words of an option of
	 * several words are skipped here too, so that getopt's reordering
	 * keeps them behind their option. */
	const char *config_path = NULL;
	const char *stray = NULL; /* "-d fleet.db": the word after the flag */
	const struct opt_hint *stray_hint = NULL;
	opterr = 0;
	optind = 0;
	int c, li;
	while ((li = -1, c = getopt_long(argc, argv, g.shorts, g.longs, &li)) != -1) {
		if (c == OPT_HELP)
			print_help(p);
		if (c == OPT_VERSION)
			print_version(p);
		if (c == OPT_CONFIG)
			config_path = optarg;
		const struct opt_def *d = c == '?' || c == ':' ? NULL : find_def(&ps, NULL, c);
		if (d && d->arg) {
			struct opt_err err;
			struct buf ignored = BUF_INIT;
			int more = gather_words(&ps, d, optarg, argv + optind, argc - optind, &ignored, &err);
			buf_free(&ignored);
			if (more > 0)
				optind += more;
		} else if (d && c < OPT_KEY_LONG && !stray_hint && optind < argc && argv[optind][0] != '-' &&
		           strcmp(argv[optind - 1], (char[]){'-', (char)c, '\0'}) == 0) {
			/* getopt has not moved the next word yet: it is the one
			 * the user wrote after the flag */
			stray = argv[optind];
			stray_hint = optreg_hint(p->name, OPT_HINT_NEXT_WORD, def_letter(d), d->name, stray);
		}
	}
	if (stray_hint)
		mqmon_usage_error("-%c %s: %s", stray_hint->letter, stray, stray_hint->text);

	bool loose = false;
	char *config_read = load_config(&ps, config_path, &loose);
	load_env(&ps);

	optind = 0;
	while ((li = -1, c = getopt_long(argc, argv, g.shorts, g.longs, &li)) != -1) {
		char tmp[2];
		const struct opt_hint *h;
		if (c == '?') {
			/* "--passwd=SECRET": the name alone, never the value */
			const char *word = argv[optind - 1];
			if (strncmp(word, "--", 2) == 0) {
				char *name = xstrndup(word + 2, strcspn(word + 2, "="));
				if (optopt) /* "--quiet=x": known, but takes no value */
					mqmon_usage_error("option --%s takes no value", name);
				h = optreg_hint(p->name, OPT_HINT_UNKNOWN, 0, name, NULL);
				mqmon_usage_error("unknown option --%s%s%s", name, h ? "; " : "", h ? h->text : "");
			}
			if (optopt && optopt < OPT_KEY_LONG && optopt > ' ') {
				h = optreg_hint(p->name, OPT_HINT_UNKNOWN, optopt, NULL, NULL);
				mqmon_usage_error("unknown option -%c%s%s", optopt, h ? "; " : "", h ? h->text : "");
			}
			mqmon_usage_error("unknown option %s", word);
		}
		if (c == ':') {
			if (optopt && optopt < OPT_KEY_LONG && strncmp(argv[optind - 1], "--", 2) != 0) {
				h = optreg_hint(p->name, OPT_HINT_NO_VALUE, optopt, NULL, NULL);
				if (h)
					mqmon_usage_error("-%c needs a value %s", optopt, h->text);
				mqmon_usage_error("option -%c needs a value", optopt);
			}
			mqmon_usage_error("option %s needs a value", argv[optind - 1]);
		}
		const struct opt_def *d = find_def(&ps, NULL, c);
		struct opt_where w = {OPT_LAYER_ARGV, NULL, 0};
		struct opt_err err = {{0}};
		const char *name = option_text(g.longs, li, c, tmp);
		const char *dashes = li >= 0 ? "--" : "-";
		const char *val = optarg;
		struct buf words = BUF_INIT;
		if (d->arg) {
			/* "-help": -h with the value "elp" */
			const char *word = argv[optind - 1];
			if (li < 0 && optarg != word && (h = optreg_hint(p->name, OPT_HINT_TRAP, c, d->name, word)))
				mqmon_usage_error("%s", h->text);
			int more = gather_words(&ps, d, optarg, argv + optind, argc - optind, &words, &err);
			if (more < 0)
				mqmon_usage_error("%s%s: %s", dashes, name, err.msg);
			if (more > 0) {
				optind += more;
				val = words.data;
			}
		}
		if (!apply_def(&ps, d, val, &w, &err)) {
			h = d->arg ? value_hint(&ps, d, optarg) : NULL;
			mqmon_usage_error("%s%s: %s%s%s", dashes, name, err.msg, h ? "; " : "", h ? h->text : "");
		}
		buf_free(&words);
	}
	free(g.longs);
	if (loose) /* like ssh and .netrc */
		mqmon_warn("%s holds a password and is readable by others; chmod 600 %s", config_read, config_read);
	mqmon_debug("settings from %s", config_read ? config_read : "no config file");
	free(config_read);
	if (!conn)
		conn_opts_free(&scratch);
	return optind;
}
