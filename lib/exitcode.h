/* Exit statuses shared by every sm command (see sm(7), EXIT STATUS). */
#ifndef SM_EXITCODE_H
#define SM_EXITCODE_H

enum sm_exit {
	SM_EXIT_OK = 0,		/* everything done */
	SM_EXIT_PARTIAL = 1,	/* some records rejected or undelivered */
	SM_EXIT_USAGE = 2,	/* usage or configuration error */
	/* a service it needs could not be reached */
	SM_EXIT_UNAVAILABLE = 3,
	SM_EXIT_FATAL = 4	/* out of memory (or libcurl failed): stopped,
				   what was read spooled or reported */
};

#endif
