#ifndef POLYBRIDGE_CPROCESS_H
#define POLYBRIDGE_CPROCESS_H

/// Makes the kernel kill this process (SIGKILL) when its parent exits, however the parent
/// ends (Ctrl-C, kill -9, a crash). Returns 0, or -1 when the parent is already gone or the
/// request failed (the caller should then exit).
int pb_die_with_parent(void);

#endif
