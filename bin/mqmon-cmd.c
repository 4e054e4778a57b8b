/*
 * mqmon-cmd — Send a device a command and wait for its acknowledgement.
 *
 * Not implemented yet: this main only accepts the shared options, so the
 * build, --help and --version work across the toolkit until its own issue
 * lands.
 */
#include "config.h"

#include "log.h"
#include "mqmon.h"
#include "opt.h"

static const struct opt_def cmd_opts[] = {
        {NULL, 0, NULL, NULL},
};

static bool cmd_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	return opt_errf(err, "unhandled option");
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct conn_opts conn;
	struct opt_program prog = {
	        .name = "mqmon-cmd",
	        .synopsis = "[options] DEVICE COMMAND [KEY=VALUE ...]",
	        .summary = "Send a device a command and wait for its acknowledgement.",
	        .opts = cmd_opts,
	        .sets = OPT_SET_CONN,
	        .apply = cmd_apply,
	};
	opt_parse(&prog, argc, argv, &conn);
	conn_opts_free(&conn);
	mqmon_err("not implemented yet");
	return MQMON_EXIT_RUNTIME;
}
