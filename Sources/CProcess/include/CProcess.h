#ifndef POLYBRIDGE_CPROCESS_H
#define POLYBRIDGE_CPROCESS_H

/// Makes the kernel kill this process (SIGKILL) when its parent exits, however the parent
/// ends (Ctrl-C, kill -9, a crash). Returns 0, or -1 when the parent is already gone or the
/// request failed (the caller should then exit).
int pb_die_with_parent(void);

/// Makes every process forked from now on (R's mclapply and mcparallel, Python's os.fork and
/// multiprocessing's "fork") start with no signal blocked, whatever the forking thread
/// blocked. Idempotent.
void pb_fork_children_start_with_default_signals(void);

#endif
