extern int dohd_listen_placeholder;
