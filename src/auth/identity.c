#include <ctype.h>
#include <strings.h>
#include "identity.h"
#include "../core/util.h"
#include "../http/validate.h"

bool email_valid(const char *e)
{
	size_t n = strlen(e);
	if (n < 3 || n > EMAIL_MAX)
		return false;
	const char *at = strchr(e, '@');
	if (!at || at == e || strchr(at + 1, '@') || at - e > 64)
		return false;
	const char *dom = at + 1;
	if (!*dom || !strchr(dom, '.') || dom[0] == '.' || dom[strlen(dom) - 1] == '.' || strstr(dom, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == '\\' ||
		    *p == ',' || *p == ';' || *p == '(' || *p == ')')
			return false;
	for (const char *p = dom; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || (unsigned char)*p >= 0x80))
			return false;
	/* .invalid never delivers (RFC 2606), and deleted accounts are
	 * renamed into it: nobody may hold such an address in advance. */
	size_t dl = strlen(dom);
	if (dl >= 8 && !strcasecmp(dom + dl - 8, ".invalid"))
		return false;
	return true;
}

char *email_normalize(const char *email)
{
	while (isspace((unsigned char)*email))
		email++;
	size_t n = strlen(email);
	while (n && isspace((unsigned char)email[n - 1]))
		n--;
	char *out = xstrndup(email, n);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

bool username_valid(const char *u)
{
	size_t n = strlen(u);
	if (n < USERNAME_MIN || n > USERNAME_MAX)
		return false;
	for (const char *p = u; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

const char *v_username(valid_t *v, const char *field, int flags)
{
	const char *in = v_str(v, field, flags, 1, 64);
	if (!in)
		return NULL;
	char *u = arena_strdup(v->req->arena, in);
	for (char *p = u; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!username_valid(u)) {
		v_error(v, field, "Use 3-30 characters: letters, digits and _");
		return NULL;
	}
	return u;
}
