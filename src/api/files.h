/*
 * files.h: serving a stored file (uploads.c): the file areas and paid
 * downloads share it.
 */
#ifndef HWC_FILES_H
#define HWC_FILES_H

#include <stdbool.h>
#include "../http/request.h"

/* Answers the stored file key: Range (206/416), If-None-Match (304) and
 * ETag on local storage, a short presigned redirect (302) on S3;
 * Content-Disposition inline for images and attachment otherwise, with the
 * name made safe.  public_area: immutable public caching, else private,
 * no-store. */
int reply_stored_file(req_t *req, const char *key, const char *ctype, const char *etag, const char *fname,
		      bool public_area);

#endif
