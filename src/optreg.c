/*
 * optreg.c — the registry of option names and letters across the five
 * programs.  A letter means the same thing in every program that has it,
 * as in mosquitto's clients (-h host, -q QoS, -V protocol version, so
 * --help, --quiet and --version are long-only).  opt.c refuses to start a
 * program whose table disagrees with this one, so the registry cannot rot.
 */
#include "config.h"

#include <string.h>

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

const struct optreg_entry *optreg_find(const char *name)
{
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (strcmp(registry[i].name, name) == 0)
			return &registry[i];
	return NULL;
}

bool optreg_program_has(const struct optreg_entry *e, const char *progname)
{
	if (strcmp(e->programs, "all") == 0)
		return true;
	/* "mqmon-sub" → "sub" */
	const char *shortname = strncmp(progname, "mqmon-", 6) == 0 ? progname + 6 : progname;
	size_t len = strlen(shortname);
	for (const char *p = e->programs; (p = strstr(p, shortname)); p += len)
		if ((p == e->programs || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}
