#define _GNU_SOURCE
#include "CProcess.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int pb_die_with_parent(void) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    // The parent may have exited before the request took effect.
    if (getppid() != parent) return -1;
    return 0;
}

// ---- Forked children -------------------------------------------------------------------------

// Runs in the child, inside fork(), before fork returns there: only async-signal-safe calls.
// The child has one thread, the forking one, with that thread's mask: the R thread and Swift's
// pool threads block nearly every signal (SIGTERM, SIGUSR1 that mc_exit waits for, SIGINT).
static void start_child_with_default_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, start_child_with_default_signals); }

void pb_fork_children_start_with_default_signals(void) { pthread_once(&fork_once, register_fork_handler); }
