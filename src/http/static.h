/*
 * static.h: the web client and the API reference, served from disk
 * (static.c).  Called by the dispatcher for GET/HEAD outside /api/ and /ws/.
 */
#ifndef HWC_STATIC_H
#define HWC_STATIC_H

#include <stdbool.h>
#include "request.h"

/* Serves path from the web directory; false when nothing matches. */
bool static_serve(req_t *req, const char *path);

#endif
