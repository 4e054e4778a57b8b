dist_man_MANS = \
	man/mqmon-sub.1 man/mqmon-pub.1 man/mqmon-cmd.1 man/mqmon-store.1 man/mqmon-status.1 \
	man/mqmon.7
