/*
 * mqmon-status — Fleet state, alerts and health checks.
 *
 * Not implemented yet: this main only accepts the shared options, so the
 * build, --help and --version work across the toolkit until its own issue
 * lands.
 */
#include "config.h"

#include "log.h"
#include "mqmon.h"
#include "opt.h"

static const struct opt_def status_opts[] = {
        {NULL, 0, NULL, NULL},
};

static bool status_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	return opt_errf(err, "unhandled option");
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct conn_opts conn;
	struct opt_program prog = {
	        .name = "mqmon-status",
	        .synopsis = "[options]",
	        .summary = "Fleet state, alerts and health checks.",
	        .opts = status_opts,
	        .sets = OPT_SET_CONN,
	        .apply = status_apply,
	};
	opt_parse(&prog, argc, argv, &conn);
	conn_opts_free(&conn);
	mqmon_err("not implemented yet");
	return MQMON_EXIT_RUNTIME;
}
