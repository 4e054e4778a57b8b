/*
 * cmdrepl.c — the REPL.
 *
 *   mqmon-cmd> ESP32_001 relay index=0 state=true
 *   ESP32_001 relay: sent (id 0b6f…)
 *   {"ts":"…","event":"result","id":"0b6f…","device":"ESP32_001",…}
 *   mqmon-cmd> use ESP32_001
 *   mqmon-cmd ESP32_001> restart
 *
 * Devices are learned from the broker (answers on the ack topic, status
 * topics of the default rules, watched messages), from --db and from the
 * history; command names and parameter keys from FLEETS.md's commands and
 * from what was typed before, also in earlier runs (the history file).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cmdproto.h"
#include "cmdrepl.h"
#include "envelope.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "rules.h"
#include "sig.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"
#include "topic.h"

#define HISTORY_LINES 1000

struct repl;

/* What an argument of a table command completes to. */
enum complete { COMPLETE_NONE, COMPLETE_DEVICE, COMPLETE_TABLE };

struct repl_cmd {
	const char *name;
	const char *args;
	void (*run)(struct repl *r, int argc, char **argv);
	const char *help;
	enum complete complete;
};

struct repl {
	const struct cmdrepl_opts *o;
	struct cmd_engine *engine;
	struct loop *loop;
	struct rules rules; /* the defaults: devices from status topics */
	struct topic_pattern *ack_pattern; /* devices from the answers' topics */
	char **status_filters; /* subscribed to learn devices, not printed */
	size_t nstatus_filters;
	int in; /* stdin's loop handle */
	struct linereader lr; /* stdin when it is not a terminal */
	struct strmap devices; /* name -> NULL */
	struct strmap keys; /* "command" -> struct buf of "key\n" */
	char **watches; /* what the user watches (printed) */
	size_t nwatches;
	char *use; /* the device of `use`, or NULL */
	char *history;
	char prompt[200];
	bool quit, tty, installed;
	bool in_handler; /* running a line: output goes out as it is */
	struct buf scratch;
};

static struct repl *repl; /* readline's callbacks take no context */

/* ---- printing above the prompt ---- */

/* Print text (whole lines) where the prompt is, then redraw the prompt
 * and the half-typed line below it. */
static void say(const char *text, size_t len)
{
	/* inside the line handler readline is between lines: plain output */
	if (!repl->installed || !repl->tty || repl->in_handler) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		return;
	}
	char *saved = rl_copy_text(0, rl_end);
	int point = rl_point;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	rl_restore_prompt();
	rl_replace_line(saved, 0);
	rl_point = point;
	rl_redisplay();
	free(saved);
}

static void sayf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sayf(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof text - 2)
		n = (int)sizeof text - 2;
	text[n++] = '\n';
	say(text, (size_t)n);
}

/* ---- what the REPL knows ---- */

static void learn_device(const char *name, size_t len)
{
	const char *why;
	if (len && topic_level_valid(name, len, &why))
		strmap_put(&repl->devices, name, len);
}

static void learn_key(const char *command, const char *key, size_t klen)
{
	void **slot = strmap_put(&repl->keys, command, strlen(command));
	struct buf *b = *slot;
	if (!b)
		b = *slot = xcalloc(1, sizeof *b);
	/* "\nkey\n" marks a known key */
	buf_cstr(b);
	char probe[128];
	snprintf(probe, sizeof probe, "\n%.*s\n", (int)klen, key);
	if (b->len && strstr(b->data, probe))
		return;
	if (!b->len)
		buf_addc(b, '\n');
	buf_add(b, key, klen);
	buf_addc(b, '\n');
}

/* The commands of FLEETS.md and their parameters. */
static void learn_builtins(void)
{
	static const char *const known[][2] = {
	        {"restart", NULL},   {"ping", NULL},      {"get_status", NULL},
	        {"relay", "index"},  {"relay", "state"},  {"feed", "amount"},
	        {"water", "action"}, {"firmware", "url"}, {"firmware", "version"},
	};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(known); i++) {
		if (known[i][1])
			learn_key(known[i][0], known[i][1], strlen(known[i][1]));
		else
			strmap_put(&repl->keys, known[i][0], strlen(known[i][0]));
	}
}

/* ---- words ---- */

/* Split line into words at blanks; '…' keeps its text as it is, "…"
 * with backslash escapes.  The words live in scratch. */
static int split(const char *line, char **argv, int max)
{
	struct buf *b = &repl->scratch;
	buf_reset(b);
	buf_grow_to(b, strlen(line) * 2 + 2);
	int argc = 0;
	const char *p = line;
	while (argc < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		argv[argc++] = b->data + b->len;
		char quote = 0;
		for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
			if (!quote && (*p == '\'' || *p == '"'))
				quote = *p;
			else if (quote && *p == quote)
				quote = 0;
			else if (quote == '"' && *p == '\\' && p[1])
				buf_addc(b, *++p);
			else
				buf_addc(b, *p);
		}
		buf_addc(b, '\0');
	}
	return argc;
}

/* ---- the table ---- */

static void do_use(struct repl *r, int argc, char **argv);
static void do_devices(struct repl *r, int argc, char **argv);
static void do_watch(struct repl *r, int argc, char **argv);
static void do_unwatch(struct repl *r, int argc, char **argv);
static void do_timeout(struct repl *r, int argc, char **argv);
static void do_history(struct repl *r, int argc, char **argv);
static void do_help(struct repl *r, int argc, char **argv);
static void do_quit(struct repl *r, int argc, char **argv);

static const struct repl_cmd cmd_table[] = {
        {"use", "[DEVICE]", do_use, "send the commands that follow to DEVICE (none: leave it)", COMPLETE_DEVICE},
        {"devices", "", do_devices, "list the devices seen", COMPLETE_NONE},
        {"watch", "FILTER", do_watch, "print the messages on FILTER as they arrive", COMPLETE_NONE},
        {"unwatch", "[FILTER]", do_unwatch, "stop watching FILTER (none: every filter)", COMPLETE_NONE},
        {"timeout", "[SECS]", do_timeout, "show or set the wait for each answer", COMPLETE_NONE},
        {"history", "", do_history, "list the lines typed", COMPLETE_NONE},
        {"help", "[NAME]", do_help, "this list, or one command's help", COMPLETE_TABLE},
        {"quit", "", do_quit, "leave (Ctrl-D too)", COMPLETE_NONE},
};

static const struct repl_cmd *table_find(const char *name)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(cmd_table); i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

static void set_prompt(struct repl *r)
{
	if (!r->tty)
		r->prompt[0] = '\0';
	else if (r->use)
		snprintf(r->prompt, sizeof r->prompt, "mqmon-cmd %s> ", r->use);
	else
		snprintf(r->prompt, sizeof r->prompt, "mqmon-cmd> ");
	if (r->installed)
		rl_set_prompt(r->prompt);
}

static void do_use(struct repl *r, int argc, char **argv)
{
	const char *why;
	free(r->use);
	r->use = NULL;
	if (argc > 1) {
		if (!topic_level_valid(argv[1], strlen(argv[1]), &why)) {
			sayf("the device '%s' %s", argv[1], why);
		} else {
			r->use = xstrdup(argv[1]);
			learn_device(argv[1], strlen(argv[1]));
		}
	}
	set_prompt(r);
}

struct names {
	char **v;
	size_t n, cap;
};

static void collect_name(void *ctx, const char *key, size_t len, void *value)
{
	struct names *n = ctx;
	(void)value;
	if (n->n == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 32;
		n->v = xrealloc(n->v, n->cap * sizeof *n->v);
	}
	n->v[n->n++] = xstrndup(key, len);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of m, sorted; free with free_names(). */
static struct names sorted_names(struct strmap *m)
{
	struct names n = {0};
	strmap_each(m, collect_name, &n);
	if (n.n)
		qsort(n.v, n.n, sizeof *n.v, by_name);
	return n;
}

static void free_names(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

static void do_devices(struct repl *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct names n = sorted_names(&r->devices);
	for (size_t i = 0; i < n.n; i++)
		sayf("%s", n.v[i]);
	if (!n.n)
		sayf("no device seen yet");
	free_names(&n);
}

static void do_watch(struct repl *r, int argc, char **argv)
{
	const char *why;
	if (argc < 2) {
		for (size_t i = 0; i < r->nwatches; i++)
			sayf("watching %s", r->watches[i]);
		if (!r->nwatches)
			sayf("watching nothing (watch FILTER)");
		return;
	}
	if (!topic_filter_valid(argv[1], strlen(argv[1]), &why)) {
		sayf("'%s': %s", argv[1], why);
		return;
	}
	for (size_t i = 0; i < r->nwatches; i++)
		if (strcmp(r->watches[i], argv[1]) == 0)
			return;
	r->watches = xrealloc(r->watches, (r->nwatches + 1) * sizeof *r->watches);
	r->watches[r->nwatches++] = xstrdup(argv[1]);
	cmd_engine_watch(r->engine, argv[1], true);
}

static void do_unwatch(struct repl *r, int argc, char **argv)
{
	for (size_t i = 0; i < r->nwatches;) {
		if (argc > 1 && strcmp(r->watches[i], argv[1]) != 0) {
			i++;
			continue;
		}
		/* a filter the shell also uses to learn devices stays subscribed */
		bool learning = false;
		for (size_t k = 0; k < r->nstatus_filters; k++)
			learning |= strcmp(r->status_filters[k], r->watches[i]) == 0;
		if (!learning)
			cmd_engine_watch(r->engine, r->watches[i], false);
		free(r->watches[i]);
		r->watches[i] = r->watches[--r->nwatches];
	}
}

static void do_timeout(struct repl *r, int argc, char **argv)
{
	if (argc > 1) {
		char *end;
		double s = strtod(argv[1], &end);
		if (*end || !(s > 0)) {
			sayf("'%s' is not a number of seconds", argv[1]);
			return;
		}
		r->o->cmd->timeout = s;
	}
	sayf("timeout %g s (then %d retr%s)", r->o->cmd->timeout, r->o->cmd->retries,
	     r->o->cmd->retries == 1 ? "y" : "ies");
}

static void do_history(struct repl *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	HIST_ENTRY **list = history_list();
	for (int i = 0; list && list[i]; i++)
		sayf("%5d  %s", i + history_base, list[i]->line);
}

static void do_help(struct repl *r, int argc, char **argv)
{
	(void)r;
	if (argc > 1) {
		const struct repl_cmd *c = table_find(argv[1]);
		if (c)
			sayf("%s %s\n  %s", c->name, c->args, c->help);
		else
			sayf("%s: not a command of the shell; DEVICE COMMAND [KEY=VALUE ...] sends one", argv[1]);
		return;
	}
	sayf("DEVICE COMMAND [KEY=VALUE ...]  send COMMAND to DEVICE and print its answer");
	sayf("COMMAND [KEY=VALUE ...]         the same, to the device of 'use'");
	for (size_t i = 0; i < MQMON_ARRAY_LEN(cmd_table); i++) {
		char left[64];
		snprintf(left, sizeof left, "%s %s", cmd_table[i].name, cmd_table[i].args);
		sayf("%-31s %s", left, cmd_table[i].help);
	}
	sayf("Tab completes, Ctrl-C cancels the line or the wait, Ctrl-D leaves.");
}

static void do_quit(struct repl *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	r->quit = true;
}

/* ---- sending ---- */

static void send_command(struct repl *r, int argc, char **argv)
{
	int first = r->use ? 0 : 1;
	if (argc <= first) {
		sayf("give DEVICE COMMAND [KEY=VALUE ...], or 'use DEVICE' first ('help' lists the rest)");
		return;
	}
	const char *device = r->use ? r->use : argv[0];
	const char *command = argv[first];
	struct json_object *params = json_object_new_object();
	for (int i = first + 1; i < argc; i++) {
		const char *why;
		if (!cmdproto_param(params, argv[i], &why)) {
			sayf("'%s': %s", argv[i], why);
			json_object_put(params);
			return;
		}
		learn_key(command, argv[i], (size_t)(strchr(argv[i], '=') - argv[i]));
	}
	if (!cmd_engine_ready(r->engine)) {
		sayf("not connected to the broker yet: try again in a moment");
		json_object_put(params);
		return;
	}
	const char *why;
	const char *id = cmd_engine_send(r->engine, device, command, params, 0, &why);
	if (!id) {
		sayf("%s", why);
		return;
	}
	learn_device(device, strlen(device));
	strmap_put(&r->keys, command, strlen(command));
	sayf("%s %s: sent (id %s)", device, command, id);
}

static void dispatch(struct repl *r, const char *line)
{
	char *argv[64];
	int argc = split(line, argv, (int)MQMON_ARRAY_LEN(argv));
	if (argc == 0)
		return;
	const struct repl_cmd *c = table_find(argv[0]);
	if (c)
		c->run(r, argc, argv);
	else
		send_command(r, argc, argv);
}

/* ---- history ---- */

static char *history_path(void)
{
	struct buf b = BUF_INIT;
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (state && *state)
		buf_printf(&b, "%s/mqmon", state);
	else if (home && *home)
		buf_printf(&b, "%s/.local/state/mqmon", home);
	else
		return NULL;
	/* the directories, private like the file */
	for (char *p = (char *)buf_cstr(&b) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(b.data, 0700);
			*p = '/';
		}
	}
	mkdir(b.data, 0700);
	buf_adds(&b, "/history");
	int fd = open(buf_cstr(&b), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		mqmon_warn("cannot keep the history in %s: %s", b.data, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	fchmod(fd, 0600);
	close(fd);
	return (char *)buf_cstr(&b);
}

/* Learn devices, commands and keys from the lines of earlier runs,
 * following their use lines to know which word is which. */
static void learn_history(void)
{
	HIST_ENTRY **list = history_list();
	bool using = false;
	for (int i = 0; list && list[i]; i++) {
		char *argv[64];
		int argc = split(list[i]->line, argv, (int)MQMON_ARRAY_LEN(argv));
		if (argc >= 1 && strcmp(argv[0], "use") == 0) {
			using = argc >= 2;
			if (using)
				learn_device(argv[1], strlen(argv[1]));
			continue;
		}
		int first = using ? 0 : 1;
		if (argc <= first || table_find(argv[0]))
			continue;
		if (!using)
			learn_device(argv[0], strlen(argv[0]));
		strmap_put(&repl->keys, argv[first], strlen(argv[first]));
		for (int k = first + 1; k < argc; k++)
			if (strchr(argv[k], '=') && argv[k][0] != '=')
				learn_key(argv[first], argv[k], (size_t)(strchr(argv[k], '=') - argv[k]));
	}
}

/* ---- readline ---- */

static void on_line(char *line)
{
	if (!line) {
		/* Ctrl-D, or the end of piped input */
		if (repl->tty)
			fputc('\n', stdout);
		repl->quit = true;
	}
	if (repl->quit) {
		/* now, or readline shows the next prompt when this returns */
		rl_callback_handler_remove();
		repl->installed = false;
		return;
	}
	if (*line) {
		add_history(line);
		if (repl->history)
			append_history(1, repl->history);
	}
	repl->in_handler = true;
	dispatch(repl, line);
	repl->in_handler = false;
	free(line);
	if (repl->quit) {
		rl_callback_handler_remove();
		repl->installed = false;
	}
}

/* The candidates for the word being completed, one per line in out. */
static bool candidates(const char *line, int start, struct buf *out)
{
	char *head = xstrndup(line, (size_t)start);
	char *argv[64];
	int argc = split(head, argv, (int)MQMON_ARRAY_LEN(argv));
	free(head);
	struct repl *r = repl;
	bool keys = false;
	struct names n = {0};
	const struct repl_cmd *c = argc ? table_find(argv[0]) : NULL;
	if (argc == 0) {
		for (size_t i = 0; i < MQMON_ARRAY_LEN(cmd_table); i++)
			buf_printf(out, "%s\n", cmd_table[i].name);
		n = sorted_names(r->use ? &r->keys : &r->devices);
	} else if (c) {
		if (argc == 1 && c->complete == COMPLETE_DEVICE)
			n = sorted_names(&r->devices);
		else if (argc == 1 && c->complete == COMPLETE_TABLE)
			for (size_t i = 0; i < MQMON_ARRAY_LEN(cmd_table); i++)
				buf_printf(out, "%s\n", cmd_table[i].name);
	} else if (!r->use && argc == 1) {
		n = sorted_names(&r->keys); /* the command names */
	} else {
		const char *command = r->use ? argv[0] : argv[1];
		void **slot = strmap_get(&r->keys, command, strlen(command));
		struct buf *b = slot ? *slot : NULL;
		for (const char *p = b && b->len ? b->data + 1 : ""; *p;) {
			const char *nl = strchr(p, '\n');
			buf_printf(out, "%.*s=\n", (int)(nl - p), p);
			p = nl + 1;
		}
		keys = true;
	}
	for (size_t i = 0; i < n.n; i++)
		buf_printf(out, "%s\n", n.v[i]);
	free_names(&n);
	return keys;
}

static struct buf completions;
static const char *completion_next;

static char *generate(const char *text, int state)
{
	if (state == 0)
		completion_next = buf_cstr(&completions);
	size_t tl = strlen(text);
	while (*completion_next) {
		const char *nl = strchr(completion_next, '\n');
		const char *word = completion_next;
		completion_next = nl + 1;
		if ((size_t)(nl - word) >= tl && strncmp(word, text, tl) == 0)
			return xstrndup(word, (size_t)(nl - word));
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never file names */
	buf_reset(&completions);
	if (candidates(rl_line_buffer, start, &completions))
		rl_completion_suppress_append = 1; /* "amount=" takes its value next */
	return rl_completion_matches(text, generate);
}

static void on_stdin(void *ctx, short revents)
{
	(void)ctx;
	(void)revents;
	rl_callback_read_char();
}

/* Input that is not a terminal (a script): lines, no editing, no prompt,
 * not kept in the history. */
static void on_piped_stdin(void *ctx, short revents)
{
	struct repl *r = ctx;
	struct line ln;
	(void)revents;
	if (linereader_fill(&r->lr) < 0 && r->lr.error)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot read stdin: %s", strerror(r->lr.error));
	r->in_handler = true;
	while (!r->quit && linereader_next(&r->lr, &ln))
		if (!memchr(ln.data, '\0', ln.len))
			dispatch(r, ln.data);
	r->in_handler = false;
	if (r->lr.eof)
		r->quit = true;
}

/* Ctrl-C: the half-typed line goes, else the wait for answers. */
static void interrupt(struct repl *r)
{
	bool had_text = rl_end > 0;
	rl_replace_line("", 0);
	fputs(had_text ? "^C\n" : "\n", stdout);
	size_t n = had_text ? 0 : cmd_engine_give_up(r->engine, false);
	if (n)
		printf("stopped waiting for %zu command%s\n", n, n == 1 ? "" : "s");
	fflush(stdout);
	rl_on_new_line();
	rl_redisplay();
	sig_clear();
}

/* ---- the engine's news ---- */

static void on_event(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	say(line, len);
}

static void on_message(void *ctx, const struct mosquitto_message *m)
{
	struct repl *r = ctx;
	struct rule_match rm;
	size_t tlen = strlen(m->topic);
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	int n = r->ack_pattern ? topic_pattern_match(r->ack_pattern, m->topic, tlen, caps) : -1;
	const struct topic_capture *dev = n >= 0 ? topic_capture_find(caps, n, "device") : NULL;
	if (dev)
		learn_device(dev->value, dev->len);
	else if (rules_classify(&r->rules, m->topic, tlen, &rm) && rm.device && rm.kind != RULE_IGNORE)
		learn_device(rm.device, rm.device_len);
	for (size_t i = 0; i < r->nwatches; i++) {
		if (!topic_matches(r->watches[i], m->topic, tlen))
			continue;
		struct buf b = BUF_INIT;
		struct envelope e = {.topic = m->topic,
		                     .topic_len = tlen,
		                     .payload = m->payload ? m->payload : "",
		                     .payload_len = (size_t)m->payloadlen,
		                     .qos = m->qos,
		                     .retain = m->retain,
		                     .ts_ms = time_now_ms()};
		envelope_encode(&b, &e);
		say(b.data, b.len);
		buf_free(&b);
		break;
	}
}

/* Devices from an mqmon-store database. */
static void learn_db(const char *path)
{
	char err[512];
	struct store *s = store_open(path, STORE_READ, err, sizeof err);
	if (!s) {
		mqmon_warn("%s", err);
		return;
	}
	sqlite3_stmt *st = store_prepare(s, "SELECT device FROM devices");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		learn_device((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	store_close(s);
}

/* The status topics of the default rules, subscribed to find devices. */
static void watch_status_topics(struct repl *r)
{
	for (size_t i = 0; i < r->rules.n; i++) {
		if (r->rules.v[i].kind != RULE_STATUS)
			continue;
		struct buf f = BUF_INIT;
		const char *spec = r->rules.v[i].spec;
		char *pattern = xstrndup(spec, (size_t)(strrchr(spec, '=') - spec));
		topic_template_filter(&f, pattern);
		cmd_engine_watch(r->engine, buf_cstr(&f), true);
		r->status_filters = xrealloc(r->status_filters, (r->nstatus_filters + 1) * sizeof *r->status_filters);
		r->status_filters[r->nstatus_filters++] = xstrdup(buf_cstr(&f));
		free(pattern);
		buf_free(&f);
	}
}

static void free_key_list(void *ctx, const char *key, size_t len, void *value)
{
	(void)ctx;
	(void)key;
	(void)len;
	if (value) {
		buf_free(value);
		free(value);
	}
}

static bool nothing_pending(void *ctx)
{
	return cmd_engine_pending(((struct repl *)ctx)->engine) == 0;
}

static void setup_readline(struct repl *r)
{
	rl_readline_name = "mqmon-cmd";
	rl_catch_signals = 0; /* Ctrl-C comes through the loop */
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t";
	rl_completer_quote_characters = "'\"";
	using_history();
	stifle_history(HISTORY_LINES);
	if (r->history) {
		read_history(r->history);
		learn_history();
	}
	set_prompt(r);
	rl_callback_handler_install(r->prompt, on_line);
	r->installed = true;
}

int cmdrepl_run(const struct cmdrepl_opts *o)
{
	struct repl r = {.o = o, .tty = isatty(STDIN_FILENO)};
	repl = &r;
	rules_add_defaults(&r.rules);
	learn_builtins();
	if (o->db)
		learn_db(o->db);
	r.history = history_path();
	const char *why;
	r.ack_pattern = topic_pattern_compile(o->cmd->ack_topic, &why);
	r.loop = loop_new();
	struct cmd_handlers h = {.ctx = &r, .on_event = on_event, .on_message = on_message};
	r.engine = cmd_engine_new(o->cmd, o->conn, r.loop, &h);
	watch_status_topics(&r);
	struct conn *conn = cmd_engine_conn(r.engine);
	conn_start(conn);
	if (r.tty) {
		setup_readline(&r);
		r.in = loop_add_fd(r.loop, STDIN_FILENO, on_stdin, &r);
	} else {
		linereader_init(&r.lr, STDIN_FILENO);
		r.in = loop_add_fd(r.loop, STDIN_FILENO, on_piped_stdin, &r);
	}
	int status = MQMON_EXIT_OK;
	while (!r.quit) {
		/* piped lines wait for the connection; a terminal is always
		 * read, so "quit" works while the broker is away */
		loop_watch(r.loop, r.in, r.tty || cmd_engine_ready(r.engine));
		loop_turn(r.loop, -1);
		int sig = loop_signal(r.loop);
		if (sig == SIGINT)
			interrupt(&r);
		else if (sig)
			r.quit = true;
		if (conn_state(conn) == CONN_DOWN) {
			status = MQMON_EXIT_RUNTIME;
			break;
		}
	}
	if (r.installed)
		rl_callback_handler_remove();
	r.installed = false;
	loop_watch(r.loop, r.in, false); /* readline has no handler any more */
	if (!r.tty)
		linereader_free(&r.lr);
	/* piped input: its commands still get their answers */
	if (!r.tty && status == MQMON_EXIT_OK)
		loop_run_until(r.loop, nothing_pending, &r, 0);
	if (r.history)
		history_truncate_file(r.history, HISTORY_LINES);
	loop_disconnect_all(r.loop);
	cmd_engine_free(r.engine);
	loop_free(r.loop);
	rules_free(&r.rules);
	topic_pattern_free(r.ack_pattern);
	for (size_t i = 0; i < r.nstatus_filters; i++)
		free(r.status_filters[i]);
	free(r.status_filters);
	strmap_free(&r.devices);
	strmap_drain(&r.keys, free_key_list, NULL);
	strmap_free(&r.keys);
	for (size_t i = 0; i < r.nwatches; i++)
		free(r.watches[i]);
	free(r.watches);
	free(r.use);
	free(r.history);
	buf_free(&r.scratch);
	buf_free(&completions);
	repl = NULL;
	return status;
}
