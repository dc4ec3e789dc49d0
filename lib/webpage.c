/* The page's files: the compiled-in copy, and a --web-root's check. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "webpage.h"

const struct webpage_file *
webpage_find(const char *name)
{
	const struct webpage_file *f;

	for (f = webpage_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int
webpage_root_check(const char *dir, struct why *why)
{
	char path[4096];
	struct stat st;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/index.html", dir) >=
	    sizeof(path))
		return why_set(why, "%.64s...: too long a path", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return why_set(why, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return why_set(why, "%s: not a file", path);
	}
	close(fd);
	return 0;
}
