extern int dohd_doh_placeholder;
