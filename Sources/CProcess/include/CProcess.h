#ifndef POLYBRIDGE_CPROCESS_H
#define POLYBRIDGE_CPROCESS_H

/// Makes the kernel kill this process (SIGKILL) when its parent exits, however the parent
/// ends (Ctrl-C, kill -9, a crash). Returns 0, or -1 when the parent is already gone or the
/// request failed (the caller should then exit). Linux only: elsewhere it returns -1 (ENOSYS).
int pb_die_with_parent(void);

/// Makes every process forked from now on (R's mclapply and mcparallel, Python's os.fork and
/// multiprocessing's "fork") start with no signal blocked and the default action for the
/// signals caught with pb_signal_catch, whatever the forking thread had. Idempotent.
void pb_fork_children_start_with_default_signals(void);

/// Catches `signal` with a handler that only records it; pb_signal_next returns it on an
/// ordinary thread. Returns 0, or -1 when the handler could not be installed.
int pb_signal_catch(int signal);

/// Waits until a signal caught with pb_signal_catch arrives and returns its number.
int pb_signal_next(void);

/// Ends the process as the default action of `signal` would (a status that says "killed by
/// `signal`"); never returns.
_Noreturn void pb_signal_end_process(int signal);

/// 1 when `descriptor` is the writing end of a pipe (or socket) whose reader has gone.
int pb_descriptor_is_broken_pipe(int descriptor);

/// Returns the heap's free pages to the kernel (glibc's malloc_trim), so a process whose malloc
/// keeps freed memory for reuse shrinks after a large temporary. No-op elsewhere.
void pb_heap_trim(void);

#endif
