// Makes libR's headers and link flags (from pkg-config `libR`) visible to the CR shim and its users.
#define R_NO_REMAP
#define CSTACK_DEFNS
#include <Rinternals.h>
