/* suite.h: declarative test suites (testsuites/<name>.suite).
 *
 * A suite names what a job needs (hosts, artifacts, hypervisor command line
 * and modules, a job timeout) and its ordered steps, each with its own timeout
 * and the way its result is read.  The file format is documented in
 * testsuites/README.md; keeping suites as data lets people add tests without
 * touching the daemon, and lets the submit handler validate suite names.
 */
#ifndef XENRT_SUITE_H
#define XENRT_SUITE_H

#include <stddef.h>

#define SUITE_NAME_MAX 64
#define SUITE_TEXT_MAX 512
#define SUITE_MAX_STEPS 32
#define SUITE_MAX_MODULES 8
#define SUITE_MAX_SOURCES 8

enum suite_step_kind {
	SUITE_STEP_CONSOLE_MATCH, /* wait for a literal string on the console */
	SUITE_STEP_CONSOLE_TAP,   /* TAP from the console, each test point a step */
	SUITE_STEP_CONSOLE_JSONL, /* JSON lines from the console: steps + metrics */
	SUITE_STEP_SSH,           /* a command in dom0 over SSH */
	SUITE_STEP_LOCAL,         /* a command on the daemon's machine (provision = none) */
};

/* How a suite's host boots dom0 (the Linux control domain). */
enum suite_dom0 {
	SUITE_DOM0_NONE,  /* no dom0: the hypervisor alone */
	SUITE_DOM0_KILN,  /* Kiln boots dom0 from its first two Multiboot modules */
	SUITE_DOM0_PLAIN, /* iPXE boots dom0's kernel directly, no hypervisor:
                        * the same image and SSH path without Kiln in it */
};

/* What an ssh step's standard output means besides its exit status. */
enum suite_output {
	SUITE_OUTPUT_NONE,  /* only the exit status counts */
	SUITE_OUTPUT_TAP,   /* TAP: each test point becomes a step */
	SUITE_OUTPUT_JSONL, /* JSON lines: steps and metrics */
};

struct suite_step {
	char name[SUITE_NAME_MAX];
	enum suite_step_kind kind;
	int timeout_s;
	int host;                     /* index of the job's host it reads */
	char expect[SUITE_TEXT_MAX];  /* console-match: the literal to wait for */
	char command[SUITE_TEXT_MAX]; /* ssh, local: the command, run by a shell */
	enum suite_output output;     /* ssh: how stdout is read */
	/* console-tap: TAP sources ("kiln", "d1", ...) that must each finish
     * their plan; none = every source seen, until the host exits. */
	char sources[SUITE_MAX_SOURCES][16];
	int n_sources;
	int min_sources; /* TAP sources that must appear (default 1) */
	int exit_code;   /* expected isa-debug-exit value, -1 = any */
	int line;        /* of its [step] header, for messages */
};

struct suite_module {
	char artifact[SUITE_NAME_MAX]; /* artifact role, e.g. "guest-tap-hello" */
	char args[SUITE_TEXT_MAX];     /* module command line */
};

struct suite {
	char name[SUITE_NAME_MAX];
	char description[SUITE_TEXT_MAX];
	int hosts_needed;
	int job_timeout_s;
	char hypervisor[SUITE_NAME_MAX]; /* artifact role of the kernel, "hypervisor" */
	char cmdline[SUITE_TEXT_MAX];    /* hypervisor command line */
	struct suite_module modules[SUITE_MAX_MODULES];
	int n_modules;
	/* 0: the job's hosts are reserved but not booted (provision = none),
     * for suites of local steps that test the farm's own logic (schedules,
     * gates, bisection) in seconds; 1: boot them through iPXE. */
	int provision;
	enum suite_dom0 dom0;
	char dom0_cmdline[SUITE_TEXT_MAX]; /* Linux's, before the farm's key */
	int dom0_timeout_s;                /* hand-over to dom0's SSH answering */
	struct suite_step steps[SUITE_MAX_STEPS];
	int n_steps;
};

/* Loads suites_dir/<name>.suite.  Rejects names outside [a-z0-9_-]+, unknown
 * suites, and malformed files with "file:line: reason" in err.  Returns 0 or
 * -1. */
int suite_load(const char *suites_dir, const char *name, struct suite **out, char *err,
	       size_t errlen);

/* The text of suites_dir/<name>.suite (malloc'd, NUL-terminated), as a
 * submission stores it with its job.  0, or -1 with a message. */
int suite_read(const char *suites_dir, const char *name, char **text, char *err, size_t errlen);

/* Parses suite text already in memory; `origin` names it in error messages. */
int suite_parse(const char *text, const char *origin, const char *name, struct suite **out,
		char *err, size_t errlen);

void suite_free(struct suite *s);

/* True if name is a valid suite name ([a-z0-9_-]{1,63}). */
int suite_name_valid(const char *name);

const char *suite_step_kind_name(enum suite_step_kind kind);

/* The flight's build must make the hypervisor: a suite boots its hosts. */
int suite_needs_hypervisor(const struct suite *s);

/* The flight's build must make dom0's kernel, initramfs and host key. */
int suite_needs_dom0(const struct suite *s);

/* Artifact roles of dom0's image (see the build job). */
#define SUITE_ROLE_DOM0_KERNEL "dom0-kernel"
#define SUITE_ROLE_DOM0_INITRD "dom0-initrd"
#define SUITE_ROLE_DOM0_HOSTKEY "dom0-hostkey"

#endif
