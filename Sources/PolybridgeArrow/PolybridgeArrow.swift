// PolybridgeArrow: the Arrow C Data Interface and C Stream Interface in Swift.
//
// The C structs live in the CArrow module, re-exported here so that a client
// needs only `import PolybridgeArrow`: the C structs `ArrowSchema` and
// `ArrowArrayStream` are then visible, and the bare name `ArrowArray` means the
// Swift class (this module's declaration shadows the re-exported C struct).
// Spell the C struct `CArrow.ArrowArray`. A file that ALSO writes
// `import CArrow` makes bare `ArrowArray` ambiguous; qualify it there as
// `PolybridgeArrow.ArrowArray`.
@_exported import CArrow
