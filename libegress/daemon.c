/* daemon.c - placeholder until implemented */
typedef int eg_placeholder_daemon;
