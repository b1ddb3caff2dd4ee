/* conf.h - the policy both dohd fuzz targets run under. */
static const char fuzz_conf[] =
    "[jail]\n"
    "interface = br0\n"
    "direct = cache.internal:6379\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "search = corp.test\n"
    "[policy]\n"
    "allow = a.example\n"
    "allow = *.b.example qtype=TXT,MX,SRV\n"
    "allow = **.c.example qtype=*\n"
    "allow = cache.internal\n";
