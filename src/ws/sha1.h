/*
 * sha1.h: SHA-1 (FIPS 180-4), for the one place the WebSocket protocol
 * needs it: Sec-WebSocket-Accept (RFC 6455, 4.2.2).  libsodium has no
 * SHA-1, and it is not used for anything that needs collision resistance.
 */
#ifndef HWC_WS_SHA1_H
#define HWC_WS_SHA1_H

#include <stddef.h>
#include <stdint.h>

void sha1(const void *data, size_t len, uint8_t out[20]);

#endif
