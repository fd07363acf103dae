/* LD_PRELOAD shim for the dahdi_cfg oracle test (reference/dahdi.md §1.1): dahdi_cfg opens
 * /dev/dahdi/ctl before it reads its config file, even with -t; this turns every open of a
 * /dev/dahdi/ node into an open of /dev/null so the parser runs on machines without DAHDI. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

static const char *rewrite(const char *path)
{
	return (path && strncmp(path, "/dev/dahdi/", 11) == 0) ? "/dev/null" : path;
}

int open(const char *path, int flags, ...)
{
	static int (*real_open)(const char *, int, ...);
	mode_t mode = 0;
	if (!real_open)
		real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return real_open(rewrite(path), flags, mode);
}

int open64(const char *path, int flags, ...)
{
	static int (*real_open64)(const char *, int, ...);
	mode_t mode = 0;
	if (!real_open64)
		real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return real_open64(rewrite(path), flags, mode);
}
