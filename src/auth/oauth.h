/*
 * oauth.h: the OAuth 2.0 providers (Google, GitHub, Discord), as a client.
 *
 * Knows each provider's endpoints, scopes and profile format; exchanges an
 * authorization code for an access token and reads the profile with it, over
 * libcurl (short timeouts, no redirects, http/https only, 1 MB per answer).
 * Settings are read with config_get: <P>_CLIENT_ID, <P>_CLIENT_SECRET and
 * the endpoint overrides <P>_AUTHORIZE_URL, <P>_TOKEN_URL,
 * GOOGLE_USERINFO_URL, GITHUB_API_URL, DISCORD_API_URL.
 *
 * Strings handed out are allocated in the caller's arena.  Nothing here
 * touches the database or logs a code or a token.  Thread safe (curl's
 * global init is done once by main).
 */
#ifndef HWC_OAUTH_H
#define HWC_OAUTH_H

#include <stdbool.h>
#include "../core/arena.h"

typedef struct oauth_provider oauth_provider_t;

/* The provider named in a path ("google", "github", "discord"), or NULL. */
const oauth_provider_t *oauth_provider(const char *name);
/* "Google", "GitHub", "Discord": for messages. */
const char *oauth_label(const oauth_provider_t *p);
/* Its path name ("google"): for the database. */
const char *oauth_name(const oauth_provider_t *p);
/* Client id and secret are both set. */
bool oauth_configured(const oauth_provider_t *p);

/* The provider's authorization page for this redirect_uri and state, every
 * value URL-encoded; NULL when the provider is not configured. */
char *oauth_authorize_url(arena_t *a, const oauth_provider_t *p, const char *redirect_uri, const char *state);

/* What the client sends back after the provider's page. */
typedef struct oauth_grant {
	const char *code, *redirect_uri;
	const char *code_verifier; /* PKCE; NULL when not used */
} oauth_grant_t;

/* The account at the provider.  email is set only when the provider vouches
 * for it (verified), lowercased and checked; the rest may be NULL except id. */
typedef struct oauth_profile {
	const char *id;         /* the provider's stable user id */
	const char *email;
	const char *login;      /* a username hint (GitHub login, Discord username) */
	const char *name;       /* display name, at most 100 characters */
	const char *avatar_url; /* an https URL */
} oauth_profile_t;

enum oauth_status {
	OAUTH_OK,
	OAUTH_UNREACHABLE, /* transport failure, timeout, 5xx, garbage: 502 */
	OAUTH_REJECTED,    /* the token endpoint refused the code: 401 */
};

/* Exchanges the code and reads the profile (one to three HTTP calls). */
enum oauth_status oauth_fetch_profile(arena_t *a, const oauth_provider_t *p, const oauth_grant_t *g,
				      oauth_profile_t *out);

#endif
