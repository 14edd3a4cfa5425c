/*
 * throttle.h: failed sign-in budgets (login and admin login).
 *
 * Counted only when a password is wrong, keyed by the typed address (an
 * unknown address is throttled exactly like a real one, so a 429 says
 * nothing about whether an account exists) and by the caller's address
 * prefix (IPv4 address, IPv6 /64: one customer holds a whole /64).
 *
 * - pair: one account from one prefix, a growing delay: 5 failures in a
 *   minute wait out that minute, 10 in 15 minutes the quarter hour, 20 in
 *   an hour the hour.  A right password ends the run.
 * - prefix: one prefix across accounts (credential stuffing): 20 failures
 *   per 15 minutes, 100 per day.
 * - account: one account from every prefix, a soft cap of 50 failures per
 *   hour.  Past it the account is guarded: each prefix gets one failure
 *   per 10 minutes for it.  The account is never locked: its owner, from a
 *   prefix without recent failures, is let through, and a right password
 *   signs in whenever a try is let through.
 *
 * The budgets live in the rate limiter (memory, or Redis when configured),
 * class RL_AUTH.  Thread safe.
 */
#ifndef HWC_THROTTLE_H
#define HWC_THROTTLE_H

#include <stdbool.h>

/* Must this try wait?  Counts nothing; *retry_after_s is the longest wait
 * among the spent budgets. */
bool login_throttle_blocked(const char *email, const char *ip, int *retry_after_s);
/* Records the outcome of a try that was let through. */
void login_throttle_result(const char *email, const char *ip, bool password_ok);

#endif
