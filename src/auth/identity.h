/* identity.h: checks and normal forms for emails and usernames. */
#ifndef HWC_IDENTITY_H
#define HWC_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#define USERNAME_MIN 3
#define USERNAME_MAX 30
#define EMAIL_MAX 254

/* A practical address check: one @, a dotted domain, no spaces or
 * control characters, at most 254 bytes. */
bool email_valid(const char *email);
/* Lowercased, surrounding whitespace removed; caller frees. */
char *email_normalize(const char *email);
/* 3-30 of [a-z0-9_] */
bool username_valid(const char *username);

struct valid;
/* A username field of a body: lowercased, then 3-30 of [a-z0-9_]; NULL
 * (with a field error when it was sent) otherwise.  An arena copy. */
const char *v_username(struct valid *v, const char *field, int flags);

#endif
