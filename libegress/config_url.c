/*
 * config_url.c - [chain] hop and [dohd] upstream: the two keys whose value
 * is a URL.
 *
 * A hop's URL may carry a user and password for the proxy.  The password
 * is kept only in eg_hop.password (wiped when freed); everything that
 * prints a hop, and every error about one, uses url_redacted or the host,
 * never the value as written.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

#define MAX_BOOTSTRAP	16

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode n bytes of userinfo.  Control bytes (and so NUL) are
 * refused even when encoded: they end up in a Proxy-Authorization header.
 */
static char *
pct_decode(const char *s, size_t n, char *err)
{
	char *out, *o;
	size_t i;

	if ((out = malloc(n + 1)) == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return NULL;
	}
	for (i = 0, o = out; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				snprintf(err, EG_ERR_MAX, "bad percent-"
				    "encoding in user or password");
				goto fail;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, EG_ERR_MAX, "control character in user "
			    "or password");
			goto fail;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

struct url {
	bool tls;
	const char *auth, *auth_end;	/* userinfo, without '@' */
	const char *hp, *hp_end;	/* host[:port] */
	const char *path;		/* "" or from the first '/' */
	char host[EG_NAME_MAX + 1];
	bool host_is_ip;
	struct eg_ip ip;
	uint16_t port;
};

/* scheme://[userinfo@]host[:port][path], the path left to the caller. */
static bool
url_split(const char *v, struct url *u, char *err)
{
	char hp[EG_NAME_MAX + 16];
	struct eg_endpoint ep;
	const char *p, *at, *c;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(v, "http://", 7) == 0)
		p = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0) {
		p = v + 8;
		u->tls = true;
	} else {
		snprintf(err, EG_ERR_MAX, "scheme must be http or https");
		return false;
	}
	/*
	 * The userinfo ends at the last '@' of the whole value, wherever it
	 * is: a password with a '/', '?' or '#' in it then stays userinfo,
	 * and the host and path, which error messages quote, never hold a
	 * piece of it.  A DoH path with an '@' must be written %40.
	 */
	at = strrchr(p, '@');
	for (c = at != NULL ? at + 1 : p; *c != '\0' && *c != '/' &&
	    *c != '?' && *c != '#'; c++)
		;
	for (const char *w = p; w < c; w++)
		if (cfg_is_ws(*w)) {
			snprintf(err, EG_ERR_MAX, "space in URL");
			return false;
		}
	u->path = c;
	if (at != NULL) {
		if (memchr(p, '@', (size_t)(at - p)) != NULL) {
			snprintf(err, EG_ERR_MAX, "'@' in user or password "
			    "must be written %%40");
			return false;
		}
		if (strcspn(p, "/?#") < (size_t)(at - p)) {
			snprintf(err, EG_ERR_MAX, "'/', '?' or '#' in user or "
			    "password must be written %%2F, %%3F or %%23");
			return false;
		}
		u->auth = p;
		u->auth_end = at;
		p = at + 1;
	}
	u->hp = p;
	u->hp_end = c;
	n = (size_t)(c - p);
	if (n == 0) {
		snprintf(err, EG_ERR_MAX, "missing host");
		return false;
	}
	if (n + 8 > sizeof(hp)) {
		snprintf(err, EG_ERR_MAX, "host too long");
		return false;
	}
	memcpy(hp, p, n);
	hp[n] = '\0';
	u->port = u->tls ? 443 : 3128;
	/* no port: borrow the default so one parser checks the host */
	if (hp[0] == '[' ? strstr(hp, "]:") == NULL : strchr(hp, ':') == NULL)
		snprintf(hp + n, sizeof(hp) - n, ":%u", u->port);
	if (!eg_endpoint_parse(hp, &ep, err))
		return false;
	if (ep.is_cidr) {
		snprintf(err, EG_ERR_MAX, "host must be a name or an address");
		return false;
	}
	u->port = ep.port;
	u->host_is_ip = !ep.is_name;
	if (ep.is_name)
		snprintf(u->host, sizeof(u->host), "%s", ep.name);
	else {
		u->ip = ep.cidr.ip;
		eg_ip_str(&u->ip, u->host, sizeof(u->host));
	}
	return true;
}

void
cfg_hop_clear(struct eg_hop *h)
{
	free(h->user);
	if (h->password != NULL)
		explicit_bzero(h->password, strlen(h->password));
	free(h->password);
	free(h->url_redacted);
	memset(h, 0, sizeof(*h));
}

static bool
hop_auth(struct eg_hop *h, const struct url *u, char *err)
{
	const char *colon;
	size_t n;

	if (u->auth == NULL)
		return true;
	n = (size_t)(u->auth_end - u->auth);
	colon = memchr(u->auth, ':', n);
	if (colon == u->auth || n == 0) {
		snprintf(err, EG_ERR_MAX, "empty user name");
		return false;
	}
	if (colon == NULL)
		colon = u->auth_end;
	if ((h->user = pct_decode(u->auth, (size_t)(colon - u->auth),
	    err)) == NULL)
		return false;
	if (colon < u->auth_end && (h->password = pct_decode(colon + 1,
	    (size_t)(u->auth_end - colon - 1), err)) == NULL)
		return false;
	return true;
}

/* "scheme://user:***@host:port", so logs never carry the secret. */
static bool
hop_redact(struct eg_hop *h, const struct url *u)
{
	const char *colon = NULL;
	int ulen = 0, r;

	if (u->auth != NULL) {
		colon = memchr(u->auth, ':', (size_t)(u->auth_end - u->auth));
		ulen = (int)((colon ? colon : u->auth_end) - u->auth);
	}
	if (h->host_is_ip && h->ip.family == AF_INET6)
		r = asprintf(&h->url_redacted, "%s://%.*s%s%s[%s]:%u",
		    h->tls ? "https" : "http", ulen, u->auth ? u->auth : "",
		    colon ? ":***" : "", u->auth ? "@" : "", h->host, h->port);
	else
		r = asprintf(&h->url_redacted, "%s://%.*s%s%s%s:%u",
		    h->tls ? "https" : "http", ulen, u->auth ? u->auth : "",
		    colon ? ":***" : "", u->auth ? "@" : "", h->host, h->port);
	if (r < 0) {
		h->url_redacted = NULL;
		return false;
	}
	return true;
}

bool
cfg_add_hop(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_hop h;
	struct url u;
	size_t i;

	memset(&h, 0, sizeof(h));
	if (!url_split(v, &u, err))
		return false;
	if (strcmp(u.path, "") != 0 && strcmp(u.path, "/") != 0) {
		snprintf(err, EG_ERR_MAX, "a proxy URL takes no path, query "
		    "or fragment");
		return false;
	}
	h.tls = u.tls;
	h.port = u.port;
	h.host_is_ip = u.host_is_ip;
	h.ip = u.ip;
	memcpy(h.host, u.host, sizeof(h.host));
	h.at = at;
	if (!hop_auth(&h, &u, err))
		goto fail;
	for (i = 0; i < c->chain.nhops; i++) {
		if (c->chain.hops[i].port == h.port &&
		    strcmp(c->chain.hops[i].host, h.host) == 0) {
			snprintf(err, EG_ERR_MAX, "the same proxy twice in the "
			    "chain (first at line %d)",
			    c->chain.hops[i].at.line);
			goto fail;
		}
	}
	if (!hop_redact(&h, &u) ||
	    !cfg_grow(ld, &c->chain.hops, c->chain.nhops, sizeof(h))) {
		ld->oom = true;
		goto fail;
	}
	c->chain.hops[c->chain.nhops++] = h;
	return true;
fail:
	cfg_hop_clear(&h);
	return false;
}

void
cfg_upstream_clear(struct eg_upstream *u)
{
	free(u->url);
	free(u->path);
	free(u->bootstrap);
	memset(u, 0, sizeof(*u));
}

static bool
upstream_path(struct eg_upstream *up, const char *path, char *err)
{
	const char *p;

	if (path[0] == '\0' || strcmp(path, "/") == 0)
		path = "/dns-query";
	if (path[0] != '/') {
		snprintf(err, EG_ERR_MAX, "a DoH URL takes a path, not a "
		    "query or fragment");
		return false;
	}
	for (p = path; *p != '\0'; p++) {
		if (*p == '?' || *p == '#') {
			snprintf(err, EG_ERR_MAX, "a DoH URL takes a path, "
			    "not a query or fragment");
			return false;
		}
	}
	if ((up->path = strdup(path)) == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	return true;
}

static bool
upstream_bootstrap(struct eg_upstream *up, const char *a, char *err)
{
	struct eg_cidr c;
	struct eg_ip *n;

	if (strchr(a, '/') != NULL || !eg_cidr_parse(a, &c, err)) {
		if (strchr(a, '/') != NULL)
			snprintf(err, EG_ERR_MAX, "bootstrap \"%.64s\": an "
			    "address, not a CIDR", a);
		return false;
	}
	if (up->nbootstrap >= MAX_BOOTSTRAP) {
		snprintf(err, EG_ERR_MAX, "more than %d bootstrap addresses",
		    MAX_BOOTSTRAP);
		return false;
	}
	n = reallocarray(up->bootstrap, up->nbootstrap + 1, sizeof(*n));
	if (n == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	up->bootstrap = n;
	up->bootstrap[up->nbootstrap++] = c.ip;
	return true;
}

/* "https://host[:port]/path ADDR [ADDR...]" */
bool
cfg_add_upstream(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_upstream up;
	struct url u;
	char *copy = NULL, *tok, *save = NULL;
	bool ok = false;

	memset(&up, 0, sizeof(up));
	if ((copy = cfg_xstrdup(ld, v)) == NULL)
		goto out;
	tok = strtok_r(copy, " \t", &save);
	if (tok == NULL || !url_split(tok, &u, err))
		goto out;
	if (!u.tls) {
		snprintf(err, EG_ERR_MAX, "DoH upstreams are https only");
		goto out;
	}
	if (u.auth != NULL) {
		snprintf(err, EG_ERR_MAX, "a DoH URL takes no user or "
		    "password");
		goto out;
	}
	if (!upstream_path(&up, u.path, err))
		goto out;
	memcpy(up.host, u.host, sizeof(up.host));
	up.port = u.port;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
		if (!upstream_bootstrap(&up, tok, err))
			goto out;
	if (up.nbootstrap == 0) {
		snprintf(err, EG_ERR_MAX, "give the URL and at least one "
		    "bootstrap address, so no plaintext DNS is needed");
		goto out;
	}
	if (asprintf(&up.url, "https://%s%s%s:%u%s",
	    u.ip.family == AF_INET6 ? "[" : "", up.host,
	    u.ip.family == AF_INET6 ? "]" : "", up.port, up.path) < 0) {
		up.url = NULL;
		ld->oom = true;
		goto out;
	}
	if (!cfg_grow(ld, &c->dohd.upstreams, c->dohd.nupstreams, sizeof(up)))
		goto out;
	up.at = at;
	c->dohd.upstreams[c->dohd.nupstreams++] = up;
	ok = true;
out:
	if (!ok)
		cfg_upstream_clear(&up);
	free(copy);
	return ok;
}
