/*
 * Urumi's pod sandbox process. It holds the pod's namespaces open, so it
 * does nothing but wait: it exits 0 on SIGTERM or SIGINT (the runtime stopping
 * the sandbox) and, as PID 1 of a pod that shares its PID namespace, reaps the
 * orphans re-parented to it so they do not linger as zombies.
 *
 * Built static (gcc -static) so the image holds this binary and nothing else.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "1.0"

static void stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	int saved = errno; /* a handler must not clobber the interrupted code's errno */

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void on(int sig, void (*handler)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0) {
		perror("pause: sigaction");
		_exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
		puts("urumi pause " VERSION);
		return 0;
	}
	if (getpid() != 1)
		fputs("pause: warning: not PID 1, orphans will not be re-parented here\n", stderr);
	on(SIGINT, stop, 0);
	on(SIGTERM, stop, 0);
	on(SIGCHLD, reap, SA_NOCLDSTOP | SA_RESTART);
	for (;;)
		pause();
}
