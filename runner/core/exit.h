/*
 * The exit statuses of the command-line contract (README.md, "Contracts").
 * They live in core because verification decides them; commands return them.
 */
#ifndef PHASELAB_EXIT_H
#define PHASELAB_EXIT_H

enum {
	EXIT_PASSED = 0,
	EXIT_NOT_PASSED = 1,
	EXIT_USAGE = 2,
	EXIT_ENVIRONMENT = 3,
	EXIT_INTERRUPTED = 130,
};

#endif
