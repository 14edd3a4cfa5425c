/*
 * social.h: what other areas ask of the follows (social.c).
 */
#ifndef HWC_SOCIAL_H
#define HWC_SOCIAL_H

#include <jansson.h>
#include <stdint.h>
#include "../http/request.h"

/* Adds "is_following" (does the caller follow user_id?) to a public user
 * document, when the caller is signed in (CONTRACT.md: the caller's own
 * state appears when a token is sent).  False on a database error. */
bool follow_state_add(req_t *req, json_t *user_doc, int64_t user_id);

#endif
