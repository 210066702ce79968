// The CArrow target is header-only in spirit: every operation on the Arrow C
// structs (including calling their callbacks) is done from Swift. SwiftPM needs
// at least one C source file per C target, and this one also gives the
// header's static assertions a translation unit to be checked in.
#include "CArrow.h"

int32_t carrow_abi_version(void) { return 1; }
