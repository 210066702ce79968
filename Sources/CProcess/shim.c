#include "CProcess.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int pb_die_with_parent(void) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    // The parent may have exited before the request took effect.
    if (getppid() != parent) return -1;
    return 0;
}
