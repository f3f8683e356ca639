/* The unit-test runner: runs every registered test in a forked child (so a crash
 * is one failure, not the end of the run) and prints TAP. */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct test_case *tests_head;

void test_register(struct test_case *tc)
{
	tc->next = tests_head;
	tests_head = tc;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

static int by_name(const void *a, const void *b)
{
	const struct test_case *x = *(struct test_case *const *)a,
			       *y = *(struct test_case *const *)b;
	return strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	struct test_case **all;
	size_t n = 0, i, run = 0;
	int failed = 0;

	for (struct test_case *t = tests_head; t; t = t->next)
		n++;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return 2;
	n = 0;
	for (struct test_case *t = tests_head; t; t = t->next)
		if (!filter || strstr(t->name, filter))
			all[n++] = t;
	qsort(all, n, sizeof(*all), by_name);

	printf("1..%zu\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();
		int st = 0;

		if (pid == 0) {
			all[i]->fn();
			fflush(stdout);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0) {
			printf("not ok %zu %s # could not fork\n", ++run, all[i]->name);
			failed++;
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %zu %s\n", ++run, all[i]->name);
		} else {
			if (WIFSIGNALED(st))
				printf("# killed by signal %d\n", WTERMSIG(st));
			printf("not ok %zu %s\n", ++run, all[i]->name);
			failed++;
		}
		fflush(stdout);
	}
	free(all);
	return failed ? 1 : 0;
}
