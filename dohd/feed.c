extern int dohd_feed_placeholder;
