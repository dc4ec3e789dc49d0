/*
 * Threads that leave signals to the thread that started them.
 */
#ifndef SM_THREAD_H
#define SM_THREAD_H

#include <pthread.h>

/*
 * Start fn(arg) in *t with every signal blocked, so that SIGINT, SIGTERM
 * and SIGHUP reach the main thread's sigwait or handlers: 0, or the
 * error number of pthread_create.
 */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
