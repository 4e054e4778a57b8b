/*
 * check_opt.c — unit tests for src/opt.h, src/conffile.h and src/optreg.c
 * (SPEC §2): defaults < config file < environment < command line, config
 * file discovery, sections, another program's keys, errors naming the file
 * and line (or the variable, or the option) with exit status 2, -L URLs,
 * repeatable options, --help, flags, and the registry check.
 *
 * opt_parse() uses getopt's global state and exits on errors, so every
 * case runs it in a child process of its own (forked here, not by check,
 * so the tests also work with CK_FORK=no, e.g. under valgrind).  The child
 * reports what it parsed through shared memory; its stdout and stderr go
 * to files the test reads.  HOME and XDG_CONFIG_HOME point into a fresh
 * temporary directory, so a developer's own config is never read.
 */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "conffile.h"
#include "conn.h"
#include "log.h"
#include "opt.h"
#include "topic.h"

/* ---- a fake mqmon-sub ---- */

struct sub_ctx {
	struct opt_list topics;
	long count;
	bool no_retained;
	char format[16];
};

static bool sub_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct sub_ctx *c = ctx;
	const char *why;
	switch (key) {
	case 't':
		if (!topic_filter_valid(val, strlen(val), &why))
			return opt_errf(err, "'%s': %s", val, why);
		opt_list_add(&c->topics, val, w);
		return true;
	case 'C': return opt_int(val, 1, 1000000, &c->count, err);
	case 'R': c->no_retained = true; return true;
	case 'F':
		if (strcmp(val, "json") && strcmp(val, "text") && strcmp(val, "raw"))
			return opt_errf(err, "'%s' is not json, text or raw", val);
		snprintf(c->format, sizeof c->format, "%s", val);
		return true;
	}
	return opt_errf(err, "test program: unexpected option %d", key);
}

/* Options as in mqmon-sub, agreeing with src/optreg.c. */
static const struct opt_def sub_opts[] = {
        {"topic", 't', "FILTER", "subscribe to FILTER (repeatable)"},
        {"count", 'C', "N", "exit after N messages"},
        {"no-retained", 'R', NULL, "skip retained messages"},
        {"format", 'F', "FMT", "json, text or raw"},
        {NULL, 0, NULL, NULL},
};

/* Tables that disagree with the registry. */
static const struct opt_def wrong_letter_opts[] = {
        {"topic", 'x', "FILTER", "a letter the registry gives to nothing"},
        {NULL, 0, NULL, NULL},
};
static const struct opt_def other_programs_opts[] = {
        {"topic", 't', "FILTER", "fine"},
        {"message", 'm', "MSG", "mqmon-pub's option, not mqmon-sub's"},
        {NULL, 0, NULL, NULL},
};
static const struct opt_def unregistered_opts[] = {
        {"frobnicate", OPT_KEY_PROGRAM, NULL, "in no program"},
        {NULL, 0, NULL, NULL},
};

enum table { TABLE_SUB, TABLE_WRONG_LETTER, TABLE_OTHER_PROGRAMS, TABLE_UNREGISTERED };
static const struct opt_def *const tables[] = {sub_opts, wrong_letter_opts, other_programs_opts, unregistered_opts};

/* ---- running opt_parse in a child ---- */

#define MAX_ARGS 32

struct result {
	int status; /* the child's exit status (0 after a normal return) */
	bool returned; /* opt_parse returned */
	char err[4096];
	char out[8192];
	/* what was parsed, after a normal return */
	int optind;
	int npos;
	char pos[4][64];
	char host[128], user[128], pass[128], id[128], will_payload[128];
	bool has_user, has_pass;
	int port, keepalive, protocol, qos;
	bool tls, clean, reconnect;
	double reconnect_min, reconnect_max, connect_timeout;
	size_t ntopics;
	char topics[8][64];
	int topics_layer;
	long count;
	bool no_retained;
	char format[16];
	int log_level;
};

static char tmpdir[64];

static void copy_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static void read_file(const char *path, char *dst, size_t cap)
{
	dst[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(dst, 1, cap - 1, f);
	dst[n] = '\0';
	fclose(f);
}

static void child(struct result *r, enum table table, char **argv, int argc, const char *errpath, const char *outpath)
{
	int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ofd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (efd < 0 || ofd < 0)
		_exit(99);
	dup2(efd, STDERR_FILENO);
	dup2(ofd, STDOUT_FILENO);
	close(efd);
	close(ofd);
	log_init("mqmon-sub");

	struct sub_ctx c = {{NULL, 0, OPT_LAYER_DEFAULT}, 0, false, ""};
	struct opt_program prog = {
	        .name = "mqmon-sub",
	        .synopsis = "[options] -t FILTER [-t FILTER ...]",
	        .summary = "Subscribe and print one JSON envelope per message.",
	        .opts = tables[table],
	        .sets = OPT_SET_CONN,
	        .apply = sub_apply,
	        .ctx = &c,
	};
	struct conn_opts conn;
	int ind = opt_parse(&prog, argc, argv, &conn);

	r->returned = true;
	r->optind = ind;
	for (int i = ind; i < argc && r->npos < 4; i++)
		copy_str(r->pos[r->npos++], sizeof r->pos[0], argv[i]);
	copy_str(r->host, sizeof r->host, conn.host);
	r->has_user = conn.username != NULL;
	copy_str(r->user, sizeof r->user, conn.username);
	r->has_pass = conn.password != NULL;
	copy_str(r->pass, sizeof r->pass, conn.password);
	copy_str(r->id, sizeof r->id, conn.id);
	copy_str(r->will_payload, sizeof r->will_payload, conn.will_payload);
	r->port = conn.port;
	r->keepalive = conn.keepalive;
	r->protocol = conn.protocol;
	r->qos = conn.qos;
	r->tls = conn.tls;
	r->clean = conn.clean;
	r->reconnect = conn.reconnect;
	r->reconnect_min = conn.reconnect_min;
	r->reconnect_max = conn.reconnect_max;
	r->connect_timeout = conn.connect_timeout;
	r->ntopics = c.topics.n;
	for (size_t i = 0; i < c.topics.n && i < 8; i++)
		copy_str(r->topics[i], sizeof r->topics[0], c.topics.items[i]);
	r->topics_layer = (int)c.topics.layer;
	r->count = c.count;
	r->no_retained = c.no_retained;
	copy_str(r->format, sizeof r->format, c.format);
	r->log_level = (int)log_get_level();
	conn_opts_free(&conn);
	opt_list_free(&c.topics);
	exit(0);
}

/* Run opt_parse for "mqmon-sub" with the arguments (NULL-terminated). */
static void run_table(struct result *r, enum table table, ...)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	argv[argc++] = "mqmon-sub";
	va_list ap;
	va_start(ap, table);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(argc, MAX_ARGS);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;

	char errpath[128], outpath[128];
	snprintf(errpath, sizeof errpath, "%s/stderr", tmpdir);
	snprintf(outpath, sizeof outpath, "%s/stdout", tmpdir);
	struct result *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
	memset(shared, 0, sizeof *shared);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child(shared, table, argv, argc, errpath, outpath);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*r = *shared;
	munmap(shared, sizeof *shared);
	ck_assert_msg(WIFEXITED(status), "opt_parse died with signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	r->status = WEXITSTATUS(status);
	read_file(errpath, r->err, sizeof r->err);
	read_file(outpath, r->out, sizeof r->out);
}
#define run(r, ...) run_table((r), TABLE_SUB, __VA_ARGS__, (const char *)NULL)
#define run_noargs(r) run_table((r), TABLE_SUB, (const char *)NULL)

static void expect_ok(const struct result *r)
{
	ck_assert_msg(r->status == 0 && r->returned, "status %d, stderr: %s", r->status, r->err);
}

/* Exit status 2 with each given text (NULL-terminated) on stderr. */
static void expect_usage_error(const struct result *r, ...)
{
	ck_assert_msg(r->status == 2, "status %d (expected 2), stderr: %s", r->status, r->err);
	ck_assert(!r->returned);
	va_list ap;
	va_start(ap, r);
	const char *want;
	while ((want = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(r->err, want) != NULL, "stderr lacks '%s': %s", want, r->err);
	va_end(ap);
}
#define expect_error(r, ...) expect_usage_error((r), __VA_ARGS__, (const char *)NULL)

/* ---- the environment ---- */

static const char *const env_vars[] = {
        "MQMON_CONFIG",     "MQMON_HOST",       "MQMON_PORT",    "MQMON_USERNAME", "MQMON_PASSWORD", "MQMON_DB",
        "MQTT_BROKER_HOST", "MQTT_BROKER_PORT", "MQTT_USERNAME", "MQTT_PASSWORD",  "MQTT_KEEPALIVE",
};

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_opt.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char xdg[128];
	snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
	setenv("HOME", tmpdir, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	unsetenv("POSIXLY_CORRECT");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to a file under the temporary directory (creating its
 * directories); returns its path (static storage, one per name slot). */
static const char *write_file(const char *rel, const char *text)
{
	static char paths[4][256];
	static int slot;
	char *path = paths[slot++ % 4];
	snprintf(path, 256, "%s/%s", tmpdir, rel);
	for (char *s = strchr(path + strlen(tmpdir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* "PATH:LINE:" as diagnostics print it */
static const char *at_line(const char *path, int line)
{
	static char s[512];
	snprintf(s, sizeof s, "%s:%d:", path, line);
	return s;
}

/* ---- defaults and precedence ---- */

START_TEST(test_defaults)
{
	struct result r;
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "localhost");
	ck_assert_int_eq(r.port, 0); /* resolved later: 1883, or 8883 with TLS */
	ck_assert_int_eq(r.keepalive, 60);
	ck_assert_int_eq(r.protocol, 5);
	ck_assert_int_eq(r.qos, 0);
	ck_assert(r.clean);
	ck_assert(!r.tls);
	ck_assert(r.reconnect);
	ck_assert(!r.has_user);
	ck_assert(!r.has_pass);
	ck_assert_uint_eq(r.ntopics, 0);
	ck_assert_int_eq(r.optind, 1);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(test_precedence_port)
{
	struct result r;
	const char *conf = write_file("c.conf", "port = 1111\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1111);

	/* the deployments' variable beats the file */
	setenv("MQTT_BROKER_PORT", "3333", 1);
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 3333);

	/* MQMON_PORT beats MQTT_BROKER_PORT */
	setenv("MQMON_PORT", "2222", 1);
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 2222);

	/* the command line beats everything, wherever it stands */
	run(&r, "-p", "4444", "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 4444);
	run(&r, "--config", conf, "--port=5555");
	expect_ok(&r);
	ck_assert_int_eq(r.port, 5555);

	/* without the file: env over default */
	unsetenv("MQMON_PORT");
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 3333);
}
END_TEST

START_TEST(test_precedence_host_user_password)
{
	struct result r;
	const char *conf =
	        write_file("c.conf", "host = filehost\nusername = fileuser\npassword = filepass\nkeepalive = 20\n");
	setenv("MQMON_CONFIG", conf, 1);
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "filehost");
	ck_assert_str_eq(r.user, "fileuser");
	ck_assert_str_eq(r.pass, "filepass");
	ck_assert_int_eq(r.keepalive, 20);

	setenv("MQTT_BROKER_HOST", "legacyhost", 1);
	setenv("MQTT_USERNAME", "legacyuser", 1);
	setenv("MQTT_PASSWORD", "legacypass", 1);
	setenv("MQTT_KEEPALIVE", "30", 1);
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "legacyhost");
	ck_assert_str_eq(r.user, "legacyuser");
	ck_assert_str_eq(r.pass, "legacypass");
	ck_assert_int_eq(r.keepalive, 30);

	setenv("MQMON_HOST", "envhost", 1);
	setenv("MQMON_USERNAME", "envuser", 1);
	setenv("MQMON_PASSWORD", "envpass", 1);
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "envhost");
	ck_assert_str_eq(r.user, "envuser");
	ck_assert_str_eq(r.pass, "envpass");

	run(&r, "-h", "arghost", "-u", "arguser", "-P", "argpass", "-k", "40");
	expect_ok(&r);
	ck_assert_str_eq(r.host, "arghost");
	ck_assert_str_eq(r.user, "arguser");
	ck_assert_str_eq(r.pass, "argpass");
	ck_assert_int_eq(r.keepalive, 40);

	/* an empty variable counts as unset */
	setenv("MQMON_HOST", "", 1);
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "legacyhost");

	/* MQMON_DB is for programs with --db; mqmon-sub ignores it */
	setenv("MQMON_DB", "/nonexistent/x.db", 1);
	run_noargs(&r);
	expect_ok(&r);
}
END_TEST

/* ---- finding the config file ---- */

START_TEST(test_config_discovery)
{
	struct result r;
	/* no file at the default place is fine */
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 0);

	/* $XDG_CONFIG_HOME/mqmon/config */
	write_file("xdg/mqmon/config", "port = 1001\n");
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1001);

	/* without XDG_CONFIG_HOME: ~/.config/mqmon/config */
	write_file(".config/mqmon/config", "port = 1002\n");
	unsetenv("XDG_CONFIG_HOME");
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1002);

	/* $MQMON_CONFIG beats the default */
	const char *envconf = write_file("env.conf", "port = 1003\n");
	setenv("MQMON_CONFIG", envconf, 1);
	run_noargs(&r);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1003);

	/* --config beats $MQMON_CONFIG */
	const char *argconf = write_file("arg.conf", "port = 1004\n");
	run(&r, "--config", argconf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1004);
	run(&r, "--config=/nonexistent/mqmon.conf");
	expect_error(&r, "/nonexistent/mqmon.conf", "no such config file");

	/* a named file must exist */
	setenv("MQMON_CONFIG", "/nonexistent/env.conf", 1);
	run_noargs(&r);
	expect_error(&r, "/nonexistent/env.conf", "no such config file");

	/* a file that cannot be read */
	unsetenv("MQMON_CONFIG");
	run(&r, "--config", tmpdir);
	expect_error(&r, tmpdir, "directory");
}
END_TEST

/* ---- config file contents ---- */

START_TEST(test_sections)
{
	struct result r;
	const char *conf = write_file("c.conf", "# shared settings\n"
	                                        "port = 1111\n"
	                                        "\n"
	                                        "[mqmon-pub]\n"
	                                        "port = 2222\n"
	                                        "message = hello\n"
	                                        "\n"
	                                        "[mqmon-sub]\n"
	                                        "keepalive = 30\n"
	                                        "topic = from/section\n"
	                                        "\n"
	                                        "[mqmon-store]\n"
	                                        "rule = a/{device}/x=telemetry\n"
	                                        "topic = not/mine\n"
	                                        "\n"
	                                        "[mqmon]\n"
	                                        "qos = 1\n"
	                                        "db = fleet.db\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1111);
	ck_assert_int_eq(r.keepalive, 30);
	ck_assert_int_eq(r.qos, 1);
	ck_assert_uint_eq(r.ntopics, 1);
	ck_assert_str_eq(r.topics[0], "from/section");

	conf = write_file("c2.conf", "port = 1111\n[other]\nport = 2\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "unknown section [other]");

	conf = write_file("c3.conf", "port = 1111\n[mqmon-sub\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "malformed section header");
}
END_TEST

START_TEST(test_unknown_and_foreign_keys)
{
	struct result r;
	/* other programs' options in the shared part are theirs, not errors */
	const char *conf = write_file("c.conf", "db = fleet.db\n"
	                                        "rewrite = a/=b/\n"
	                                        "offline-after = 90\n"
	                                        "port = 1234\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.port, 1234);

	/* a key no program has is a typo */
	conf = write_file("c2.conf", "port = 1234\nbogus = 1\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "unknown key 'bogus'");
	ck_assert_ptr_nonnull(strstr(r.err, "mqmon-sub: "));

	conf = write_file("c3.conf", "# comment\n\nprot = 5\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 3), "unknown key 'prot'");

	/* in mqmon-sub's own section another program's key is a mistake */
	conf = write_file("c4.conf", "[mqmon-sub]\ndb = fleet.db\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "unknown key 'db'");

	/* options that only make sense on the command line */
	conf = write_file("c5.conf", "config = /etc/other\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "cannot be set in a config file");
	conf = write_file("c6.conf", "help\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "cannot be set in a config file");

	/* malformed lines */
	conf = write_file("c7.conf", "port = 1\n= 5\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "missing key");
	conf = write_file("c8.conf", "port 1883\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "expected key = value");
	conf = write_file("c9.conf", "host = \"unterminated\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "unterminated quoted value");
	conf = write_file("c10.conf", "port\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "port needs a value");
}
END_TEST

START_TEST(test_values_quotes_comments)
{
	struct result r;
	const char *conf = write_file("c.conf", "  ; an ini-style comment\n"
	                                        "host = myhost   # a comment\n"
	                                        "will-payload = \"  spaced # not a comment \"  # but this is\n"
	                                        "username = 'o''brien'\n"
	                                        "password = p#ss\n"
	                                        "id = 'ops-1' # Bob's client\n"
	                                        "will-topic = \"w/t\" # the \"last\" will\n"
	                                        "format=text\r\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_str_eq(r.id, "ops-1");
	ck_assert_str_eq(r.host, "myhost");
	ck_assert_str_eq(r.will_payload, "  spaced # not a comment ");
	ck_assert_str_eq(r.user, "o''brien");
	ck_assert_str_eq(r.pass, "p#ss");
	ck_assert_str_eq(r.format, "text");

	/* no escapes: a quoted value may hold its own quote character */
	conf = write_file("c2.conf", "will-payload = \"say \"hi\"\" # a \"quoted\" comment\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_str_eq(r.will_payload, "say \"hi\"");
	conf = write_file("c3.conf", "will-payload = \"a\" b\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "text after the quoted value");
}
END_TEST

START_TEST(test_bad_values_name_their_source)
{
	struct result r;
	/* the file: path and line */
	const char *conf = write_file("c.conf", "host = h\n\nport = 99999\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 3), "port", "99999");
	conf = write_file("c2.conf", "count = 0\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "count", "out of range");
	conf = write_file("c3.conf", "topic = a/b+\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 1), "topic", "whole level");

	/* the environment: the variable */
	setenv("MQMON_PORT", "99999", 1);
	run_noargs(&r);
	expect_error(&r, "MQMON_PORT", "99999");
	unsetenv("MQMON_PORT");
	setenv("MQTT_BROKER_PORT", "abc", 1);
	run_noargs(&r);
	expect_error(&r, "MQTT_BROKER_PORT", "abc");
	unsetenv("MQTT_BROKER_PORT");
	setenv("MQTT_KEEPALIVE", "1", 1);
	run_noargs(&r);
	expect_error(&r, "MQTT_KEEPALIVE", "keepalive");
	unsetenv("MQTT_KEEPALIVE");

	/* the command line: the option as written */
	run(&r, "-p", "99999");
	expect_error(&r, "mqmon-sub: -p: ", "99999", "Try 'mqmon-sub --help'");
	run(&r, "--port", "99999");
	expect_error(&r, "--port: ", "99999");
	run(&r, "--port=0");
	expect_error(&r, "--port: ", "'0'");
	run(&r, "-q", "3");
	expect_error(&r, "-q: ", "not a QoS");
	run(&r, "-V", "4");
	expect_error(&r, "-V: ", "not an MQTT version");
	run(&r, "-C", "many");
	expect_error(&r, "-C: ", "not a whole number");
	run(&r, "-h", "");
	expect_error(&r, "-h: ", "empty");
	run(&r, "--reconnect-delay", "5:1");
	expect_error(&r, "--reconnect-delay: ", "MIN <= MAX");
	run(&r, "--connect-timeout", "soon");
	expect_error(&r, "--connect-timeout: ", "not a time in seconds");
	run(&r, "--tls-version", "sslv3");
	expect_error(&r, "--tls-version: ", "sslv3");
	run(&r, "-F", "xml");
	expect_error(&r, "-F: ", "xml");
}
END_TEST

START_TEST(test_flags_in_config)
{
	struct result r;
	const char *conf = write_file("a.conf", "no-clean\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert(!r.clean);
	conf = write_file("b.conf", "no-clean = true\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert(!r.clean);
	conf = write_file("c.conf", "no-clean = false\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert(r.clean);
	conf = write_file("d.conf", "no-clean = yes   # persistent session\nno-retained = on\nno-reconnect = 0\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert(!r.clean);
	ck_assert(r.no_retained);
	ck_assert(r.reconnect);
	conf = write_file("e.conf", "no-clean # persistent session\ninsecure = TRUE\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert(!r.clean);
	conf = write_file("f.conf", "port = 1\nno-clean = maybe\n");
	run(&r, "--config", conf);
	expect_error(&r, at_line(conf, 2), "no-clean", "not true or false");

	/* and on the command line */
	run(&r, "-c", "-R");
	expect_ok(&r);
	ck_assert(!r.clean);
	ck_assert(r.no_retained);
	run(&r, "--no-clean", "--no-reconnect");
	expect_ok(&r);
	ck_assert(!r.clean);
	ck_assert(!r.reconnect);
}
END_TEST

/* ---- -L URLs ---- */

START_TEST(test_url)
{
	struct result r;
	run(&r, "-L", "mqtts://user:p%40ss@host:1234/a/%23");
	expect_ok(&r);
	ck_assert_str_eq(r.host, "host");
	ck_assert_int_eq(r.port, 1234);
	ck_assert(r.tls);
	ck_assert_str_eq(r.user, "user");
	ck_assert_str_eq(r.pass, "p@ss");
	ck_assert_uint_eq(r.ntopics, 1);
	ck_assert_str_eq(r.topics[0], "a/#");

	run(&r, "--url", "mqtt://broker.example");
	expect_ok(&r);
	ck_assert_str_eq(r.host, "broker.example");
	ck_assert_int_eq(r.port, 0);
	ck_assert(!r.tls);
	ck_assert(!r.has_user);
	ck_assert_uint_eq(r.ntopics, 0);

	run(&r, "-L", "mqtt://bob@[::1]:1884/x/+/y");
	expect_ok(&r);
	ck_assert_str_eq(r.host, "::1");
	ck_assert_int_eq(r.port, 1884);
	ck_assert_str_eq(r.user, "bob");
	ck_assert(!r.has_pass);
	ck_assert_str_eq(r.topics[0], "x/+/y");

	/* a password holding ':' and '@' */
	run(&r, "-L", "mqtt://u:a:b@c@h/");
	expect_ok(&r);
	ck_assert_str_eq(r.user, "u");
	ck_assert_str_eq(r.pass, "a:b@c");
	ck_assert_str_eq(r.host, "h");
	ck_assert_uint_eq(r.ntopics, 0);

	/* the URL's topic and -t are the same list */
	run(&r, "-L", "mqtt://h/a", "-t", "b");
	expect_ok(&r);
	ck_assert_uint_eq(r.ntopics, 2);
	ck_assert_str_eq(r.topics[0], "a");
	ck_assert_str_eq(r.topics[1], "b");

	/* later settings override the URL's parts */
	run(&r, "-L", "mqtts://h:1234", "-p", "99");
	expect_ok(&r);
	ck_assert_int_eq(r.port, 99);
	ck_assert(r.tls);

	/* in the config file */
	const char *conf = write_file("c.conf", "url = mqtt://cfg:1885/c/%2B\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_str_eq(r.host, "cfg");
	ck_assert_int_eq(r.port, 1885);
	ck_assert_str_eq(r.topics[0], "c/+");

	run(&r, "-L", "http://h");
	expect_error(&r, "-L: ", "not an mqtt:// or mqtts:// URL");
	run(&r, "-L", "mqtt://h:0");
	expect_error(&r, "-L: ", "port");
	run(&r, "-L", "mqtt://h:99999");
	expect_error(&r, "-L: ", "port");
	run(&r, "-L", "mqtt://[::1");
	expect_error(&r, "-L: ", "IPv6");
	run(&r, "-L", "mqtt://h/a/b+");
	expect_error(&r, "-L: ", "whole level");
}
END_TEST

/* ---- repeatable options ---- */

START_TEST(test_list_layers)
{
	struct result r;
	const char *conf = write_file("c.conf", "topic = file/1\ntopic = file/2\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_uint_eq(r.ntopics, 2);
	ck_assert_str_eq(r.topics[0], "file/1");
	ck_assert_str_eq(r.topics[1], "file/2");
	ck_assert_int_eq(r.topics_layer, OPT_LAYER_FILE);

	/* the command line replaces the file's list, and accumulates itself */
	run(&r, "--config", conf, "-t", "arg/1", "--topic", "arg/2");
	expect_ok(&r);
	ck_assert_uint_eq(r.ntopics, 2);
	ck_assert_str_eq(r.topics[0], "arg/1");
	ck_assert_str_eq(r.topics[1], "arg/2");
	ck_assert_int_eq(r.topics_layer, OPT_LAYER_ARGV);
}
END_TEST

START_TEST(test_program_options)
{
	struct result r;
	const char *conf = write_file("c.conf", "count = 5\nformat = raw\n");
	run(&r, "--config", conf);
	expect_ok(&r);
	ck_assert_int_eq(r.count, 5);
	ck_assert_str_eq(r.format, "raw");
	run(&r, "--config", conf, "-C", "7", "-Fjson");
	expect_ok(&r);
	ck_assert_int_eq(r.count, 7);
	ck_assert_str_eq(r.format, "json");

	/* shared options the test program did not have to write */
	run(&r, "-q", "2", "-V", "311", "-i", "client-1", "--reconnect-delay", "2:30", "--connect-timeout", "1.5");
	expect_ok(&r);
	ck_assert_int_eq(r.qos, 2);
	ck_assert_int_eq(r.protocol, 311);
	ck_assert(r.reconnect_min == 2.0 && r.reconnect_max == 30.0);
	ck_assert(r.connect_timeout == 1.5);
	run(&r, "--reconnect-delay", "500ms");
	expect_ok(&r);
	ck_assert(r.reconnect_min == 0.5 && r.reconnect_max == 60.0);
	run(&r, "--reconnect-delay", "90");
	expect_ok(&r);
	ck_assert(r.reconnect_min == 90.0 && r.reconnect_max == 90.0);

	run(&r, "-d");
	expect_ok(&r);
	ck_assert_int_eq(r.log_level, LOG_DEBUG);
	run(&r, "--quiet");
	expect_ok(&r);
	ck_assert_int_eq(r.log_level, LOG_QUIET);
}
END_TEST

START_TEST(test_positional_arguments)
{
	struct result r;
	/* options may follow positional arguments (mqmon-cmd DEVICE COMMAND -q 1) */
	run(&r, "-t", "a", "first", "-C", "5", "second", "--", "-p");
	expect_ok(&r);
	ck_assert_int_eq(r.count, 5);
	ck_assert_int_eq(r.port, 0);
	ck_assert_int_eq(r.npos, 3);
	ck_assert_str_eq(r.pos[0], "first");
	ck_assert_str_eq(r.pos[1], "second");
	ck_assert_str_eq(r.pos[2], "-p");
}
END_TEST

/* ---- --help, --version, bad options ---- */

START_TEST(test_help_and_version)
{
	struct result r;
	run(&r, "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert(!r.returned);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: mqmon-sub [options] -t FILTER"));
	ck_assert_ptr_nonnull(strstr(r.out, "-t, --topic FILTER"));
	ck_assert_ptr_nonnull(strstr(r.out, "-p, --port PORT"));
	ck_assert_ptr_nonnull(strstr(r.out, "--config FILE"));
	ck_assert_str_eq(r.err, "");

	/* --help wins over everything else, even a broken config */
	const char *conf = write_file("c.conf", "bogus = 1\n");
	setenv("MQMON_PORT", "99999", 1);
	run(&r, "-p", "nonsense", "--config", conf, "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: mqmon-sub"));
	unsetenv("MQMON_PORT");

	run(&r, "--version");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "mqmon-sub (mqmon) "));
	ck_assert_ptr_nonnull(strstr(r.out, "libmosquitto "));
}
END_TEST

START_TEST(test_bad_options)
{
	struct result r;
	run(&r, "--bogus");
	expect_error(&r, "unknown option --bogus", "Try 'mqmon-sub --help'");
	ck_assert_str_eq(r.out, "");
	run(&r, "-Z");
	expect_error(&r, "unknown option -Z");
	/* the name alone: "--passwd=SECRET" must not print the password */
	run(&r, "-t", "a", "--bogus=s3cret");
	expect_error(&r, "unknown option --bogus");
	ck_assert_ptr_null(strstr(r.err, "s3cret"));
	run(&r, "-t", "a", "--quiet=s3cret");
	expect_error(&r, "option --quiet takes no value");
	ck_assert_ptr_null(strstr(r.err, "s3cret"));
	/* another program's option is unknown here */
	run(&r, "-m", "hello");
	expect_error(&r, "unknown option -m");
	run(&r, "--db", "x.db");
	expect_error(&r, "unknown option --db");
	/* a missing value */
	run(&r, "-t");
	expect_error(&r, "option -t needs a value");
	run(&r, "--config");
	expect_error(&r, "needs a value");
}
END_TEST

/* ---- the registry ---- */

START_TEST(test_registry)
{
	const struct optreg_entry *e = optreg_find("topic");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->letter, 't');
	ck_assert(optreg_program_has(e, "mqmon-sub"));
	ck_assert(optreg_program_has(e, "mqmon-pub"));
	ck_assert(optreg_program_has(e, "mqmon-store"));
	ck_assert(!optreg_program_has(e, "mqmon-cmd"));
	e = optreg_find("count");
	ck_assert_int_eq(e->letter, 'C');
	ck_assert(optreg_program_has(e, "mqmon-sub"));
	ck_assert(!optreg_program_has(e, "mqmon-status"));
	e = optreg_find("db");
	ck_assert_int_eq(e->letter, 0);
	ck_assert(!optreg_program_has(e, "mqmon-sub"));
	ck_assert(optreg_program_has(e, "mqmon-store"));
	e = optreg_find("config");
	ck_assert(optreg_program_has(e, "mqmon-sub"));
	ck_assert(optreg_program_has(e, "anything"));
	ck_assert_ptr_null(optreg_find("bogus"));
	ck_assert_ptr_null(optreg_find("topi"));
	ck_assert_ptr_null(optreg_find(""));
	/* "sub" is a whole word in the list, not a substring */
	e = optreg_find("shared");
	ck_assert(optreg_program_has(e, "mqmon-sub"));
	ck_assert(!optreg_program_has(e, "mqmon-su"));
	ck_assert(!optreg_program_has(e, "mqmon-ub"));
	ck_assert(!optreg_program_has(e, "mqmon-statu"));
	ck_assert(optreg_program_has(e, "mqmon-status"));

	/* every shared letter means the same everywhere */
	ck_assert_int_eq(optreg_find("host")->letter, 'h');
	ck_assert_int_eq(optreg_find("port")->letter, 'p');
	ck_assert_int_eq(optreg_find("qos")->letter, 'q');
	ck_assert_int_eq(optreg_find("protocol")->letter, 'V');
	ck_assert_int_eq(optreg_find("help")->letter, 0);
	ck_assert_int_eq(optreg_find("quiet")->letter, 0);
	ck_assert_int_eq(optreg_find("version")->letter, 0);
}
END_TEST

START_TEST(test_registry_mismatch_refused)
{
	struct result r;
	run_table(&r, TABLE_WRONG_LETTER, (const char *)NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--topic disagrees with src/optreg.c"));
	run_table(&r, TABLE_OTHER_PROGRAMS, (const char *)NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--message disagrees with src/optreg.c"));
	run_table(&r, TABLE_UNREGISTERED, (const char *)NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--frobnicate disagrees with src/optreg.c"));
}
END_TEST

/* ---- value helpers (in process: they neither exit nor use getopt) ---- */

START_TEST(test_value_helpers)
{
	struct opt_err err;
	long v;
	ck_assert(opt_int("42", 0, 100, &v, &err));
	ck_assert_int_eq(v, 42);
	ck_assert(opt_int("-5", -10, 10, &v, &err));
	ck_assert_int_eq(v, -5);
	ck_assert(!opt_int("101", 0, 100, &v, &err));
	ck_assert_str_eq(err.msg, "101 is out of range (0 to 100)");
	ck_assert(!opt_int("4x", 0, 100, &v, &err));
	ck_assert_str_eq(err.msg, "'4x' is not a whole number");
	ck_assert(!opt_int("", 0, 100, &v, &err));
	ck_assert(!opt_int("99999999999999999999", 0, 100, &v, &err));

	double d;
	ck_assert(opt_seconds("2.5", &d, &err));
	ck_assert(d == 2.5);
	ck_assert(opt_seconds("500ms", &d, &err));
	ck_assert(d == 0.5);
	ck_assert(opt_seconds("1m", &d, &err));
	ck_assert(d == 60.0);
	ck_assert(!opt_seconds("-1", &d, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "not a time in seconds"));

	bool b;
	static const char *yes[] = {"1", "true", "yes", "on", "TRUE", "Yes"},
	                  *no[] = {"0", "false", "no", "off", "OFF"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		ck_assert(opt_bool(yes[i], &b, &err));
		ck_assert(b);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		ck_assert(opt_bool(no[i], &b, &err));
		ck_assert(!b);
	}
	ck_assert(!opt_bool("maybe", &b, &err));
	ck_assert_str_eq(err.msg, "'maybe' is not true or false");
	ck_assert(!opt_bool("", &b, &err));

	ck_assert(!opt_errf(&err, "x=%d", 5));
	ck_assert_str_eq(err.msg, "x=5");
}
END_TEST

START_TEST(test_opt_list)
{
	struct opt_list l = {NULL, 0, OPT_LAYER_DEFAULT};
	struct opt_where def = {OPT_LAYER_DEFAULT, NULL, 0}, file = {OPT_LAYER_FILE, "f", 1},
	                 env = {OPT_LAYER_ENV, "E", 0}, argv = {OPT_LAYER_ARGV, NULL, 0};
	opt_list_add(&l, "d1", &def);
	opt_list_add(&l, "d2", &def);
	ck_assert_uint_eq(l.n, 2);
	opt_list_add(&l, "f1", &file);
	opt_list_add(&l, "f2", &file);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.items[0], "f1");
	ck_assert_str_eq(l.items[1], "f2");
	/* a weaker layer after a stronger one adds (opt_parse never does that) */
	opt_list_add(&l, "e1", &env);
	ck_assert_uint_eq(l.n, 1);
	opt_list_add(&l, "a1", &argv);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.items[0], "a1");
	ck_assert_int_eq(l.layer, OPT_LAYER_ARGV);
	opt_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.items);
}
END_TEST

/* ---- conffile directly ---- */

struct collected {
	int n;
	char keys[16][32], values[16][64], sections[16][32];
	unsigned lines[16];
	bool null_value[16];
	int stop_at;
	int headers; /* "[section]" lines, reported with key NULL */
	unsigned header_line;
};

static bool collect(void *ctx, const struct conffile_entry *e)
{
	struct collected *c = ctx;
	if (!e->key) {
		c->headers++;
		c->header_line = e->line;
		return true;
	}
	if (c->n == c->stop_at)
		return false;
	snprintf(c->keys[c->n], sizeof c->keys[0], "%s", e->key);
	c->null_value[c->n] = e->value == NULL;
	snprintf(c->values[c->n], sizeof c->values[0], "%s", e->value ? e->value : "");
	snprintf(c->sections[c->n], sizeof c->sections[0], "%s", e->section ? e->section : "");
	c->lines[c->n] = e->line;
	c->n++;
	return true;
}

START_TEST(test_conffile_read)
{
	const char *path = write_file("raw.conf", "# comment\n"
	                                          "a = 1\n"
	                                          "\tb=two words  \n"
	                                          "flag\n"
	                                          "[ mqmon-sub ]\n"
	                                          "c = \"x # y\"\n"
	                                          "d = ''\n"
	                                          "e = v#1 # comment\n"
	                                          "f = 'x' # it's\n");
	struct collected c = {.stop_at = -1};
	ck_assert_int_eq(conffile_read(path, collect, &c), CONFFILE_OK);
	ck_assert_int_eq(c.n, 7);
	ck_assert_str_eq(c.keys[0], "a");
	ck_assert_str_eq(c.values[0], "1");
	ck_assert_str_eq(c.sections[0], "");
	ck_assert_uint_eq(c.lines[0], 2);
	ck_assert_str_eq(c.keys[1], "b");
	ck_assert_str_eq(c.values[1], "two words");
	ck_assert_str_eq(c.keys[2], "flag");
	ck_assert(c.null_value[2]);
	ck_assert_uint_eq(c.lines[2], 4);
	ck_assert_str_eq(c.keys[3], "c");
	ck_assert_str_eq(c.values[3], "x # y");
	ck_assert_str_eq(c.sections[3], "mqmon-sub");
	ck_assert_str_eq(c.keys[4], "d");
	ck_assert(!c.null_value[4]);
	ck_assert_str_eq(c.values[4], "");
	ck_assert_str_eq(c.values[5], "v#1");
	ck_assert_uint_eq(c.lines[5], 8);
	ck_assert_str_eq(c.values[6], "x");
	ck_assert_int_eq(c.headers, 1);
	ck_assert_uint_eq(c.header_line, 5);

	/* the callback stops the reading */
	struct collected s = {.stop_at = 1};
	ck_assert_int_eq(conffile_read(path, collect, &s), CONFFILE_ERROR);
	ck_assert_int_eq(s.n, 1);

	struct collected m = {.stop_at = -1};
	ck_assert_int_eq(conffile_read("/nonexistent/mqmon/config", collect, &m), CONFFILE_MISSING);
	ck_assert_int_eq(m.n, 0);
}
END_TEST

START_TEST(test_conffile_nul_byte)
{
	char path[300];
	snprintf(path, sizeof path, "%s/nul.conf", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite("port = 1\nhost = x\0y\n", 1, 20, f);
	fclose(f);
	struct result r;
	run(&r, "--config", path);
	expect_error(&r, at_line(path, 2), "NUL byte");
}
END_TEST

START_TEST(test_conffile_default_path)
{
	char want[300];
	char *p = conffile_default_path();
	snprintf(want, sizeof want, "%s/xdg/mqmon/config", tmpdir);
	ck_assert_str_eq(p, want);
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	p = conffile_default_path();
	snprintf(want, sizeof want, "%s/.config/mqmon/config", tmpdir);
	ck_assert_str_eq(p, want);
	free(p);
	setenv("XDG_CONFIG_HOME", "", 1);
	p = conffile_default_path();
	ck_assert_str_eq(p, want);
	free(p);
	char *home = strdup(getenv("HOME"));
	unsetenv("HOME");
	ck_assert_ptr_null(conffile_default_path());
	setenv("HOME", home, 1);
	free(home);
}
END_TEST

/* ---- the same exits seen by check itself (fork mode only) ---- */

/* Parse in this process; opt_parse is expected to exit. */
static void parse_here(const char *a1, const char *a2)
{
	char *argv[] = {"mqmon-sub", (char *)a1, (char *)a2, NULL};
	int argc = a2 ? 3 : a1 ? 2 : 1;
	int null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
	struct sub_ctx c = {{NULL, 0, OPT_LAYER_DEFAULT}, 0, false, ""};
	struct opt_program prog = {"mqmon-sub", "[options]", "test", sub_opts, OPT_SET_CONN, sub_apply, &c, NULL, NULL};
	struct conn_opts conn;
	atexit(teardown); /* the exit skips check's teardown */
	opt_parse(&prog, argc, argv, &conn);
	ck_abort_msg("opt_parse returned");
}

START_TEST(test_exit_help)
{
	parse_here("--help", NULL);
}
END_TEST

START_TEST(test_exit_unknown_option)
{
	parse_here("--bogus", NULL);
}
END_TEST

START_TEST(test_exit_bad_config)
{
	parse_here("--config", write_file("c.conf", "bogus = 1\n"));
}
END_TEST

static Suite *opt_suite(void)
{
	Suite *s = suite_create("opt");
	TCase *tc = tcase_create("layers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_precedence_port);
	tcase_add_test(tc, test_precedence_host_user_password);
	tcase_add_test(tc, test_config_discovery);
	suite_add_tcase(s, tc);

	tc = tcase_create("config file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_unknown_and_foreign_keys);
	tcase_add_test(tc, test_values_quotes_comments);
	tcase_add_test(tc, test_bad_values_name_their_source);
	tcase_add_test(tc, test_flags_in_config);
	tcase_add_test(tc, test_conffile_read);
	tcase_add_test(tc, test_conffile_nul_byte);
	tcase_add_test(tc, test_conffile_default_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("command line");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_url);
	tcase_add_test(tc, test_list_layers);
	tcase_add_test(tc, test_program_options);
	tcase_add_test(tc, test_positional_arguments);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_registry_mismatch_refused);
	tcase_add_test(tc, test_value_helpers);
	tcase_add_test(tc, test_opt_list);
	suite_add_tcase(s, tc);

	/* with CK_FORK=no an exit would end the whole run; the cases above
	 * check the same exits (and their messages) in a child of their own */
	const char *fork_mode = getenv("CK_FORK");
	if (!fork_mode || strcmp(fork_mode, "no") != 0) {
		tc = tcase_create("exit status");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_exit_test(tc, test_exit_help, 0);
		tcase_add_exit_test(tc, test_exit_unknown_option, 2);
		tcase_add_exit_test(tc, test_exit_bad_config, 2);
		suite_add_tcase(s, tc);
	}
	return s;
}

CHECK_MAIN(opt_suite)
