/*
 * cmdrepl.h — mqmon-cmd's interactive shell: readline in its callback
 * mode on the shared event loop, so answers, progress reports and watched
 * messages are printed above the prompt as they arrive, without breaking
 * the line being typed.  One command table drives dispatch, help and tab
 * completion (tmux's cmd_table[], BlueZ's shell).
 */
#ifndef MQMON_CMDREPL_H
#define MQMON_CMDREPL_H

#include "cmd.h"
#include "conn.h"

struct cmdrepl_opts {
	struct cmd_opts *cmd; /* the timeout command changes cmd->timeout */
	const struct conn_opts *conn;
	const char *db; /* device names from an mqmon-store database; NULL */
};

/* Run until quit, Ctrl-D or SIGTERM; returns the exit status. */
int cmdrepl_run(const struct cmdrepl_opts *o);

#endif
