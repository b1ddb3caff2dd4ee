extern int dohd_control_placeholder;
