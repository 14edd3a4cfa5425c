/*
 * banned.h: functions that are easy to misuse on untrusted input.
 *
 * Included last by every translation unit of the server (through util.h),
 * so a call to one of these is a compile error.  Use strbuf (sb_*), the
 * arena printf, snprintf with a checked result, and the strict parsers in
 * num.h instead.  (Git's banned.h.)
 */
#ifndef HWC_BANNED_H
#define HWC_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
