// CPython: the slice of CPython's C API Polybridge uses, loaded at run time.
//
// libpython is not linked at build time: the interpreter the user runs (POLYBRIDGE_PYTHON or
// python3 on PATH, possibly a venv) decides which libpython is dlopen'ed, with RTLD_GLOBAL so
// extension modules (numpy, pyarrow) find its symbols. Every pb_py_* call except load and
// initialize requires the caller to hold the GIL.
#ifndef POLYBRIDGE_CPYTHON_H
#define POLYBRIDGE_CPYTHON_H

#include <stddef.h>
#include <stdint.h>

/// An opaque PyObject*.
typedef struct PBPyObject PBPyObject;

/// dlopens `library_path` and resolves the API; returns 0 and fills `error` on failure.
int pb_py_load(const char *library_path, char *error, size_t error_length);

/// Initialises the interpreter as if `program_path` were running (so a venv's python gives the
/// venv's sys.prefix), without Python signal handlers, then releases the GIL.
/// Returns 0 and fills `error` on failure; returns 2 when Python was already initialised.
int pb_py_initialize(const char *program_path, char *error, size_t error_length);

/// Takes the GIL on the calling thread (re-entrant); pass the result to `pb_py_gil_release`.
int pb_py_gil_ensure(void);
/// Releases what `pb_py_gil_ensure` took.
void pb_py_gil_release(int state);

/// Start symbols for `pb_py_run_string`.
enum { PB_PY_EVAL_INPUT = 258, PB_PY_FILE_INPUT = 257 };

PBPyObject *pb_py_run_string(const char *code, int start, PBPyObject *globals, PBPyObject *locals);
PBPyObject *pb_py_import(const char *name);
/// `__main__.__dict__` (borrowed reference).
PBPyObject *pb_py_main_dict(void);
PBPyObject *pb_py_get_attribute(PBPyObject *object, const char *name);
/// Calls `callable(*arguments, **keywords)`; `keywords` may be NULL.
PBPyObject *pb_py_call(PBPyObject *callable, PBPyObject *arguments, PBPyObject *keywords);
PBPyObject *pb_py_str(PBPyObject *object);
PBPyObject *pb_py_repr(PBPyObject *object);
/// `type(object).__name__` as a new str.
PBPyObject *pb_py_type_name(PBPyObject *object);

void pb_py_incref(PBPyObject *object);
void pb_py_decref(PBPyObject *object);

/// Borrowed references to the singletons.
PBPyObject *pb_py_none(void);

/// 1 when `object` is an instance of the builtin (bool, int, float, str, list, tuple, dict).
int pb_py_is_bool(PBPyObject *object);
int pb_py_is_int(PBPyObject *object);
int pb_py_is_float(PBPyObject *object);
int pb_py_is_str(PBPyObject *object);
int pb_py_is_list(PBPyObject *object);
int pb_py_is_tuple(PBPyObject *object);
int pb_py_is_dict(PBPyObject *object);

/// Value accessors; they return -1 / NULL with a Python error set when the value does not fit.
long long pb_py_as_long_long(PBPyObject *object);
double pb_py_as_double(PBPyObject *object);
int pb_py_is_true(PBPyObject *object);
const char *pb_py_as_utf8(PBPyObject *object, ptrdiff_t *length);

PBPyObject *pb_py_from_long_long(long long value);
PBPyObject *pb_py_from_double(double value);
PBPyObject *pb_py_from_bool(int value);
PBPyObject *pb_py_from_utf8(const char *bytes, ptrdiff_t length);

ptrdiff_t pb_py_sequence_length(PBPyObject *object);
/// New reference to item `index` of a list or tuple.
PBPyObject *pb_py_sequence_item(PBPyObject *object, ptrdiff_t index);
PBPyObject *pb_py_tuple_new(ptrdiff_t length);
/// Stores `item` (reference stolen) at `index` of a new tuple.
int pb_py_tuple_set(PBPyObject *tuple, ptrdiff_t index, PBPyObject *item);
PBPyObject *pb_py_list_new(ptrdiff_t length);
/// Stores `item` (reference stolen) at `index` of a new list.
int pb_py_list_set(PBPyObject *list, ptrdiff_t index, PBPyObject *item);
PBPyObject *pb_py_dict_new(void);
/// Sets `dictionary[key] = item` (no reference stolen).
int pb_py_dict_set(PBPyObject *dictionary, const char *key, PBPyObject *item);
/// New reference to `dictionary[key]`, or NULL without an error when absent.
PBPyObject *pb_py_dict_get(PBPyObject *dictionary, const char *key);
/// New reference to `dictionary.items()` as a list.
PBPyObject *pb_py_dict_items(PBPyObject *dictionary);

/// 1 when a Python exception is pending.
int pb_py_error_occurred(void);
/// Takes the pending exception (normalised); each out-parameter is a new reference or NULL.
void pb_py_error_fetch(PBPyObject **type, PBPyObject **value, PBPyObject **traceback);
void pb_py_error_clear(void);
/// Raises `RuntimeError(message)` in Python.
void pb_py_error_set(const char *message);

/// The pointer inside a capsule named `name`, or NULL with a Python error set.
void *pb_py_capsule_pointer(PBPyObject *capsule, const char *name);

/// Wraps a heap-allocated `struct ArrowArrayStream` in an "arrow_array_stream" capsule whose
/// destructor calls the stream's release (if still set) and frees the struct.
PBPyObject *pb_py_stream_capsule(void *stream);
/// Same for `struct ArrowSchema` ("arrow_schema") and `struct ArrowArray` ("arrow_array").
PBPyObject *pb_py_schema_capsule(void *schema);
PBPyObject *pb_py_array_capsule(void *array);

#endif
