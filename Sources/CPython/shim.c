// Run-time binding to libpython. See include/CPython.h for the contract.
#define _GNU_SOURCE
#include "CPython.h"
#include "CArrow.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

typedef PBPyObject O;
typedef ptrdiff_t Py_ssize_t;
typedef void (*capsule_destructor)(O *);

// The functions and objects resolved from libpython.
static struct {
    int (*Py_IsInitialized)(void);
    void (*Py_InitializeEx)(int);
    void (*Py_SetProgramName)(const wchar_t *);
    wchar_t *(*Py_DecodeLocale)(const char *, size_t *);
    void *(*PyEval_SaveThread)(void);
    int (*PyGILState_Ensure)(void);
    void (*PyGILState_Release)(int);
    O *(*PyRun_StringFlags)(const char *, int, O *, O *, void *);
    O *(*PyImport_ImportModule)(const char *);
    O *(*PyImport_AddModule)(const char *);
    O *(*PyModule_GetDict)(O *);
    O *(*PyObject_GetAttrString)(O *, const char *);
    O *(*PyObject_Call)(O *, O *, O *);
    O *(*PyObject_Str)(O *);
    O *(*PyObject_Repr)(O *);
    O *(*PyObject_Type)(O *);
    int (*PyObject_IsInstance)(O *, O *);
    int (*PyObject_IsTrue)(O *);
    void (*Py_IncRef)(O *);
    void (*Py_DecRef)(O *);
    long long (*PyLong_AsLongLong)(O *);
    O *(*PyLong_FromLongLong)(long long);
    double (*PyFloat_AsDouble)(O *);
    O *(*PyFloat_FromDouble)(double);
    O *(*PyBool_FromLong)(long);
    const char *(*PyUnicode_AsUTF8AndSize)(O *, Py_ssize_t *);
    O *(*PyUnicode_FromStringAndSize)(const char *, Py_ssize_t);
    Py_ssize_t (*PySequence_Size)(O *);
    O *(*PySequence_GetItem)(O *, Py_ssize_t);
    O *(*PyTuple_New)(Py_ssize_t);
    int (*PyTuple_SetItem)(O *, Py_ssize_t, O *);
    O *(*PyList_New)(Py_ssize_t);
    int (*PyList_SetItem)(O *, Py_ssize_t, O *);
    O *(*PyDict_New)(void);
    int (*PyDict_SetItemString)(O *, const char *, O *);
    O *(*PyDict_GetItemString)(O *, const char *);
    O *(*PyDict_Items)(O *);
    O *(*PyErr_Occurred)(void);
    void (*PyErr_Fetch)(O **, O **, O **);
    void (*PyErr_NormalizeException)(O **, O **, O **);
    void (*PyErr_Clear)(void);
    void (*PyErr_SetString)(O *, const char *);
    void *(*PyCapsule_GetPointer)(O *, const char *);
    O *(*PyCapsule_New)(void *, const char *, capsule_destructor);
    O *None, *BoolType, *LongType, *FloatType, *UnicodeType, *ListType, *TupleType, *DictType;
    O *RuntimeError; // PyExc_RuntimeError is a pointer variable: dereferenced at load time
} api;

static void *library = NULL;

int pb_py_load(const char *library_path, char *error, size_t error_length) {
    if (library) return 1;
    void *handle = dlopen(library_path, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
        snprintf(error, error_length, "dlopen(%s) failed: %s", library_path, dlerror());
        return 0;
    }
#define BIND(name)                                                                        \
    do {                                                                                  \
        *(void **)(&api.name) = dlsym(handle, #name);                                     \
        if (!api.name) {                                                                  \
            snprintf(error, error_length, "%s does not export %s", library_path, #name);  \
            return 0;                                                                     \
        }                                                                                 \
    } while (0)
#define BIND_OBJECT(field, symbol)                                                        \
    do {                                                                                  \
        api.field = (O *)dlsym(handle, symbol);                                           \
        if (!api.field) {                                                                 \
            snprintf(error, error_length, "%s does not export %s", library_path, symbol); \
            return 0;                                                                     \
        }                                                                                 \
    } while (0)
    BIND(Py_IsInitialized); BIND(Py_InitializeEx); BIND(Py_SetProgramName); BIND(Py_DecodeLocale);
    BIND(PyEval_SaveThread); BIND(PyGILState_Ensure); BIND(PyGILState_Release);
    BIND(PyRun_StringFlags); BIND(PyImport_ImportModule); BIND(PyImport_AddModule);
    BIND(PyModule_GetDict); BIND(PyObject_GetAttrString); BIND(PyObject_Call); BIND(PyObject_Str);
    BIND(PyObject_Repr); BIND(PyObject_Type); BIND(PyObject_IsInstance); BIND(PyObject_IsTrue);
    BIND(Py_IncRef); BIND(Py_DecRef);
    BIND(PyLong_AsLongLong); BIND(PyLong_FromLongLong); BIND(PyFloat_AsDouble);
    BIND(PyFloat_FromDouble); BIND(PyBool_FromLong); BIND(PyUnicode_AsUTF8AndSize);
    BIND(PyUnicode_FromStringAndSize); BIND(PySequence_Size); BIND(PySequence_GetItem);
    BIND(PyTuple_New); BIND(PyTuple_SetItem); BIND(PyList_New); BIND(PyList_SetItem);
    BIND(PyDict_New); BIND(PyDict_SetItemString); BIND(PyDict_GetItemString); BIND(PyDict_Items);
    BIND(PyErr_Occurred); BIND(PyErr_Fetch); BIND(PyErr_NormalizeException); BIND(PyErr_Clear);
    BIND(PyErr_SetString); BIND(PyCapsule_GetPointer); BIND(PyCapsule_New);
    BIND_OBJECT(None, "_Py_NoneStruct");
    BIND_OBJECT(BoolType, "PyBool_Type");
    BIND_OBJECT(LongType, "PyLong_Type");
    BIND_OBJECT(FloatType, "PyFloat_Type");
    BIND_OBJECT(UnicodeType, "PyUnicode_Type");
    BIND_OBJECT(ListType, "PyList_Type");
    BIND_OBJECT(TupleType, "PyTuple_Type");
    BIND_OBJECT(DictType, "PyDict_Type");
    O **runtime_error = dlsym(handle, "PyExc_RuntimeError");
    if (!runtime_error) {
        snprintf(error, error_length, "%s does not export PyExc_RuntimeError", library_path);
        return 0;
    }
    api.RuntimeError = *runtime_error;
#undef BIND
#undef BIND_OBJECT
    library = handle;
    return 1;
}

int pb_py_initialize(const char *program_path, char *error, size_t error_length) {
    if (!library) {
        snprintf(error, error_length, "libpython is not loaded");
        return 0;
    }
    if (api.Py_IsInitialized()) return 2;
    // Decoded once and kept: Python keeps pointing at the program name.
    wchar_t *program = api.Py_DecodeLocale(program_path, NULL);
    if (!program) {
        snprintf(error, error_length, "cannot decode the interpreter path %s", program_path);
        return 0;
    }
    api.Py_SetProgramName(program);
    api.Py_InitializeEx(0);
    if (!api.Py_IsInitialized()) {
        snprintf(error, error_length, "Py_InitializeEx did not initialise Python");
        return 0;
    }
    api.PyEval_SaveThread();
    return 1;
}

int pb_py_gil_ensure(void) { return api.PyGILState_Ensure(); }
void pb_py_gil_release(int state) { api.PyGILState_Release(state); }

O *pb_py_run_string(const char *code, int start, O *globals, O *locals) {
    return api.PyRun_StringFlags(code, start, globals, locals, NULL);
}
O *pb_py_import(const char *name) { return api.PyImport_ImportModule(name); }
O *pb_py_main_dict(void) {
    O *main = api.PyImport_AddModule("__main__");
    return main ? api.PyModule_GetDict(main) : NULL;
}
O *pb_py_get_attribute(O *object, const char *name) { return api.PyObject_GetAttrString(object, name); }
O *pb_py_call(O *callable, O *arguments, O *keywords) { return api.PyObject_Call(callable, arguments, keywords); }
O *pb_py_str(O *object) { return api.PyObject_Str(object); }
O *pb_py_repr(O *object) { return api.PyObject_Repr(object); }
O *pb_py_type_name(O *object) {
    O *type = api.PyObject_Type(object);
    if (!type) return NULL;
    O *name = api.PyObject_GetAttrString(type, "__name__");
    api.Py_DecRef(type);
    return name;
}

void pb_py_incref(O *object) { api.Py_IncRef(object); }
void pb_py_decref(O *object) { api.Py_DecRef(object); }
O *pb_py_none(void) { return api.None; }

static int is_instance(O *object, O *type) { return api.PyObject_IsInstance(object, type) == 1; }
int pb_py_is_bool(O *object) { return is_instance(object, api.BoolType); }
int pb_py_is_int(O *object) { return is_instance(object, api.LongType); }
int pb_py_is_float(O *object) { return is_instance(object, api.FloatType); }
int pb_py_is_str(O *object) { return is_instance(object, api.UnicodeType); }
int pb_py_is_list(O *object) { return is_instance(object, api.ListType); }
int pb_py_is_tuple(O *object) { return is_instance(object, api.TupleType); }
int pb_py_is_dict(O *object) { return is_instance(object, api.DictType); }

long long pb_py_as_long_long(O *object) { return api.PyLong_AsLongLong(object); }
double pb_py_as_double(O *object) { return api.PyFloat_AsDouble(object); }
int pb_py_is_true(O *object) { return api.PyObject_IsTrue(object); }
const char *pb_py_as_utf8(O *object, ptrdiff_t *length) { return api.PyUnicode_AsUTF8AndSize(object, length); }
O *pb_py_from_long_long(long long value) { return api.PyLong_FromLongLong(value); }
O *pb_py_from_double(double value) { return api.PyFloat_FromDouble(value); }
O *pb_py_from_bool(int value) { return api.PyBool_FromLong(value); }
O *pb_py_from_utf8(const char *bytes, ptrdiff_t length) { return api.PyUnicode_FromStringAndSize(bytes, length); }

ptrdiff_t pb_py_sequence_length(O *object) { return api.PySequence_Size(object); }
O *pb_py_sequence_item(O *object, ptrdiff_t index) { return api.PySequence_GetItem(object, index); }
O *pb_py_tuple_new(ptrdiff_t length) { return api.PyTuple_New(length); }
int pb_py_tuple_set(O *tuple, ptrdiff_t index, O *item) { return api.PyTuple_SetItem(tuple, index, item); }
O *pb_py_list_new(ptrdiff_t length) { return api.PyList_New(length); }
int pb_py_list_set(O *list, ptrdiff_t index, O *item) { return api.PyList_SetItem(list, index, item); }
O *pb_py_dict_new(void) { return api.PyDict_New(); }
int pb_py_dict_set(O *dictionary, const char *key, O *item) { return api.PyDict_SetItemString(dictionary, key, item); }
O *pb_py_dict_get(O *dictionary, const char *key) {
    O *item = api.PyDict_GetItemString(dictionary, key); // borrowed
    if (item) api.Py_IncRef(item);
    return item;
}
O *pb_py_dict_items(O *dictionary) { return api.PyDict_Items(dictionary); }

int pb_py_error_occurred(void) { return api.PyErr_Occurred() != NULL; }
void pb_py_error_fetch(O **type, O **value, O **traceback) {
    api.PyErr_Fetch(type, value, traceback);
    api.PyErr_NormalizeException(type, value, traceback);
}
void pb_py_error_clear(void) { api.PyErr_Clear(); }
void pb_py_error_set(const char *message) { api.PyErr_SetString(api.RuntimeError, message); }

void *pb_py_capsule_pointer(O *capsule, const char *name) { return api.PyCapsule_GetPointer(capsule, name); }

static void release_stream_capsule(O *capsule) {
    struct ArrowArrayStream *stream = api.PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (!stream) { api.PyErr_Clear(); return; }
    if (stream->release) stream->release(stream);
    free(stream);
}

static void release_schema_capsule(O *capsule) {
    struct ArrowSchema *schema = api.PyCapsule_GetPointer(capsule, "arrow_schema");
    if (!schema) { api.PyErr_Clear(); return; }
    if (schema->release) schema->release(schema);
    free(schema);
}

static void release_array_capsule(O *capsule) {
    struct ArrowArray *array = api.PyCapsule_GetPointer(capsule, "arrow_array");
    if (!array) { api.PyErr_Clear(); return; }
    if (array->release) array->release(array);
    free(array);
}

O *pb_py_stream_capsule(void *stream) { return api.PyCapsule_New(stream, "arrow_array_stream", release_stream_capsule); }
O *pb_py_schema_capsule(void *schema) { return api.PyCapsule_New(schema, "arrow_schema", release_schema_capsule); }
O *pb_py_array_capsule(void *array) { return api.PyCapsule_New(array, "arrow_array", release_array_capsule); }
