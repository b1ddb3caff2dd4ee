/*
 * config.c - load egressjail.conf and its allow files into one struct:
 * read the files, split them into lines and sections, hand each key's value
 * to its setter (config_keys.c), then run the checks across keys
 * (config_check.c).  Also the messages every part adds, and the free.
 *
 * The loader never stops at the first mistake: an operator fixing a config
 * wants every error in one run.  Each message has one of these shapes:
 *
 *   FILE:LINE: [SECTION] KEY: "VALUE": REASON     a bad value
 *   FILE:LINE: "TEXT": REASON                     a line that is not INI
 *   FILE: [SECTION] KEY: "VALUE" (default): REASON  a default that fails
 *   FILE: [SECTION] KEY: REASON                   a key that is missing
 *   FILE: REASON                                  the file as a whole
 *
 * Quoted text is cut at 64 bytes and anything outside printable ASCII is
 * written as \xNN, so a message is always one clean line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"

#define LINE_MAX_LEN	4096		/* bytes in one line, without '\n' */
#define ERRORS_MAX	1000		/* then one "too many errors" */

const char *const cfg_sect_names[S_COUNT] = {
	"jail", "chain", "connectd", "dohd", "netjaild", "policy", "workload",
};

const char *
cfg_sect_label(const struct loader *ld)
{
	if (ld->sect == S_WORKLOAD)
		return ld->wl_label;
	return ld->sect >= 0 ? cfg_sect_names[ld->sect] : "?";
}

struct eg_policy_conf *
cfg_cur_policy(struct loader *ld)
{
	if (ld->sect == S_WORKLOAD)
		return &ld->cfg->workloads[ld->wl].policy;
	return &ld->cfg->policy;
}

/* -- messages ---------------------------------------------------------- */


static void
add_msg(struct loader *ld, char *msg)
{
	struct eg_config_errors *e = ld->errs;
	char **n;

	if (msg == NULL) {
		ld->oom = true;
		return;
	}
	if (e->n > ERRORS_MAX) {
		free(msg);
		return;
	}
	if (e->n == ERRORS_MAX) {
		free(msg);
		msg = strdup("too many errors; stopped reporting");
		if (msg == NULL) {
			ld->oom = true;
			return;
		}
	}
	n = reallocarray(e->msgs, e->n + 1, sizeof(*n));
	if (n == NULL) {
		free(msg);
		ld->oom = true;
		return;
	}
	e->msgs = n;
	e->msgs[e->n++] = msg;
}

void
cfg_errorf(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	add_msg(ld, msg);
}

/*
 * Reasons from addr.c and the rule parser often start with the value
 * quoted the same way; printing it twice helps nobody.
 */
static const char *
strip_quoted(const char *reason, const char *qv)
{
	size_t n = strlen(qv);

	while (reason[0] == '"' && strncmp(reason + 1, qv, n) == 0 &&
	    strncmp(reason + 1 + n, "\": ", 3) == 0)
		reason += n + 4;
	return reason;
}

/* FILE:LINE: [SECTION] KEY: "VALUE": REASON */
void
cfg_key_error(struct loader *ld, struct eg_origin at, const char *sect,
    const char *key, const char *value, const char *reason)
{
	char q[EG_QUOTE_BUF];

	eg_err_quote(value, q, sizeof(q));
	cfg_errorf(ld, "%s:%d: [%s] %s: \"%s\": %s", at.file, at.line, sect,
	    key, q, strip_quoted(reason, q));
}

/* FILE:LINE: "TEXT": REASON */
static void
line_error(struct loader *ld, int line, const char *text, const char *reason)
{
	char q[EG_QUOTE_BUF];

	cfg_errorf(ld, "%s:%d: \"%s\": %s", ld->file, line,
	    eg_err_quote(text, q, sizeof(q)), reason);
}

/* -- small helpers ------------------------------------------------------ */
/*
 * Make room for element n of an array grown only by this function:
 * capacity doubles whenever n reaches a power of two.
 */
bool
cfg_grow(struct loader *ld, void *arrp, size_t n, size_t size)
{
	void **arr = arrp, *p;
	size_t cap;

	if (n != 0 && (n & (n - 1)) != 0)
		return true;
	cap = n == 0 ? 1 : n * 2;
	p = reallocarray(*arr, cap, size);
	if (p == NULL) {
		ld->oom = true;
		return false;
	}
	*arr = p;
	return true;
}

char *
cfg_xstrdup(struct loader *ld, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ld->oom = true;
	return p;
}

bool
cfg_is_ws(char c)
{
	return c == ' ' || c == '\t';
}
/* -- allow files ---------------------------------------------------------- */

static bool read_file(struct loader *, const char *, char **, size_t *);
static void scan_lines(struct loader *, const char *, size_t,
    void (*)(struct loader *, int, char *));
static char *keep_name(struct loader *, const char *);

static void
strip_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && (p == s || cfg_is_ws(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static char *
trim(char *s)
{
	char *e;

	while (cfg_is_ws(*s))
		s++;
	e = s + strlen(s);
	while (e > s && cfg_is_ws(e[-1]))
		*--e = '\0';
	return s;
}

static void
allow_line(struct loader *ld, int line, char *s)
{
	struct eg_origin at = { ld->file, line };
	char err[EG_ERR_MAX];

	strip_comment(s);
	s = trim(s);
	if (*s == '\0')
		return;
	err[0] = '\0';
	if (cfg_cur_policy(ld)->nrules >= MAX_RULES) {
		if (!ld->cap_hit[0])
			cfg_key_error(ld, at, cfg_sect_label(ld), "allow", s,
			    "more than 100000 allow rules");
		ld->cap_hit[0] = true;
		return;
	}
	if (!cfg_rule_add(ld, s, at, err))
		cfg_key_error(ld, at, cfg_sect_label(ld), "allow", s, err[0] ?
		    err : "out of memory");
}

static void
allow_file_read(struct loader *ld, const char *path, struct eg_origin from)
{
	const char *saved = ld->file;
	char *buf = NULL;
	size_t len;

	if ((ld->file = keep_name(ld, path)) == NULL)
		goto out;
	if (read_file(ld, path, &buf, &len))
		scan_lines(ld, buf, len, allow_line);
out:
	ld->file = saved;
	free(buf);
}

bool
cfg_add_allow_file(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	glob_t g;
	char *pat = NULL;
	size_t i;
	int r;
	bool ok = false;

	memset(&g, 0, sizeof(g));
	if (v[0] == '/' || ld->dir == NULL)
		pat = cfg_xstrdup(ld, v);
	else if (asprintf(&pat, "%s/%s", ld->dir, v) < 0)
		pat = NULL;
	if (pat == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	/* an unreadable directory matches nothing, which is an error too */
	r = glob(pat, 0, NULL, &g);
	if (r == GLOB_NOMATCH) {
		snprintf(err, EG_ERR_MAX, "matches no file");
		goto out;
	}
	if (r != 0) {
		snprintf(err, EG_ERR_MAX, "cannot expand: %s",
		    r == GLOB_NOSPACE ? "out of memory" : "read error");
		goto out;
	}
	if (g.gl_pathc > MAX_ALLOW_FILES) {
		snprintf(err, EG_ERR_MAX, "matches more than %d files",
		    MAX_ALLOW_FILES);
		goto out;
	}
	for (i = 0; i < g.gl_pathc; i++)
		allow_file_read(ld, g.gl_pathv[i], at);
	ok = true;
out:
	globfree(&g);
	free(pat);
	return ok;
}
/* -- lines --------------------------------------------------------------- */

static void
section_line(struct loader *ld, int line, char *s)
{
	char *end = strchr(s, ']'), *name, *rest;
	int i;

	ld->sect = S_BAD;
	if (end == NULL) {
		line_error(ld, line, s, "missing ']'");
		return;
	}
	*end = '\0';
	rest = trim(end + 1);
	name = trim(s + 1);
	if (*rest != '\0') {
		line_error(ld, line, rest, "text after the section header");
		return;
	}
	if (strncmp(name, "workload", 8) == 0 && cfg_is_ws(name[8])) {
		cfg_workload_section(ld, line, trim(name + 8));
		return;
	}
	for (i = 0; i < S_COUNT; i++)
		if (strcmp(name, cfg_sect_names[i]) == 0)
			break;
	if (i == S_COUNT || i == S_WORKLOAD) {
		char q[EG_QUOTE_BUF];

		cfg_errorf(ld, "%s:%d: \"[%s]\": %s", ld->file, line,
		    eg_err_quote(name, q, sizeof(q)), i == S_WORKLOAD ?
		    "a workload section needs a name: [workload NAME]" :
		    "unknown section (jail, chain, connectd, dohd, netjaild, "
		    "policy, workload NAME)");
		return;
	}
	if (ld->sect_line[i] != 0) {
		cfg_errorf(ld, "%s:%d: \"[%s]\": section repeated (first at "
		    "line %d)", ld->file, line, name, ld->sect_line[i]);
		return;
	}
	ld->sect_line[i] = line;
	ld->sect = (enum sect)i;
}

static void
key_line(struct loader *ld, int line, char *s)
{
	struct eg_origin at = { ld->file, line };
	const struct keydef *k;
	const char *sn;
	char *eq = strchr(s, '='), *key, *val, err[EG_ERR_MAX];
	size_t idx, n;

	if (eq == NULL) {
		line_error(ld, line, s, "expected \"key = value\" or "
		    "\"[section]\"");
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (ld->sect == S_BAD)
		return;		/* the section header was already reported */
	if (ld->sect == S_NONE) {
		line_error(ld, line, key, "key before any [section]");
		return;
	}
	sn = cfg_sect_label(ld);
	if (*key == '\0') {
		cfg_key_error(ld, at, sn, "(no key)", val, "missing key name");
		return;
	}
	if ((k = cfg_find_key(ld->sect, key, &idx)) == NULL) {
		char q[EG_QUOTE_BUF];

		eg_err_quote(key, q, sizeof(q));
		cfg_key_error(ld, at, sn, q, val, "unknown key");
		return;
	}
	if (*val == '\0') {
		cfg_key_error(ld, at, sn, key, val, "missing value");
		return;
	}
	if (k->cap == 0 && ld->key_line[idx] != 0) {
		snprintf(err, sizeof(err), "repeated key (first at line %d); "
		    "only list keys may repeat", ld->key_line[idx]);
		cfg_key_error(ld, at, sn, key, val, err);
		return;
	}
	if (ld->key_line[idx] == 0)
		ld->key_line[idx] = line;
	if (k->cap > 0 && (n = cfg_list_count(ld, k)) >= k->cap) {
		if (!ld->cap_hit[idx + 1]) {
			snprintf(err, sizeof(err), "more than %zu %s entries",
			    k->cap, key);
			cfg_key_error(ld, at, sn, key, val, err);
		}
		ld->cap_hit[idx + 1] = true;
		return;
	}
	err[0] = '\0';
	if (!k->fn(ld, k, val, at, err))
		cfg_key_error(ld, at, sn, key, val, err[0] ? err :
		    "out of memory");
}

static void
config_line(struct loader *ld, int line, char *s)
{
	s = trim(s);
	if (*s == ';' || *s == '#' || *s == '\0')
		return;
	strip_comment(s);
	s = trim(s);
	if (*s == '[')
		section_line(ld, line, s);
	else
		key_line(ld, line, s);
}

/*
 * Split buf into lines, refusing what no config line may hold before any
 * parser sees it: overlong lines, NUL, non-ASCII and control bytes.
 */
static void
scan_lines(struct loader *ld, const char *buf, size_t len,
    void (*fn)(struct loader *, int, char *))
{
	char line[LINE_MAX_LEN + 1], what[96];
	const char *p = buf, *end = buf + len, *nl;
	size_t n, i;
	int lineno = 0;

	while (p < end && !ld->oom) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_LEN) {
			cfg_errorf(ld, "%s:%d: line longer than %d bytes",
			    ld->file, lineno, LINE_MAX_LEN);
			goto next;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == '\0')
				snprintf(what, sizeof(what), "embedded NUL "
				    "byte at column %zu", i + 1);
			else if (c >= 0x80)
				snprintf(what, sizeof(what), "non-ASCII byte "
				    "0x%02x at column %zu", c, i + 1);
			else if (c < 0x20 && c != '\t')
				snprintf(what, sizeof(what), "control byte "
				    "0x%02x at column %zu", c, i + 1);
			else
				continue;
			memcpy(line, p, n);
			line[n] = '\0';
			line_error(ld, lineno, line, what);
			goto next;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		fn(ld, lineno, line);
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Keep a file name for as long as the config lives; origins point here. */
static char *
keep_name(struct loader *ld, const char *name)
{
	struct config_priv *pv = ld->priv;
	char *s;

	if (!cfg_grow(ld, &pv->files, pv->nfiles, sizeof(char *)))
		return NULL;
	if ((s = cfg_xstrdup(ld, name)) == NULL)
		return NULL;
	pv->files[pv->nfiles++] = s;
	return s;
}

/*
 * Read a whole regular file of at most FILE_MAX bytes.  Errors name
 * ld->file, which the caller has set to path.
 */
static bool
read_file(struct loader *ld, const char *path, char **bufp, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;
	bool ok = false;

	/* never open a device or FIFO named by a glob: opening can act */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		cfg_errorf(ld, "%s: not a regular file", ld->file);
		return false;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		cfg_errorf(ld, "%s: cannot open: %s", ld->file,
		    strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cfg_errorf(ld, "%s: not a regular file", ld->file);
		goto out;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		ld->oom = true;
		goto out;
	}
	while (len <= FILE_MAX) {
		r = read(fd, buf + len, FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cfg_errorf(ld, "%s: read: %s", ld->file,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > FILE_MAX) {
		cfg_errorf(ld, "%s: larger than %d bytes", ld->file, FILE_MAX);
		goto out;
	}
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ok = true;
out:
	free(buf);
	close(fd);
	return ok;
}

/* -- entry points ---------------------------------------------------------- */

const char *
eg_mode_str(enum eg_policy_mode m)
{
	switch (m) {
	case EG_MODE_ENFORCE:	return "enforce";
	case EG_MODE_REPORT:	return "report";
	case EG_MODE_ASK:	return "ask";
	case EG_MODE_LEARN:	return "learn";
	}
	return "?";
}

bool
eg_mode_reports(enum eg_policy_mode m)
{
	return m == EG_MODE_REPORT || m == EG_MODE_LEARN;
}

unsigned
eg_config_flags_for(const char *name)
{
	/* connectd enforces [workload] sections (its own listeners) */
	if (strcmp(name, "connectd") == 0)
		return EG_CONFIG_CONNECTD | EG_CONFIG_WORKLOADS;
	/* dohd opens, registers and decides by each workload's listeners */
	if (strcmp(name, "dohd") == 0)
		return EG_CONFIG_DOHD | EG_CONFIG_WORKLOADS;
	return 0;
}

static struct eg_config *
load(const char *name, const char *dir, const char *buf, size_t len,
    unsigned flags, struct eg_config_errors *errs)
{
	struct loader ld;
	struct config_priv *pv;
	struct eg_config *ret = NULL;

	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.flags = flags;
	ld.dir = dir;
	ld.sect = S_NONE;
	ld.key_line = calloc(cfg_nkeys, sizeof(*ld.key_line));
	ld.cap_hit = calloc(cfg_nkeys + 1, sizeof(*ld.cap_hit));
	pv = calloc(1, sizeof(*pv));
	if (ld.key_line == NULL || ld.cap_hit == NULL || pv == NULL) {
		cfg_errorf(&ld, "%s: out of memory", name);
		free(ld.key_line);
		free(ld.cap_hit);
		free(pv);
		return NULL;
	}
	ld.priv = pv;
	ld.cfg = &pv->pub;
	if ((ld.cfg->path = cfg_xstrdup(&ld, name)) == NULL ||
	    (ld.file = keep_name(&ld, name)) == NULL || !cfg_set_defaults(&ld))
		goto out;
	if (len > FILE_MAX)
		cfg_errorf(&ld, "%s: larger than %d bytes", name, FILE_MAX);
	else {
		scan_lines(&ld, buf, len, config_line);
		cfg_fill_unset(&ld);
		if (!ld.oom)
			cfg_check_all(&ld);
	}
out:
	if (ld.oom)
		cfg_errorf(&ld, "%s: out of memory", name);
	if (errs->n == 0 && !ld.oom)
		ret = ld.cfg;
	else
		eg_config_free(ld.cfg);
	free(ld.key_line);
	free(ld.cap_hit);
	return ret;
}

struct eg_config *
eg_config_load_buf(const char *name, const char *buf, size_t len,
    unsigned flags, struct eg_config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return load(name != NULL ? name : "(config)", NULL, buf, len, flags,
	    errs);
}

struct eg_config *
eg_config_load(const char *path, unsigned flags,
    struct eg_config_errors *errs)
{
	struct loader ld;
	struct eg_config *cfg = NULL;
	char *buf = NULL, *dir = NULL, *slash;
	size_t len = 0;

	memset(errs, 0, sizeof(*errs));
	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.file = path;
	if (!read_file(&ld, path, &buf, &len))
		goto out;
	if ((dir = strdup(path)) == NULL) {
		cfg_errorf(&ld, "%s: out of memory", path);
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	cfg = load(path, dir, buf, len, flags, errs);
out:
	if (ld.oom && errs->n == 0)
		cfg_errorf(&ld, "%s: out of memory", path);
	free(buf);
	free(dir);
	return cfg;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
cfg_policy_conf_free(struct eg_policy_conf *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].text);
	free(p->rules);
	free(p->permit);
	free(p->permit_at);
}

void
eg_config_free(struct eg_config *cfg)
{
	struct config_priv *pv = (struct config_priv *)cfg;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	strv_free(cfg->jail.interfaces, cfg->jail.ninterfaces);
	for (i = 0; i < cfg->jail.nusers; i++)
		free(cfg->jail.users[i].name);
	free(cfg->jail.users);
	free(cfg->jail.direct);
	free(cfg->jail.runtime_dir);
	free(cfg->ask.socket);
	free(cfg->jail.group);
	free(cfg->jail.log_level);
	for (i = 0; i < cfg->chain.nhops; i++)
		cfg_hop_clear(&cfg->chain.hops[i]);
	free(cfg->chain.hops);
	free(cfg->chain.ca_file);
	free(cfg->connectd.user.name);
	strv_free(cfg->connectd.proxy_listen, cfg->connectd.nproxy_listen);
	free(cfg->connectd.transparent_listen);
	free(cfg->connectd.health_listen);
	free(cfg->dohd.user.name);
	strv_free(cfg->dohd.listen, cfg->dohd.nlisten);
	for (i = 0; i < cfg->dohd.nupstreams; i++)
		cfg_upstream_clear(&cfg->dohd.upstreams[i]);
	free(cfg->dohd.upstreams);
	free(cfg->dohd.ca_file);
	free(cfg->dohd.spki_pin);
	free(cfg->dohd.hosts_file);
	free(cfg->dohd.zone_file);
	strv_free(cfg->dohd.search, cfg->dohd.nsearch);
	free(cfg->netjaild.user.name);
	cfg_policy_conf_free(&cfg->policy);
	cfg_workloads_free(cfg);
	strv_free(pv->files, pv->nfiles);
	free(pv);
}

void
eg_config_errors_free(struct eg_config_errors *errs)
{
	if (errs == NULL)
		return;
	strv_free(errs->msgs, errs->n);
	errs->msgs = NULL;
	errs->n = 0;
}
