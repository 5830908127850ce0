/* host_console.c: reads a host's serial console for the lines that decide
 * whose fault a lost host is.  A panic of the hypervisor is the code under
 * test failing; a nested host's emulator failing is the farm's (the job is
 * broken and retried elsewhere, the host health-checked), even though Kiln
 * reports it and stops the machine as it would for a crash of its own. */
#include "host_console.h"

#include <stdio.h>
#include <string.h>

#include "results.h"

/* A line the hypervisor logged itself: "[   12.345678] (kiln) ...".  A
 * guest's console line reads "[...] (d3) ..." whatever text it carries,
 * so a guest cannot pass for the hypervisor here. */
static int from_hypervisor(const char *line)
{
	const char *end = line[0] == '[' ? strstr(line, "] ") : NULL;
	return end && !strncmp(end + 2, "(kiln) ", 7);
}

int host_console_signs(const char *path)
{
	char line[RESULTS_LINE_MAX];
	FILE *f = fopen(path, "r");
	int signs = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!from_hypervisor(line))
			continue;
		if (strstr(line, "PANIC on CPU"))
			signs |= HOST_CONSOLE_PANIC;
		if (strstr(line, "came back holding the host's state"))
			signs |= HOST_CONSOLE_EMULATOR_FAULT;
	}
	fclose(f);
	return signs;
}
