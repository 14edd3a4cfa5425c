/*
 * clam.h: malware signatures through libclamav.
 *
 * The engine is loaded once, lazily, on the first scan (a worker thread,
 * never the poll thread: compiling a full signature database takes
 * seconds) from CLAMAV_DB_DIR (default /var/lib/clamav).  A directory that
 * is missing or holds no signatures makes every scan CLAM_SKIPPED, which
 * is reported, not an error.  The engine is never reloaded: restart the
 * server after freshclam (or run one server per update).  Thread safe:
 * cl_scandesc on one compiled engine may run on many threads at once.
 */
#ifndef HWC_CLAM_H
#define HWC_CLAM_H

#include <stddef.h>

enum clam_result { CLAM_CLEAN, CLAM_FOUND, CLAM_SKIPPED, CLAM_ERROR };

/* Scans the open file fd.  CLAM_FOUND puts the signature's name in what;
 * CLAM_SKIPPED and CLAM_ERROR a reason. */
enum clam_result clam_scan_fd(int fd, char *what, size_t whatlen);

#endif
