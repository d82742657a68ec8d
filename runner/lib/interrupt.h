/*
 * SIGINT and SIGTERM, turned into something the rest of the program can
 * poll: the handler only records the signal and writes a byte to a
 * self-pipe, so a poll() loop anywhere (the process runner, the HTTP probe's
 * waits) wakes up at once and unwinds through the normal cleanup path.
 */
#ifndef PHASELAB_INTERRUPT_H
#define PHASELAB_INTERRUPT_H

/* Install the handlers (idempotent).  Returns 0, or -1 with errno set. */
int interrupt_install(void);
/* The signal received (SIGINT or SIGTERM), or 0. */
int interrupt_pending(void);
/* A descriptor that becomes readable once a signal arrived, or -1 before install. */
int interrupt_fd(void);
/*
 * Sleep up to ms milliseconds, returning early (with 1) when interrupted;
 * 0 when the full time passed.
 */
int interrupt_sleep_ms(long ms);
/*
 * In a child just forked: a self-pipe of its own, so that a signal to one
 * process does not wake (and confuse) another's poll loops.  0, or -1.
 */
int interrupt_after_fork(void);
/* For tests: forget a recorded signal. */
void interrupt_clear(void);

#endif
