extern int dohd_upstream_placeholder;
