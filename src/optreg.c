/*
 * optreg.c — the registry of option names and letters across the five
 * programs.  A letter means the same thing in every program that has it,
 * as in mosquitto's clients (-h host, -q QoS, -V protocol version, so
 * --help, --quiet and --version are long-only).  opt.c refuses to start a
 * program whose table disagrees with this one, so the registry cannot rot.
 *
 * Next to it, the hints: what to say when a habit from mosquitto_sub or
 * mosquitto_pub meets an option that means something else here or does
 * not exist ("-h needs a value (the broker host, as in mosquitto_sub);
 * for help, use --help").
 */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include "mqmon.h"
#include "opt.h"

static const struct optreg_entry registry[] = {
        /* every program */
        {"config", 0, "all"},
        {"quiet", 0, "all"},
        {"debug", 'd', "all"},
        {"help", 0, "all"},
        {"version", 0, "all"},
        /* connecting programs (SPEC §2) */
        {"host", 'h', "sub pub cmd status"},
        {"port", 'p', "sub pub cmd status"},
        {"url", 'L', "sub pub cmd status"},
        {"username", 'u', "sub pub cmd status"},
        {"password", 'P', "sub pub cmd status"},
        {"id", 'i', "sub pub cmd status"},
        {"no-clean", 'c', "sub pub cmd status"},
        {"keepalive", 'k', "sub pub cmd status"},
        {"protocol", 'V', "sub pub cmd status"},
        {"qos", 'q', "sub pub cmd status"},
        {"cafile", 0, "sub pub cmd status"},
        {"capath", 0, "sub pub cmd status"},
        {"cert", 0, "sub pub cmd status"},
        {"key", 0, "sub pub cmd status"},
        {"insecure", 0, "sub pub cmd status"},
        {"tls-version", 0, "sub pub cmd status"},
        {"will-topic", 0, "sub pub cmd status"},
        {"will-payload", 0, "sub pub cmd status"},
        {"will-qos", 0, "sub pub cmd status"},
        {"will-retain", 0, "sub pub cmd status"},
        {"reconnect-delay", 0, "sub pub cmd status"},
        {"no-reconnect", 0, "sub pub cmd status"},
        {"connect-timeout", 0, "sub pub cmd status"},
        /* mqmon-sub */
        {"topic", 't', "sub pub status store"},
        {"filter-out", 'T', "sub"},
        {"count", 'C', "sub pub"},
        {"timeout", 'W', "sub cmd status"},
        {"no-retained", 'R', "sub"},
        {"retained-only", 0, "sub"},
        {"shared", 0, "sub status"},
        {"format", 'F', "sub store status"},
        {"verbose", 'v', "sub"},
        {"events", 0, "sub pub cmd status"},
        /* mqmon-pub */
        {"message", 'm', "pub"},
        {"file", 'f', "pub"},
        {"null-message", 'n', "pub"},
        {"retain", 'r', "pub store"},
        {"stdin-line", 'l', "pub"},
        {"stdin-file", 's', "pub"},
        {"rewrite", 0, "pub"},
        {"dead-letter", 0, "pub"},
        {"max-size", 0, "pub"},
        {"rate", 0, "pub cmd"},
        {"max-inflight", 0, "pub"},
        {"simulate", 0, "pub"},
        {"prefix", 0, "pub"},
        {"strict", 0, "pub store status"},
        {"message-expiry", 'x', "pub"},
        {"content-type", 0, "pub"},
        {"response-topic", 0, "pub"},
        {"correlation-data", 0, "pub"},
        {"user-property", 0, "pub"},
        {"property", 'D', "pub"},
        /* mqmon-cmd */
        {"cmd-topic", 0, "cmd"},
        {"ack-topic", 0, "cmd"},
        {"id-field", 0, "cmd"},
        {"retries", 0, "cmd"},
        {"batch", 0, "cmd store"},
        {"max-pending", 0, "cmd"},
        {"interactive", 'I', "cmd"},
        {"respond", 0, "cmd"},
        {"fail-rate", 0, "cmd"},
        {"delay-ms", 0, "cmd"},
        {"db", 0, "cmd store status"},
        {"params", 0, "cmd"},
        {"done-timeout", 0, "cmd"},
        {"max-failures", 0, "cmd"},
        {"progress", 0, "cmd"},
        /* mqmon-store */
        {"flush-ms", 0, "store"},
        {"tee", 0, "store"},
        {"rule", 0, "store status"},
        {"device", 0, "store"},
        {"since", 0, "store"},
        {"until", 0, "store"},
        {"limit", 0, "store"},
        {"metric", 0, "store status"},
        {"every", 0, "store"},
        {"agg", 0, "store"},
        {"older-than", 0, "store"},
        /* mqmon-status */
        {"offline-after", 0, "status"},
        {"alert", 0, "status"},
        {"zscore", 0, "status"},
        {"window", 0, "status"},
        {"offline", 0, "status"},
        {"check", 0, "status"},
        {"warn-offline", 0, "status"},
        {"crit-offline", 0, "status"},
        {"max-silence", 0, "status"},
        {"broker", 0, "status"},
        {"hysteresis", 0, "status"},
        {"group", 0, "status"},
        {"prom", 0, "status"},
        {"prom-interval", 0, "status"},
};

/* Habits from mosquitto_sub and mosquitto_pub, and what to say about
 * them.  The first entry that fits wins, so specific patterns come
 * before general ones. */
static const struct opt_hint hints[] = {
        /* -h is the host, as in mosquitto's clients: --help is long-only */
        {"sub cmd status", OPT_HINT_NO_VALUE, 'h', NULL, NULL,
         "(the broker host, as in mosquitto_sub); for help, use --help"},
        {"pub", OPT_HINT_NO_VALUE, 'h', NULL, NULL, "(the broker host, as in mosquitto_pub); for help, use --help"},
        {"sub cmd status", OPT_HINT_BAD_VALUE, 'h', NULL, "-*",
         "-h is the broker host, as in mosquitto_sub; for help, use --help"},
        {"pub", OPT_HINT_BAD_VALUE, 'h', NULL, "-*",
         "-h is the broker host, as in mosquitto_pub; for help, use --help"},
        {"sub cmd status", OPT_HINT_TRAP, 'h', NULL, "-help",
         "-help means -h elp (the broker host, as in mosquitto_sub); for help, use --help"},
        {"pub", OPT_HINT_TRAP, 'h', NULL, "-help",
         "-help means -h elp (the broker host, as in mosquitto_pub); for help, use --help"},
        {"all", OPT_HINT_UNKNOWN, 'h', NULL, NULL, "for help, use --help"},
        {"all", OPT_HINT_UNKNOWN, '?', NULL, NULL, "for help, use --help"},
        /* mosquitto_sub's output options */
        {"sub", OPT_HINT_BAD_VALUE, 'F', NULL, "%t %p", "for mosquitto_sub's '%t %p', use -F text (or -v)"},
        {"sub", OPT_HINT_BAD_VALUE, 'F', NULL, "%p", "for mosquitto_sub's '%p', use -F raw"},
        {"sub", OPT_HINT_BAD_VALUE, 'F', NULL, "%[jJ]",
         "for mosquitto_sub's %j and %J, use -F json (mqmon-pub reads all three)"},
        {"sub", OPT_HINT_BAD_VALUE, 'F', NULL, "*%*",
         "mosquitto_sub's format strings are not supported: use -F text ('%t %p'), -F raw ('%p') "
         "or -F json (every field, for jq)"},
        {"sub", OPT_HINT_UNKNOWN, 'N', NULL, NULL,
         "mosquitto_sub's -N has no equivalent: every message ends with a newline "
         "(-F raw prints the bodies alone)"},
        {"sub", OPT_HINT_UNKNOWN, 0, "pretty", NULL, "envelopes are one per line; to indent them, pipe them to jq ."},
        {"sub", OPT_HINT_UNKNOWN, 0, "remove-retained", NULL,
         "to clear a retained message, use mqmon-pub -r -n -t TOPIC"},
        {"sub", OPT_HINT_UNKNOWN, 'D', "property", NULL,
         "mqmon-sub sets no MQTT 5 properties; those a message carries are in its envelope's \"props\""},
        /* mosquitto_pub's */
        {"pub", OPT_HINT_UNKNOWN, 'M', NULL, NULL, "for mosquitto_pub's -M, use --max-inflight N"},
        {"pub", OPT_HINT_UNKNOWN, 0, "repeat", NULL,
         "to publish a message several times, run mqmon-pub in a loop or pipe it envelopes"},
        {"pub", OPT_HINT_UNKNOWN, 0, "repeat-delay", NULL,
         "to publish a message several times, run mqmon-pub in a loop or pipe it envelopes with --rate"},
        /* both */
        {"sub cmd status", OPT_HINT_UNKNOWN, 'x', NULL, NULL,
         "mosquitto's -x (session expiry) has no equivalent: -c -i ID asks for a session that never expires"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 'I', "id-prefix", NULL,
         "instead of mosquitto's client id prefix, give the whole id with -i ID"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 'A', NULL, NULL,
         "binding to a local address (mosquitto's -A) is not supported"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "nodelay", NULL,
         "mqmon always turns Nagle's algorithm off: leave --nodelay out"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "tls-use-os-certs", NULL,
         "TLS without --cafile or --capath (-L mqtts://HOST) trusts the system's certificates"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "psk", NULL,
         "TLS-PSK is not supported: use certificates (--cafile, --cert, --key)"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "psk-identity", NULL,
         "TLS-PSK is not supported: use certificates (--cafile, --cert, --key)"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "unix", NULL, "connecting through a unix socket is not supported"},
        {"sub pub cmd status", OPT_HINT_UNKNOWN, 0, "proxy", NULL, "SOCKS proxies are not supported"},
        /* -d is --debug everywhere, also where a database is given */
        {"cmd store status", OPT_HINT_NEXT_WORD, 'd', NULL, "*.db",
         "-d is --debug, which takes no value; a database is given with --db FILE"},
        {"cmd store status", OPT_HINT_NEXT_WORD, 'd', NULL, "*.sqlite*",
         "-d is --debug, which takes no value; a database is given with --db FILE"},
};

/* "sub" is a whole word of the list "sub pub", or the list is "all". */
static bool list_has(const char *programs, const char *progname)
{
	if (strcmp(programs, "all") == 0)
		return true;
	/* "mqmon-sub" → "sub" */
	const char *shortname = strncmp(progname, "mqmon-", 6) == 0 ? progname + 6 : progname;
	size_t len = strlen(shortname);
	for (const char *p = programs; (p = strstr(p, shortname)); p += len)
		if ((p == programs || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

const struct opt_hint *optreg_hint(const char *progname, enum opt_hint_when when, int letter, const char *name,
                                   const char *value)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(hints); i++) {
		const struct opt_hint *h = &hints[i];
		if (h->when != when)
			continue;
		if (!((h->letter && h->letter == letter) || (h->name && name && strcmp(h->name, name) == 0)))
			continue;
		if (h->pattern && (!value || fnmatch(h->pattern, value, 0) != 0))
			continue;
		if (list_has(h->programs, progname))
			return h;
	}
	return NULL;
}

const struct optreg_entry *optreg_find(const char *name)
{
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (strcmp(registry[i].name, name) == 0)
			return &registry[i];
	return NULL;
}

bool optreg_program_has(const struct optreg_entry *e, const char *progname)
{
	return list_has(e->programs, progname);
}
