#define _GNU_SOURCE
#include "CProcess.h"
#if defined(__linux__)
#include <malloc.h>
#endif

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

int pb_die_with_parent(void) {
#ifdef __linux__
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    // The parent may have exited before the request took effect.
    if (getppid() != parent) return -1;
    return 0;
#else
    errno = ENOSYS;  // Linux only: the kernel has no parent-death signal elsewhere
    return -1;
#endif
}

// ---- Caught signals --------------------------------------------------------------------------

#define PB_SIGNALS 65
static volatile sig_atomic_t caught[PB_SIGNALS];
static volatile sig_atomic_t arrived[PB_SIGNALS];
static sem_t arrival;
static pthread_once_t arrival_once = PTHREAD_ONCE_INIT;

static void make_arrival(void) { sem_init(&arrival, 0, 0); }

// Async-signal-safe: a flag and sem_post.
static void note_arrival(int signal_number) {
    int saved = errno;
    if (signal_number > 0 && signal_number < PB_SIGNALS) arrived[signal_number] = 1;
    sem_post(&arrival);
    errno = saved;
}

int pb_signal_catch(int signal_number) {
    if (signal_number <= 0 || signal_number >= PB_SIGNALS) return -1;
    pthread_once(&arrival_once, make_arrival);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = note_arrival;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signal_number, &action, NULL) != 0) return -1;
    caught[signal_number] = 1;
    return 0;
}

int pb_signal_next(void) {
    pthread_once(&arrival_once, make_arrival);
    for (;;) {
        while (sem_wait(&arrival) != 0 && errno == EINTR) {}
        for (int number = 1; number < PB_SIGNALS; number++) {
            if (arrived[number]) {
                arrived[number] = 0;
                return number;
            }
        }
    }
}

_Noreturn void pb_signal_end_process(int signal_number) {
    signal(signal_number, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal_number);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    // Directed at this thread, where it is now unblocked: its default action ends the process.
    raise(signal_number);
    _exit(128 + signal_number);
}

int pb_descriptor_is_broken_pipe(int descriptor) {
    struct pollfd watched = {.fd = descriptor, .events = POLLOUT, .revents = 0};
    return poll(&watched, 1, 0) == 1 && (watched.revents & POLLERR) != 0;
}

// ---- Forked children -------------------------------------------------------------------------

// Runs in the child, inside fork(), before fork returns there: only async-signal-safe calls.
// The child has one thread, the forking one, with that thread's mask (Swift's pool threads
// block nearly every signal: SIGTERM, SIGINT), and the handlers of pb_signal_catch report to a
// thread the child does not have. (R's mc_fork sets the forking thread's mask again in its
// children after this: the R thread's own mask must be ordinary too, see RThread.)
static void start_child_with_default_signals(void) {
    for (int number = 1; number < PB_SIGNALS; number++) {
        if (caught[number]) signal(number, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, start_child_with_default_signals); }

void pb_fork_children_start_with_default_signals(void) { pthread_once(&fork_once, register_fork_handler); }

void pb_heap_trim(void) {
#if defined(__linux__)
    malloc_trim(0);
#endif
}
