/*
 * multipart.h: multipart/form-data bodies streamed to disk.
 *
 * The first file part goes to a temp file under the storage temp dir while
 * it is counted and hashed (SHA-256); it is never held whole in memory.  A
 * part larger than the route's limit marks the upload too large and stops
 * writing.  Other fields (at most 32, 4 KB each) are kept in req->form.
 */
#ifndef HWC_MULTIPART_H
#define HWC_MULTIPART_H

#include <stdbool.h>
#include "request.h"

/* Extra bytes allowed over a route's file limit for the multipart framing. */
#define MULTIPART_SLACK 65536

bool multipart_begin(req_t *req);
/* Feeds body bytes; false when the body is not valid multipart. */
bool multipart_feed(req_t *req, const char *data, size_t n);
/* Finishes the body: closes the file and the hash. */
void multipart_end(req_t *req);
/* Deletes what the handler did not take, before the answer goes out (so a
 * client that saw the answer never sees the temp file). */
void multipart_discard(req_t *req);

#endif
