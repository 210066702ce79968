// CArrow: the Arrow C Data Interface and C Stream Interface ABI structs.
//
// The struct definitions and their include guards are copied verbatim from the
// Apache Arrow specifications, so this header can coexist with any other
// header (nanoarrow, Arrow C++, libpython extension headers, R packages) that
// carries the same definitions: whichever is included first wins and the
// layouts are identical.
#ifndef CARROW_H
#define CARROW_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  // Array type description
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;

  // Release callback
  void (*release)(struct ArrowSchema*);
  // Opaque producer-specific data
  void* private_data;
};

struct ArrowArray {
  // Array data description
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;

  // Release callback
  void (*release)(struct ArrowArray*);
  // Opaque producer-specific data
  void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  // Callback to get the stream type
  // (will be the same for all arrays in the stream).
  //
  // Return value: 0 if successful, an `errno`-compatible error code otherwise.
  //
  // If successful, the ArrowSchema must be released independently from the stream.
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);

  // Callback to get the next array
  // (if no error and the array is released, the stream has ended)
  //
  // Return value: 0 if successful, an `errno`-compatible error code otherwise.
  //
  // If successful, the ArrowArray must be released independently from the stream.
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);

  // Callback to get optional detailed error information.
  // This must only be called if the last stream operation failed
  // with a non-0 return code.
  //
  // Return value: pointer to a null-terminated character array describing
  // the last error, or NULL if no description is available.
  //
  // The returned pointer is only valid until the next operation on this stream
  // (including release).
  const char* (*get_last_error)(struct ArrowArrayStream*);

  // Release callback: release the stream's own resources.
  // Note that arrays returned by `get_next` must be individually released.
  void (*release)(struct ArrowArrayStream*);

  // Opaque producer-specific data
  void* private_data;
};

#endif  // ARROW_C_STREAM_INTERFACE

// The flag values again, as typed constants: Swift imports these even where it
// would not import a macro, and they carry the `int64_t` type of `flags`.
__attribute__((unused)) static const int64_t CArrowFlagDictionaryOrdered = ARROW_FLAG_DICTIONARY_ORDERED;
__attribute__((unused)) static const int64_t CArrowFlagNullable = ARROW_FLAG_NULLABLE;
__attribute__((unused)) static const int64_t CArrowFlagMapKeysSorted = ARROW_FLAG_MAP_KEYS_SORTED;

// The ABI is frozen: on 64-bit platforms the structs have these exact sizes.
#if UINTPTR_MAX == 0xffffffffffffffffu
#ifdef __cplusplus
static_assert(sizeof(struct ArrowSchema) == 72, "ArrowSchema must be 72 bytes");
static_assert(sizeof(struct ArrowArray) == 80, "ArrowArray must be 80 bytes");
static_assert(sizeof(struct ArrowArrayStream) == 40, "ArrowArrayStream must be 40 bytes");
#else
_Static_assert(sizeof(struct ArrowSchema) == 72, "ArrowSchema must be 72 bytes");
_Static_assert(sizeof(struct ArrowArray) == 80, "ArrowArray must be 80 bytes");
_Static_assert(sizeof(struct ArrowArrayStream) == 40, "ArrowArrayStream must be 40 bytes");
#endif
#endif

/// Returns the ABI version of this header's structs (always 1: the C Data
/// Interface has never changed layout). Exists so the C target has a symbol.
int32_t carrow_abi_version(void);

#ifdef __cplusplus
}
#endif

#endif  // CARROW_H
