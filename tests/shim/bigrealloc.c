/*
 * LD_PRELOAD shim for the tests: realloc() of more than SM_TEST_REALLOC_MAX
 * bytes fails with ENOMEM, as on a host out of memory; everything else is
 * libc's.  Built by the test that uses it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

void *
realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);
	const char *max = getenv("SM_TEST_REALLOC_MAX");

	if (max != NULL && n > strtoul(max, NULL, 10)) {
		errno = ENOMEM;
		return NULL;
	}
	if (real == NULL)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	return real(p, n);
}
