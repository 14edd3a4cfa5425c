#include "router.h"
#include "../core/num.h"
#include "../core/util.h"

struct node {
	char *literal;      /* NULL for a parameter node */
	char *param;        /* parameter name */
	bool is_int;
	struct node **kids; /* literal children, then at most one param child */
	size_t nkids;
	struct node *param_kid;
	int by_method[M_COUNT]; /* route index + 1; 0 for none */
};

struct router {
	struct node *root;
	const route_t **routes;
	size_t n, cap;
};

static const char *method_names[M_COUNT] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

const char *method_name(method_t m)
{
	return (unsigned)m < M_COUNT ? method_names[m] : "?";
}

int method_parse(const char *s)
{
	for (int i = 0; i < M_COUNT; i++)
		if (!strcmp(s, method_names[i]))
			return i;
	return -1;
}

static struct node *node_new(void)
{
	return xcalloc(1, sizeof(struct node));
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	node_free(n->param_kid);
	free(n->kids);
	free(n->literal);
	free(n->param);
	free(n);
}

router_t *router_new(void)
{
	router_t *r = xcalloc(1, sizeof(*r));
	r->root = node_new();
	return r;
}

void router_free(router_t *r)
{
	if (!r)
		return;
	node_free(r->root);
	free(r->routes);
	free(r);
}

static struct node *child_for(struct node *n, const char *seg, size_t len, const char *pattern)
{
	if (seg[0] == '{') {
		if (len < 3 || seg[len - 1] != '}')
			die("route %s: bad parameter segment", pattern);
		char *name = xstrndup(seg + 1, len - 2);
		bool is_int = false;
		char *colon = strchr(name, ':');
		if (colon) {
			if (strcmp(colon + 1, "int"))
				die("route %s: unknown parameter type", pattern);
			*colon = '\0';
			is_int = true;
		}
		if (!n->param_kid) {
			n->param_kid = node_new();
			n->param_kid->param = name;
			n->param_kid->is_int = is_int;
		} else {
			if (strcmp(n->param_kid->param, name) || n->param_kid->is_int != is_int)
				die("route %s: parameter {%s} clashes with {%s} at the same place",
				    pattern, name, n->param_kid->param);
			free(name);
		}
		return n->param_kid;
	}
	for (size_t i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i]->literal) == len && !memcmp(n->kids[i]->literal, seg, len))
			return n->kids[i];
	struct node *k = node_new();
	k->literal = xstrndup(seg, len);
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof(*n->kids));
	n->kids[n->nkids++] = k;
	return k;
}

void router_add(router_t *r, const route_t *routes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const route_t *rt = &routes[i];
		if (rt->pattern[0] != '/' || (unsigned)rt->method >= M_COUNT || !rt->handler)
			die("route %s: malformed", rt->pattern);
		struct node *n = r->root;
		const char *p = rt->pattern + 1;
		int nparams = 0;
		while (*p) {
			const char *slash = strchr(p, '/');
			size_t len = slash ? (size_t)(slash - p) : strlen(p);
			if (len == 0)
				die("route %s: empty segment", rt->pattern);
			if (*p == '{' && ++nparams > MAX_PATH_PARAMS)
				die("route %s: too many parameters", rt->pattern);
			n = child_for(n, p, len, rt->pattern);
			p += len + (slash ? 1 : 0);
		}
		if (n->by_method[rt->method])
			die("route %s %s: defined twice", method_name(rt->method), rt->pattern);
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 64;
			r->routes = xrealloc(r->routes, r->cap * sizeof(*r->routes));
		}
		r->routes[r->n] = rt;
		n->by_method[rt->method] = (int)++r->n;
	}
}

size_t router_count(const router_t *r)
{
	return r->n;
}

const route_t *router_get(const router_t *r, size_t i)
{
	return i < r->n ? r->routes[i] : NULL;
}

static unsigned allowed_mask(const struct node *n)
{
	unsigned mask = 0;
	for (int m = 0; m < M_COUNT; m++)
		if (n->by_method[m])
			mask |= 1u << m;
	return mask;
}

/* Depth-first: literal children first, then the parameter child.  A path
 * that ends on a node with no route at all keeps looking elsewhere. */
static const struct node *walk(const struct node *n, char **segs, int nsegs,
			       const char **vals, const struct node **pnodes, int *np)
{
	if (nsegs == 0)
		return allowed_mask(n) ? n : NULL;
	for (size_t i = 0; i < n->nkids; i++) {
		if (!strcmp(n->kids[i]->literal, segs[0])) {
			const struct node *hit = walk(n->kids[i], segs + 1, nsegs - 1, vals, pnodes, np);
			if (hit)
				return hit;
		}
	}
	if (n->param_kid && *np < MAX_PATH_PARAMS) {
		int mark = *np;
		vals[*np] = segs[0];
		pnodes[*np] = n->param_kid;
		(*np)++;
		const struct node *hit = walk(n->param_kid, segs + 1, nsegs - 1, vals, pnodes, np);
		if (hit)
			return hit;
		*np = mark;
	}
	return NULL;
}

void router_match(const router_t *r, method_t m, char *path, match_t *out)
{
	memset(out, 0, sizeof(*out));
	out->status = MATCH_NO_PATH;
	out->route_index = -1;
	if (path[0] != '/')
		return;
	char *segs[MAX_PATH_SEGMENTS];
	int nsegs = 0;
	char *p = path + 1;
	/* "/api/categories/" is the same resource as "/api/categories". */
	size_t plen = strlen(p);
	if (plen && p[plen - 1] == '/')
		p[plen - 1] = '\0';
	while (*p) {
		if (nsegs == MAX_PATH_SEGMENTS)
			return;
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		segs[nsegs++] = p;
		if (!*p)
			return; /* empty segment: "//" */
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return;
	}
	const char *vals[MAX_PATH_PARAMS];
	const struct node *pnodes[MAX_PATH_PARAMS];
	int np = 0;
	const struct node *n = walk(r->root, segs, nsegs, vals, pnodes, &np);
	if (!n)
		return;
	out->allowed = allowed_mask(n);
	if ((unsigned)m >= M_COUNT || !n->by_method[m]) {
		out->status = MATCH_NO_METHOD;
		return;
	}
	out->route_index = n->by_method[m] - 1;
	out->route = r->routes[out->route_index];
	out->nparams = np;
	out->status = MATCH_OK;
	for (int i = 0; i < np; i++) {
		out->names[i] = pnodes[i]->param;
		out->values[i] = vals[i];
		if (pnodes[i]->is_int &&
		    !parse_i64_range(vals[i], 1, INT64_MAX, &out->ints[i]) &&
		    out->status == MATCH_OK) {
			out->status = MATCH_BAD_PARAM;
			out->bad_param = pnodes[i]->param;
		}
	}
}
