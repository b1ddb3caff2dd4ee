/*
 * fuzz_allowlist.c - the rule parser and the engine behind it.
 *
 * Input: lines.  Every line goes through eg_rule_parse; a rule that parses
 * must be well formed and, alone in a policy, must admit the names its
 * pattern promises and refuse the ones it does not.  The first rules that
 * parse also form one policy, and every line is then asked of it as a host,
 * a DNS question and (by explicit length) an SNI, with ports and types
 * taken from the input.
 */
#include "rule.c"
#include "policy.c"

#define MAX_RULES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rule_shape(const struct eg_rule *r)
{
	size_t i, n = strlen(r->suffix);

	if (n == 0 || n > EG_NAME_MAX || r->nports == 0 ||
	    r->nports > EG_RULE_MAX_PORTRANGES ||
	    r->nqtypes > RULE_QTYPES_MAX || strchr(r->suffix, '*') != NULL ||
	    eg_is_ip_literal(r->suffix))
		abort();
	for (i = 0; i < n; i++)
		if (r->suffix[i] >= 'A' && r->suffix[i] <= 'Z')
			abort();
	for (i = 0; i < r->nports; i++) {
		if (r->ports[i].lo > r->ports[i].hi)
			abort();
		if (i > 0 && r->ports[i].lo <= r->ports[i - 1].hi + 1)
			abort();	/* sorted and merged */
	}
	for (i = 0; i < r->nqtypes; i++) {
		if (eg_qtype_never(r->qtypes[i]))
			abort();
		if (i > 0 && r->qtypes[i] <= r->qtypes[i - 1])
			abort();
	}
}

static struct eg_policy *
policy_of(const char *const *text, size_t n, enum eg_policy_mode mode)
{
	struct eg_rule_src src[MAX_RULES];
	struct eg_direct dir;
	struct eg_config cfg;
	struct eg_cidr own;
	char err[EG_ERR_MAX];
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	memset(&dir, 0, sizeof(dir));
	for (i = 0; i < n; i++) {
		src[i].text = (char *)text[i];
		src[i].at.file = "fuzz";
		src[i].at.line = (int)i + 1;
	}
	cfg.policy.rules = src;
	cfg.policy.nrules = n;
	cfg.policy.mode = mode;
	if (!eg_endpoint_parse("cache.internal:6379", &dir.ep, err) ||
	    !eg_cidr_parse("10.77.0.1/32", &own, err))
		abort();
	cfg.jail.direct = &dir;
	cfg.jail.ndirect = 1;
	return eg_policy_new(&cfg, &own, 1, err);
}

/* A rule alone admits what it promises, and no more. */
static void
check_rule_oracle(const char *text, const struct eg_rule *r)
{
	struct eg_policy *p;
	struct eg_decision d;
	char in[EG_NAME_MAX + 8], out[EG_NAME_MAX + 8];
	uint16_t port = r->ports[0].lo ? r->ports[0].lo : 1;
	size_t n = strlen(r->suffix);

	if ((p = policy_of(&text, 1, EG_MODE_ENFORCE)) == NULL)
		abort();	/* it parsed, so it compiles */
	switch (r->match) {
	case EG_MATCH_EXACT:
		snprintf(in, sizeof(in), "%s", r->suffix);
		snprintf(out, sizeof(out), "x.%s", r->suffix);
		break;
	case EG_MATCH_ONE_LABEL:
		snprintf(in, sizeof(in), "x.%s", r->suffix);
		snprintf(out, sizeof(out), "x.y.%s", r->suffix);
		break;
	default:
		snprintf(in, sizeof(in), "x.%s", r->suffix);
		snprintf(out, sizeof(out), "%s", r->suffix);
		break;
	}
	/* cache.internal is a direct name and allowed whatever the rule */
	if (strlen(in) <= EG_NAME_MAX && strcmp(in, "cache.internal") != 0) {
		d = eg_policy_check_host(p, in, port);
		if (d.verdict != EG_ALLOW || d.rule == NULL)
			abort();
		d = eg_policy_check_dns(p, in, EG_QT_A);
		if (d.verdict != EG_ALLOW)
			abort();
	}
	if (strlen(out) <= EG_NAME_MAX && n + 2 <= EG_NAME_MAX &&
	    strcmp(out, "cache.internal") != 0) {
		d = eg_policy_check_host(p, out, port);
		if (d.verdict != EG_DENY)
			abort();
	}
	eg_policy_free(p);
}

static void
check_decision(struct eg_decision d, uint16_t port, bool host)
{
	if (d.verdict == EG_ALLOW && !d.reported &&
	    d.reason != EG_R_RULE && d.reason != EG_R_DIRECT)
		abort();
	if (d.verdict == EG_DENY && (d.reason == EG_R_RULE ||
	    d.reason == EG_R_DIRECT || d.reported))
		abort();
	if (host && d.reason == EG_R_RULE && !eg_rule_admits_port(d.rule, port))
		abort();
}

static void
ask(const struct eg_policy *p, const char *line, size_t len, uint16_t port)
{
	struct eg_decision d;
	struct eg_ip ip;

	d = eg_policy_check_host(p, line, port);
	check_decision(d, port, true);
	check_decision(eg_policy_check_hostn(p, line, len, port), port, true);
	d = eg_policy_check_dns(p, line, port);
	check_decision(d, port, false);
	if (eg_qtype_never(port) && d.verdict != EG_DENY)
		abort();
	(void)eg_policy_is_direct_name(p, line, port);
	if (len >= 16) {
		memset(&ip, 0, sizeof(ip));
		ip.family = (line[0] & 1) ? AF_INET6 : AF_INET;
		memcpy(ip.addr, line, 16);
		check_decision(eg_policy_check_addr(p, &ip), 0, false);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rules[MAX_RULES];
	char *buf, *line, *nl, *end, err[EG_ERR_MAX];
	struct eg_policy *p = NULL, *rp = NULL;
	struct eg_rule r;
	size_t nrules = 0;
	uint16_t port;

	if (size > 8192 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (!eg_rule_parse(line, &r, err))
			continue;
		check_rule_shape(&r);
		check_rule_oracle(line, &r);
		eg_rule_clear(&r);
		if (nrules < MAX_RULES)
			rules[nrules++] = line;
	}
	if ((p = policy_of(rules, nrules, EG_MODE_ENFORCE)) == NULL ||
	    (rp = policy_of(rules, nrules, EG_MODE_REPORT)) == NULL)
		abort();
	port = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 443;
	for (line = buf; line < end; line += strlen(line) + 1) {
		size_t len = strlen(line);

		ask(p, line, len, port);
		ask(rp, line, len, port);
		ask(p, line, len, 443);
		/* the host's own address stays shut in either mode */
		if (eg_policy_check_host(rp, "10.77.0.1", port).verdict !=
		    EG_DENY)
			abort();
	}
	eg_policy_free(p);
	eg_policy_free(rp);
	free(buf);
	return 0;
}
