// Longjmp-safe wrappers around libR for Polybridge. See include/CR.h for the contract.
#define _GNU_SOURCE
#include "CR.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <langinfo.h>
#include <unistd.h>

#define R_INTERFACE_PTRS
#include <Rembedded.h>
#include <R_ext/RStartup.h>
#include <Rinterface.h>
#include <R_ext/Altrep.h>
#include <R_ext/Parse.h>
#include <R_ext/Rdynload.h>
#include <R_ext/eventloop.h>

extern int R_interrupts_pending;
extern Rboolean R_interrupts_suspended;
extern char *R_TempDir;

static pb_console_sink console_sink = NULL;
static char own_error[1024];
static int own_error_set = 0;

static long long own_bad_row = -1;

static void clear_own_error(void) {
    own_error_set = 0;
    own_bad_row = -1;
}

long long pb_r_last_bad_row(void) { return own_bad_row; }

static void set_own_error(const char *message) {
    snprintf(own_error, sizeof own_error, "%s", message);
    own_error_set = 1;
}

const char *pb_r_last_error(void) {
    if (own_error_set) return own_error;
    return R_curErrorBuf();
}

// ---- Console ---------------------------------------------------------------------------------

static void write_console(const char *text, int length, int otype) {
    if (console_sink) console_sink(text, length, otype != 0);
}

static void show_message(const char *text) {
    if (console_sink) console_sink(text, (int)strlen(text), 1);
}

// Non-interactive: any attempt to read the console sees end of input instead of blocking.
static int read_console(const char *prompt, unsigned char *buffer, int length, int history) {
    (void)prompt; (void)buffer; (void)length; (void)history;
    return 0;
}

// ---- Start-up --------------------------------------------------------------------------------

static void install_wake_signal(void);
static void start_interrupter(void);

void pb_r_set_command_arguments(int count, const char *const *arguments) {
    R_set_command_line_arguments(count, (char **)arguments);
}

int pb_r_initialize(const char *r_home, pb_console_sink sink, char *error, size_t error_length) {
    if (r_home && *r_home) setenv("R_HOME", r_home, 1);
    if (!getenv("R_HOME")) {
        snprintf(error, error_length, "R_HOME is not set and no R home was given");
        return 0;
    }
    console_sink = sink;
    R_SignalHandlers = 0;
    char *argv[] = {"polybridge", "--vanilla", "--silent", "--no-echo", NULL};
    Rf_initialize_R(4, argv);

    // Real bounds of this thread's stack, so deep recursion is a catchable R error.
    pthread_attr_t attributes;
    void *stack_low = NULL;
    size_t stack_size = 0;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0 ||
        pthread_attr_getstack(&attributes, &stack_low, &stack_size) != 0) {
        snprintf(error, error_length, "could not read the R thread's stack bounds");
        return 0;
    }
    pthread_attr_destroy(&attributes);
    R_CStackStart = (uintptr_t)stack_low + stack_size;
    // R checks usage against the limit, so leave it the same 5% margin R leaves itself.
    R_CStackLimit = (uintptr_t)(0.95 * (double)stack_size);
    install_wake_signal();

    R_Outputfile = NULL;
    R_Consolefile = NULL;
    ptr_R_WriteConsole = NULL;
    ptr_R_WriteConsoleEx = write_console;
    ptr_R_ShowMessage = show_message;
    ptr_R_ReadConsole = read_console;
    R_Interactive = FALSE;

    setup_Rmainloop();
    // setup_Rmainloop() treats a limit above 100,000,000 bytes as "silly" and turns stack
    // checking off (-1), after which deep C recursion segfaults: set the real bounds again.
    R_CStackStart = (uintptr_t)stack_low + stack_size;
    R_CStackLimit = (uintptr_t)(0.95 * (double)stack_size);
    R_Interactive = FALSE;
    // R is never finalised (that would end the process), so its per-session temporary
    // directory would stay behind in /tmp after every run: remove it when the process exits,
    // also through quick_exit (how the command line ends, see ProcessEnd.swift).
    atexit(R_CleanTempDir);
    at_quick_exit(R_CleanTempDir);
    return 1;
}

const char *pb_r_temp_dir(void) { return R_TempDir; }

// An interrupt the host wants for the running job. R's flag alone can be lost: code running
// inside R (reticulate's interrupt scopes, for one) saves and restores R_interrupts_pending
// around its own work. So the wish is also kept here and re-asserted from R_PolledEvents,
// which R_CheckUserInterrupt runs right before it looks at the flag.
static volatile int interrupt_wanted = 0;
static void (*previous_polled_events)(void) = NULL;

// R waits in select() (Sys.sleep, waiting for input handlers) for as long as it was asked to
// and looks at its interrupt flag only before and after. An interrupt request therefore also
// sends the R thread a signal whose handler does nothing, so that wait ends early with EINTR.
// (R's own way, a SIGINT handler it installs around select() that longjmps, is only safe when
// SIGINT reaches the R thread itself; the CLI keeps SIGINT blocked everywhere instead.)
// SA_RESTART: reads and writes resume; select, poll and sleeps return EINTR, as wanted.
#define PB_WAKE_SIGNAL (SIGRTMIN + 5)
static pthread_t r_thread;
static volatile int r_thread_known = 0;

static void wake_signal_handler(int signal_number) { (void)signal_number; }

static void install_wake_signal(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = wake_signal_handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(PB_WAKE_SIGNAL, &action, NULL);
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, PB_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
    r_thread = pthread_self();
    r_thread_known = 1;
    start_interrupter();
}

// Whether the running job is to be interrupted (see pb_r_set_running_job_interrupted).
static volatile int running_job_interrupted = 0;

void pb_r_set_running_job_interrupted(int interrupted) {
    running_job_interrupted = interrupted;
    __sync_synchronize();
}

static void polled_events(void) {
    if (previous_polled_events) previous_polled_events();
    if (interrupt_wanted || running_job_interrupted) R_interrupts_pending = 1;
}

// Re-asserts the running job's interrupt every 20 ms on a thread of its own. A timer on the
// host's thread pool could not be relied on: when Python calls on every pool thread wait for the
// GIL that the R job holds, the timer never runs. It only stores R's flag and signals the R
// thread; the R thread itself acts on the flag at its next check.
static void *interrupter_main(void *unused) {
    (void)unused;
    for (;;) {
        if (running_job_interrupted) {
            R_interrupts_pending = 1;
            if (r_thread_known) pthread_kill(r_thread, PB_WAKE_SIGNAL);
        }
        usleep(20000);
    }
    return NULL;
}

static void start_interrupter(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    // The thread must not take signals meant for others (SIGINT is read elsewhere).
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    pthread_create(&thread, &attributes, interrupter_main, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
}

void pb_r_request_interrupt(void) {
    interrupt_wanted = 1;
    R_interrupts_pending = 1;
    if (r_thread_known) pthread_kill(r_thread, PB_WAKE_SIGNAL);
}

void pb_r_clear_interrupt(void) {
    interrupt_wanted = 0;
    R_interrupts_pending = 0;
}

void pb_r_begin_job(void) {
    // Packages loaded later (reticulate) may install their own hook: keep ours on top of it.
    if (R_PolledEvents != polled_events) {
        previous_polled_events = R_PolledEvents;
        R_PolledEvents = polled_events;
    }
    // Between jobs R is at top level, where interrupts are never suspended: a suspension left
    // behind by code that unwound past its own restore would make every later cancel a no-op.
    R_interrupts_suspended = FALSE;
}

// ---- Guarded operations ----------------------------------------------------------------------

typedef struct {
    SEXP expression, environment, result;
} eval_job;

static void run_eval(void *data) {
    eval_job *job = data;
    job->result = Rf_eval(job->expression, job->environment);
}

pb_status pb_r_eval(SEXP expression, SEXP environment, SEXP *out) {
    clear_own_error();
    eval_job job = {expression, environment, R_NilValue};
    if (!R_ToplevelExec(run_eval, &job)) return 0;
    *out = job.result;
    return 1;
}

typedef struct {
    const char *code;
    SEXP environment, result;
    int parse_failed;
} parse_eval_job;

static void run_parse_eval(void *data) {
    parse_eval_job *job = data;
    ParseStatus status;
    SEXP text = PROTECT(Rf_mkString(job->code));
    SEXP exprs = PROTECT(R_ParseVector(text, -1, &status, R_NilValue));
    if (status != PARSE_OK) {
        job->parse_failed = 1;
        UNPROTECT(2);
        return;
    }
    SEXP value = R_NilValue;
    // Earlier values may be collected while later expressions run; only the last is returned.
    for (R_xlen_t i = 0; i < XLENGTH(exprs); i++)
        value = Rf_eval(VECTOR_ELT(exprs, i), job->environment);
    UNPROTECT(2);
    job->result = value;
}

pb_status pb_r_parse_eval(const char *code, SEXP environment, SEXP *out) {
    clear_own_error();
    parse_eval_job job = {code, environment, R_NilValue, 0};
    if (!R_ToplevelExec(run_parse_eval, &job)) return 0;
    if (job.parse_failed) {
        set_own_error("the code did not parse");
        return 0;
    }
    *out = job.result;
    return 1;
}

typedef struct {
    SEXP object, name, value;
} attribute_job;

static void run_set_attribute(void *data) {
    attribute_job *job = data;
    Rf_setAttrib(job->object, job->name, job->value);
}

pb_status pb_r_set_attribute(SEXP object, SEXP name, SEXP value) {
    clear_own_error();
    attribute_job job = {object, name, value};
    return R_ToplevelExec(run_set_attribute, &job) ? 1 : 0;
}

typedef struct {
    const char *name;
    SEXP result;
} symbol_job;

static void run_symbol(void *data) {
    symbol_job *job = data;
    job->result = Rf_install(job->name);
}

pb_status pb_r_symbol(const char *name, SEXP *out) {
    clear_own_error();
    symbol_job job = {name, R_NilValue};
    if (!R_ToplevelExec(run_symbol, &job)) return 0;
    *out = job.result;
    return 1;
}

typedef struct {
    SEXPTYPE type;
    R_xlen_t length;
    SEXP result;
} alloc_job;

static void run_alloc(void *data) {
    alloc_job *job = data;
    job->result = Rf_allocVector(job->type, job->length);
}

pb_status pb_r_alloc_vector(SEXPTYPE type, R_xlen_t length, SEXP *out) {
    clear_own_error();
    alloc_job job = {type, length, R_NilValue};
    if (!R_ToplevelExec(run_alloc, &job)) return 0;
    *out = job.result;
    return 1;
}

typedef struct {
    const char *bytes;
    int length;
    SEXP result;
} mkchar_job;

static void run_mkchar(void *data) {
    mkchar_job *job = data;
    job->result = Rf_mkCharLenCE(job->bytes, job->length, CE_UTF8);
}

pb_status pb_r_mkchar_utf8(const char *bytes, int length, SEXP *out) {
    clear_own_error();
    mkchar_job job = {bytes, length, R_NilValue};
    if (!R_ToplevelExec(run_mkchar, &job)) return 0;
    *out = job.result;
    return 1;
}

// UTF-8 validation (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
static int valid_utf8(const uint8_t *s, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int extra;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; if (c < 0xC2) return 0; }
        else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; if (c > 0xF4) return 0; }
        else return 0;
        for (int k = 1; k <= extra; k++) {
            if (i + k >= n) return 0;
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += extra + 1;
    }
    return 1;
}

typedef struct string_slot string_slot;

typedef struct {
    const void *offsets;
    int wide;
    const uint8_t *data;
    const uint8_t *validity;
    int64_t first, length;
    string_slot *table;  // owned by the caller, so an R error inside the guard cannot leak it
    SEXP result;
    int64_t bad_row; // first row that is not valid UTF-8 or contains NUL, -1 if none
} strings_job;

struct string_slot {
    uint64_t hash;
    int64_t start;
    int64_t length;
    SEXP value;
};

static uint64_t hash_bytes(const uint8_t *p, int64_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (int64_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}

#define PB_DEDUP_CAPACITY (1 << 16)

static void run_strings_from_offsets(void *data) {
    strings_job *job = data;
    SEXP result = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)job->length));
    string_slot *table = job->table;
    int64_t distinct = 0;
    for (int64_t i = 0; i < job->length; i++) {
        int64_t row = job->first + i;
        if (job->validity && !((job->validity[row >> 3] >> (row & 7)) & 1)) {
            SET_STRING_ELT(result, i, R_NaString);
            continue;
        }
        int64_t start, end;
        if (job->wide) {
            start = ((const int64_t *)job->offsets)[row];
            end = ((const int64_t *)job->offsets)[row + 1];
        } else {
            start = ((const int32_t *)job->offsets)[row];
            end = ((const int32_t *)job->offsets)[row + 1];
        }
        const uint8_t *bytes = job->data + start;
        int64_t n = end - start;
        SEXP value = NULL;
        uint64_t h = 0;
        size_t slot = 0;
        if (table) {
            h = hash_bytes(bytes, n);
            slot = (size_t)(h & (PB_DEDUP_CAPACITY - 1));
            while (table[slot].value) {
                if (table[slot].hash == h && table[slot].length == n &&
                    memcmp(job->data + table[slot].start, bytes, (size_t)n) == 0) {
                    value = table[slot].value;
                    break;
                }
                slot = (slot + 1) & (PB_DEDUP_CAPACITY - 1);
            }
        }
        if (!value) {
            if (n < 0 || n > INT32_MAX || memchr(bytes, 0, (size_t)n) || !valid_utf8(bytes, n)) {
                job->bad_row = i;
                UNPROTECT(1);
                return;
            }
            value = Rf_mkCharLenCE((const char *)bytes, (int)n, CE_UTF8);
            // Values in `result` are reachable by the GC, so the table needs no protection.
            if (table && distinct < PB_DEDUP_CAPACITY / 2) {
                table[slot] = (string_slot){h, start, n, value};
                distinct++;
            }
        }
        SET_STRING_ELT(result, i, value);
    }
    UNPROTECT(1);
    job->result = result;
}

pb_status pb_r_strings_from_offsets(const void *offsets, int wide, const uint8_t *data,
                                    const uint8_t *validity, int64_t first, int64_t length,
                                    SEXP *out) {
    clear_own_error();
    strings_job job = {offsets, wide, data, validity, first, length,
                       calloc(PB_DEDUP_CAPACITY, sizeof(string_slot)), NULL, -1};
    Rboolean completed = R_ToplevelExec(run_strings_from_offsets, &job);
    free(job.table);
    if (!completed) return 0;
    if (job.bad_row >= 0) {
        own_bad_row = (long long)job.bad_row;
        char message[200];
        snprintf(message, sizeof message,
                 "row %lld holds a string that is not valid UTF-8 (or contains a NUL byte)",
                 (long long)job.bad_row + 1);
        set_own_error(message);
        return 0;
    }
    *out = job.result;
    return 1;
}

typedef struct {
    const char *const *bytes;
    const int *lengths;
    R_xlen_t count;
    SEXP result;
    R_xlen_t bad_row;
} pointer_strings_job;

static void run_strings_from_pointers(void *data) {
    pointer_strings_job *job = data;
    SEXP result = PROTECT(Rf_allocVector(STRSXP, job->count));
    for (R_xlen_t i = 0; i < job->count; i++) {
        int n = job->lengths[i];
        if (n < 0) { SET_STRING_ELT(result, i, R_NaString); continue; }
        const uint8_t *bytes = (const uint8_t *)job->bytes[i];
        if (n > 0 && (memchr(bytes, 0, (size_t)n) || !valid_utf8(bytes, n))) {
            job->bad_row = i;
            UNPROTECT(1);
            return;
        }
        SET_STRING_ELT(result, i, Rf_mkCharLenCE((const char *)bytes, n, CE_UTF8));
    }
    UNPROTECT(1);
    job->result = result;
}

pb_status pb_r_strings_from_pointers(const char *const *bytes, const int *lengths,
                                     R_xlen_t count, SEXP *out) {
    clear_own_error();
    pointer_strings_job job = {bytes, lengths, count, NULL, -1};
    if (!R_ToplevelExec(run_strings_from_pointers, &job)) return 0;
    if (job.bad_row >= 0) {
        own_bad_row = (long long)job.bad_row;
        char message[200];
        snprintf(message, sizeof message,
                 "row %lld holds a string that is not valid UTF-8 (or contains a NUL byte)",
                 (long long)job.bad_row + 1);
        set_own_error(message);
        return 0;
    }
    *out = job.result;
    return 1;
}

typedef struct {
    SEXP strings, result;
    R_xlen_t bad_row;
} utf8_job;

static int is_ascii(const uint8_t *s, int n) {
    for (int i = 0; i < n; i++) if (s[i] >= 0x80) return 0;
    return 1;
}

/// Whether unmarked ("native") strings are UTF-8: the locale's codeset, as R itself decides.
static int native_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/// What one CHARSXP needs to become UTF-8: nothing, a re-mark, a translation, or it is invalid.
enum { UTF8_KEEP, UTF8_REMARK, UTF8_TRANSLATE, UTF8_INVALID };

static int utf8_action(SEXP c) {
    if (c == R_NaString || is_ascii((const uint8_t *)CHAR(c), LENGTH(c))) return UTF8_KEEP;
    cetype_t encoding = Rf_getCharCE(c);
    // Strings marked UTF-8, unmarked ones in a UTF-8 locale, and "bytes" (which R refuses to
    // translate) are taken as they are, so they must really be UTF-8: R's translation would
    // silently turn bad bytes into "<e9>".
    if (encoding == CE_UTF8 || encoding == CE_BYTES || (encoding == CE_NATIVE && native_is_utf8())) {
        if (!valid_utf8((const uint8_t *)CHAR(c), LENGTH(c))) return UTF8_INVALID;
        return encoding == CE_UTF8 ? UTF8_KEEP : UTF8_REMARK;
    }
    return UTF8_TRANSLATE;  // latin1 and other declared encodings
}

static void run_strings_as_utf8(void *data) {
    utf8_job *job = data;
    // Rf_translateCharUTF8 allocates with R_alloc, which a top-level context does not reset.
    const void *vmax = vmaxget();
    R_xlen_t n = XLENGTH(job->strings);
    const SEXP *elements = STRING_PTR_RO(job->strings);
    // CHARSXPs are cached by R, so a column of few distinct values repeats the same pointers:
    // remember recent verdicts instead of rescanning bytes.
    enum { CACHE = 256 };
    SEXP seen[CACHE] = {0};
    int verdict[CACHE];
    SEXP result = NULL;
    for (R_xlen_t i = 0; i < n; i++) {
        SEXP c = elements[i];
        size_t slot = ((uintptr_t)c >> 4) & (CACHE - 1);
        int action;
        if (seen[slot] == c) action = verdict[slot];
        else { action = utf8_action(c); seen[slot] = c; verdict[slot] = action; }
        if (action == UTF8_INVALID) {
            job->bad_row = i;
            if (result) UNPROTECT(1);
            vmaxset(vmax);
            return;
        }
        if (action == UTF8_KEEP && !result) continue;
        if (!result) {
            // The first element that changes: copy the unchanged prefix into a new vector.
            result = PROTECT(Rf_allocVector(STRSXP, n));
            for (R_xlen_t j = 0; j < i; j++) SET_STRING_ELT(result, j, elements[j]);
        }
        SEXP converted = c;
        if (action == UTF8_REMARK) converted = Rf_mkCharLenCE(CHAR(c), LENGTH(c), CE_UTF8);
        else if (action == UTF8_TRANSLATE) converted = Rf_mkCharCE(Rf_translateCharUTF8(c), CE_UTF8);
        SET_STRING_ELT(result, i, converted);
    }
    if (result) UNPROTECT(1);
    vmaxset(vmax);
    job->result = result ? result : job->strings;
}

pb_status pb_r_strings_as_utf8(SEXP strings, SEXP *out) {
    clear_own_error();
    utf8_job job = {strings, NULL, -1};
    if (!R_ToplevelExec(run_strings_as_utf8, &job)) return 0;
    if (job.bad_row >= 0) {
        own_bad_row = (long long)job.bad_row;
        char message[200];
        snprintf(message, sizeof message, "row %lld holds a string that is not valid UTF-8",
                 (long long)job.bad_row + 1);
        set_own_error(message);
        return 0;
    }
    *out = job.result;
    return 1;
}

// ---- Precious list ---------------------------------------------------------------------------
// A doubly linked list of cons cells hanging off one preserved head: CAR = object,
// CDR = next cell, TAG = previous cell. Insert and remove are O(1).

static SEXP precious_head = NULL;

typedef struct {
    SEXP object, cell;
} preserve_job;

static void run_preserve(void *data) {
    preserve_job *job = data;
    if (!precious_head) {
        SEXP head = PROTECT(Rf_cons(R_NilValue, R_NilValue));
        R_PreserveObject(head);  // may raise: only then is the head ours to keep
        precious_head = head;
        UNPROTECT(1);
    }
    SEXP next = CDR(precious_head);
    SEXP cell = Rf_cons(job->object, next);
    SET_TAG(cell, precious_head);
    if (next != R_NilValue) SET_TAG(next, cell);
    SETCDR(precious_head, cell);
    job->cell = cell;
}

SEXP pb_r_preserve(SEXP object) {
    clear_own_error();
    preserve_job job = {object, NULL};
    if (!R_ToplevelExec(run_preserve, &job)) return NULL;
    return job.cell;
}

void pb_r_release(SEXP cell) {
    if (!cell) return;
    SEXP previous = TAG(cell), next = CDR(cell);
    SETCDR(previous, next);
    if (next != R_NilValue) SET_TAG(next, previous);
    SETCAR(cell, R_NilValue);
    SETCDR(cell, R_NilValue);
    SET_TAG(cell, R_NilValue);
}

// ---- ALTREP foreign vectors --------------------------------------------------------------------
// data1: external pointer to a foreign_block; data2: R_NilValue, or a materialised copy once R
// asked for a writeable pointer.

typedef struct {
    const void *data;
    R_xlen_t length;
    void *context;
} foreign_block;

static R_altrep_class_t foreign_real_class, foreign_integer_class;
static pb_foreign_release foreign_release = NULL;

static foreign_block *block_of(SEXP x) {
    return (foreign_block *)R_ExternalPtrAddr(R_altrep_data1(x));
}

static void finalize_block(SEXP pointer) {
    foreign_block *block = R_ExternalPtrAddr(pointer);
    if (!block) return;
    R_ClearExternalPtr(pointer);
    if (foreign_release) foreign_release(block->context);
    free(block);
}

static R_xlen_t foreign_length(SEXP x) {
    SEXP copy = R_altrep_data2(x);
    if (copy != R_NilValue) return XLENGTH(copy);
    foreign_block *block = block_of(x);
    return block ? block->length : 0;
}

static Rboolean foreign_inspect(SEXP x, int pre, int deep, int pvec,
                                void (*inspect_subtree)(SEXP, int, int, int)) {
    (void)pre; (void)deep; (void)pvec; (void)inspect_subtree;
    Rprintf(" polybridge foreign vector (length %lld, %s)\n", (long long)foreign_length(x),
            R_altrep_data2(x) == R_NilValue ? "zero-copy" : "materialised");
    return TRUE;
}

static void *foreign_dataptr(SEXP x, Rboolean writeable) {
    SEXP copy = R_altrep_data2(x);
    if (copy == R_NilValue && writeable) {
        // Never hand out a writeable pointer into foreign memory: copy first.
        foreign_block *block = block_of(x);
        SEXPTYPE type = TYPEOF(x);
        size_t width = type == REALSXP ? sizeof(double) : sizeof(int);
        copy = Rf_allocVector(type, block->length);
        memcpy(DATAPTR(copy), block->data, width * (size_t)block->length);
        R_set_altrep_data2(x, copy);
    }
    if (copy != R_NilValue) return DATAPTR(copy);
    return (void *)block_of(x)->data;
}

static const void *foreign_dataptr_or_null(SEXP x) {
    SEXP copy = R_altrep_data2(x);
    if (copy != R_NilValue) return DATAPTR(copy);
    return block_of(x)->data;
}

static double foreign_real_elt(SEXP x, R_xlen_t i) {
    return ((const double *)foreign_dataptr_or_null(x))[i];
}

static int foreign_integer_elt(SEXP x, R_xlen_t i) {
    return ((const int *)foreign_dataptr_or_null(x))[i];
}

static R_xlen_t foreign_real_region(SEXP x, R_xlen_t start, R_xlen_t n, double *buffer) {
    R_xlen_t length = foreign_length(x);
    R_xlen_t count = start + n > length ? length - start : n;
    if (count <= 0) return 0;
    memcpy(buffer, (const double *)foreign_dataptr_or_null(x) + start, sizeof(double) * (size_t)count);
    return count;
}

static R_xlen_t foreign_integer_region(SEXP x, R_xlen_t start, R_xlen_t n, int *buffer) {
    R_xlen_t length = foreign_length(x);
    R_xlen_t count = start + n > length ? length - start : n;
    if (count <= 0) return 0;
    memcpy(buffer, (const int *)foreign_dataptr_or_null(x) + start, sizeof(int) * (size_t)count);
    return count;
}

void pb_r_register_altrep(pb_foreign_release release) {
    foreign_release = release;
    DllInfo *dll = R_getEmbeddingDllInfo();
    foreign_real_class = R_make_altreal_class("polybridge_foreign_real", "polybridge", dll);
    foreign_integer_class = R_make_altinteger_class("polybridge_foreign_integer", "polybridge", dll);
    R_altrep_class_t classes[2] = {foreign_real_class, foreign_integer_class};
    for (int k = 0; k < 2; k++) {
        R_set_altrep_Length_method(classes[k], foreign_length);
        R_set_altrep_Inspect_method(classes[k], foreign_inspect);
        R_set_altvec_Dataptr_method(classes[k], foreign_dataptr);
        R_set_altvec_Dataptr_or_null_method(classes[k], foreign_dataptr_or_null);
    }
    R_set_altreal_Elt_method(foreign_real_class, foreign_real_elt);
    R_set_altreal_Get_region_method(foreign_real_class, foreign_real_region);
    R_set_altinteger_Elt_method(foreign_integer_class, foreign_integer_elt);
    R_set_altinteger_Get_region_method(foreign_integer_class, foreign_integer_region);
}

typedef struct {
    SEXPTYPE type;
    foreign_block *block;  // allocated by the caller; R owns it once `finalizer_set`
    SEXP result;
    int finalizer_set;
} foreign_job;

static void run_foreign_vector(void *data) {
    foreign_job *job = data;
    SEXP pointer = PROTECT(R_MakeExternalPtr(job->block, R_NilValue, R_NilValue));
    R_altrep_class_t cls = job->type == REALSXP ? foreign_real_class : foreign_integer_class;
    SEXP result = PROTECT(R_new_altrep(cls, pointer, R_NilValue));
    MARK_NOT_MUTABLE(result);
    // Last, so that a failure above leaves the context with the caller (released once, by it).
    R_RegisterCFinalizerEx(pointer, finalize_block, TRUE);
    job->finalizer_set = 1;
    UNPROTECT(2);
    job->result = result;
}

pb_status pb_r_foreign_vector(SEXPTYPE type, const void *data, R_xlen_t length, void *context,
                              SEXP *out) {
    clear_own_error();
    if (type != REALSXP && type != INTSXP) {
        set_own_error("foreign vectors are only REALSXP or INTSXP");
        return 0;
    }
    foreign_block *block = malloc(sizeof(foreign_block));
    if (!block) {
        set_own_error("out of memory making a foreign vector");
        return 0;
    }
    *block = (foreign_block){data, length, context};
    foreign_job job = {type, block, NULL, 0};
    if (!R_ToplevelExec(run_foreign_vector, &job)) {
        // Without a finaliser nothing in R refers to the block any more: the caller keeps the context.
        if (!job.finalizer_set) free(block);
        return 0;
    }
    *out = job.result;
    return 1;
}

int pb_r_is_foreign_vector(SEXP x) {
    if (!ALTREP(x)) return 0;
    if (!R_altrep_inherits(x, foreign_real_class) && !R_altrep_inherits(x, foreign_integer_class))
        return 0;
    return R_altrep_data2(x) == R_NilValue;
}

// ---- Host events -------------------------------------------------------------------------------

static pb_host_event_handler host_event_handler = NULL;

static SEXP host_event(SEXP name) {
    if (host_event_handler && TYPEOF(name) == STRSXP && XLENGTH(name) == 1)
        host_event_handler(CHAR(STRING_ELT(name, 0)));
    return R_NilValue;
}

// Exported by libR but no longer declared in its headers. Base's environment is locked, so
// R code cannot create `last.warning` there; R's own warning report sets it this way.
extern void SET_SYMVALUE(SEXP symbol, SEXP value);

// Where `warnings()` finds the last reported warnings (a list of calls named by message).
static SEXP set_last_warning(SEXP value) {
    SET_SYMVALUE(Rf_install("last.warning"), value);
    return R_NilValue;
}

void pb_r_register_host_events(pb_host_event_handler handler) {
    host_event_handler = handler;
    static const R_CallMethodDef methods[] = {
        {"polybridge_host_event", (DL_FUNC)&host_event, 1},
        {"polybridge_set_last_warning", (DL_FUNC)&set_last_warning, 1},
        {NULL, NULL, 0},
    };
    DllInfo *dll = R_getEmbeddingDllInfo();
    R_registerRoutines(dll, NULL, methods, NULL, NULL);
}

// ---- Guarded accessors ------------------------------------------------------------------------
// On ALTREP vectors (compact sequences, other packages' classes) length and data access run
// class methods that may allocate or raise, so even these go through R_ToplevelExec.

typedef struct {
    SEXP object;
    R_xlen_t length;
} length_job;

static void run_length(void *data) {
    length_job *job = data;
    job->length = Rf_xlength(job->object);
}

pb_status pb_r_length(SEXP object, R_xlen_t *out) {
    clear_own_error();
    length_job job = {object, 0};
    if (!R_ToplevelExec(run_length, &job)) return 0;
    *out = job.length;
    return 1;
}

typedef struct {
    SEXP object;
    int writeable;
    const void *data;
} data_job;

static void run_data(void *data) {
    data_job *job = data;
    if (TYPEOF(job->object) == STRSXP) job->data = STRING_PTR_RO(job->object);
    else if (job->writeable) job->data = DATAPTR(job->object);
    else job->data = DATAPTR_RO(job->object);
}

pb_status pb_r_data(SEXP object, int writeable, const void **out) {
    clear_own_error();
    switch (TYPEOF(object)) {
    case LGLSXP: case INTSXP: case REALSXP: case CPLXSXP: case STRSXP: case RAWSXP: break;
    default:
        set_own_error("the object is not an atomic vector with a data pointer");
        return 0;
    }
    if (TYPEOF(object) == STRSXP && writeable) {
        set_own_error("character vectors are written only element by element");
        return 0;
    }
    data_job job = {object, writeable, NULL};
    if (!R_ToplevelExec(run_data, &job)) return 0;
    *out = job.data;
    return 1;
}

typedef struct {
    SEXP object, name, result;
} get_attribute_job;

static void run_get_attribute(void *data) {
    get_attribute_job *job = data;
    job->result = Rf_getAttrib(job->object, job->name);
}

pb_status pb_r_get_attribute(SEXP object, SEXP name, SEXP *out) {
    clear_own_error();
    get_attribute_job job = {object, name, R_NilValue};
    if (!R_ToplevelExec(run_get_attribute, &job)) return 0;
    *out = job.result;
    return 1;
}

typedef struct {
    SEXP vector, value;
    R_xlen_t index;
} set_string_job;

static void run_set_string(void *data) {
    set_string_job *job = data;
    SET_STRING_ELT(job->vector, job->index, job->value);
}

pb_status pb_r_set_string_element(SEXP vector, R_xlen_t index, SEXP value) {
    clear_own_error();
    if (TYPEOF(vector) != STRSXP || TYPEOF(value) != CHARSXP) {
        set_own_error("a string element must be a CHARSXP set in a character vector");
        return 0;
    }
    set_string_job job = {vector, value, index};
    return R_ToplevelExec(run_set_string, &job) ? 1 : 0;
}

pb_status pb_r_set_list_element(SEXP list, R_xlen_t index, SEXP value) {
    clear_own_error();
    if (TYPEOF(list) != VECSXP && TYPEOF(list) != EXPRSXP) {
        set_own_error("a list element can only be set in a list");
        return 0;
    }
    if (index < 0 || index >= XLENGTH(list)) {
        set_own_error("list index out of range");
        return 0;
    }
    // Lists are never ALTREP in R 4.2 and SET_VECTOR_ELT does not allocate: no guard needed.
    SET_VECTOR_ELT(list, index, value);
    return 1;
}

SEXP pb_r_list_element(SEXP list, R_xlen_t index) {
    if ((TYPEOF(list) != VECSXP && TYPEOF(list) != EXPRSXP) || index < 0 || index >= XLENGTH(list))
        return NULL;
    return VECTOR_ELT(list, index);
}

int pb_r_type(SEXP object) { return TYPEOF(object); }

const char *pb_r_type_name(SEXP object) { return Rf_type2char(TYPEOF(object)); }

const char *pb_r_char_bytes(SEXP string, R_xlen_t *length) {
    if (TYPEOF(string) != CHARSXP) { *length = 0; return NULL; }
    *length = LENGTH(string);
    return CHAR(string);
}

// ---- The last line of defence --------------------------------------------------------------------

static void (*guarded_loop_body)(void *) = NULL;

static void run_guarded_loop(void *context) { guarded_loop_body(context); }

void pb_r_run_guarded_loop(void (*body)(void *), void *context) {
    guarded_loop_body = body;
    // Every R API call is meant to run under its own guard. Should one escape, R jumps to the
    // innermost top-level context: this one. The Swift frames it jumped over are gone, so the
    // only safe move is to say what happened and end the process, never silently.
    R_ToplevelExec(run_guarded_loop, context);
    const char *message = R_curErrorBuf();
    fprintf(stderr, "%s%s", message ? message : "", (message && *message) ? "" : "R error (no message)\n");
    if (message && *message && message[strlen(message) - 1] != '\n') fputc('\n', stderr);
    fprintf(stderr, "polybridge: internal error: an R error escaped Polybridge's guards; "
                    "the process cannot continue safely. Please report this with the input that caused it.\n");
    fflush(stderr);
    _exit(70);
}

void pb_r_raise_unguarded(const char *message) { Rf_error("%s", message); }

typedef struct {
    SEXP environment, symbol, result;
} find_var_job;

static void run_find_var(void *data) {
    find_var_job *job = data;
    job->result = Rf_findVarInFrame(job->environment, job->symbol);
}

pb_status pb_r_variable(SEXP environment, SEXP symbol, SEXP *out) {
    clear_own_error();
    find_var_job job = {environment, symbol, R_NilValue};
    if (!R_ToplevelExec(run_find_var, &job)) return 0;
    *out = job.result == R_UnboundValue ? R_NilValue : job.result;
    return 1;
}

typedef struct {
    const char *code;
    SEXP result;
    int count;
} parse_job;

static void run_parse(void *data) {
    parse_job *job = data;
    ParseStatus status;
    SEXP text = PROTECT(Rf_mkString(job->code));
    SEXP exprs = PROTECT(R_ParseVector(text, -1, &status, R_NilValue));
    if (status == PARSE_OK) {
        job->count = (int)XLENGTH(exprs);
        if (job->count == 1) job->result = VECTOR_ELT(exprs, 0);
    } else {
        job->count = -1;
    }
    UNPROTECT(2);
}

pb_status pb_r_parse_one(const char *code, SEXP *out) {
    clear_own_error();
    parse_job job = {code, R_NilValue, 0};
    if (!R_ToplevelExec(run_parse, &job)) return 0;
    if (job.count < 0) { set_own_error("the code did not parse"); return 0; }
    if (job.count != 1) {
        char message[120];
        snprintf(message, sizeof message, "expected exactly one R expression, found %d", job.count);
        set_own_error(message);
        return 0;
    }
    *out = job.result;
    return 1;
}

typedef struct {
    SEXP old_list, object, new_list, new_cell;
    R_xlen_t count, capacity;
} grow_job;

static void run_grow(void *data) {
    grow_job *job = data;
    // `object` is reachable from nowhere yet: it must survive the allocations below.
    PROTECT(job->object);
    SEXP list = PROTECT(Rf_allocVector(VECSXP, job->capacity));
    for (R_xlen_t i = 0; i < job->count; i++) SET_VECTOR_ELT(list, i, VECTOR_ELT(job->old_list, i));
    SET_VECTOR_ELT(list, job->count, job->object);
    preserve_job keep = {list, NULL};
    run_preserve(&keep);
    UNPROTECT(2);
    job->new_list = list;
    job->new_cell = keep.cell;
}

pb_status pb_r_keep_grow(SEXP old_list, R_xlen_t count, R_xlen_t capacity, SEXP object,
                         SEXP *new_list, SEXP *new_cell) {
    clear_own_error();
    if (capacity <= count) { set_own_error("the new capacity must exceed the count"); return 0; }
    grow_job job = {old_list, object, NULL, NULL, count, capacity};
    if (!R_ToplevelExec(run_grow, &job)) return 0;
    *new_list = job.new_list;
    *new_cell = job.new_cell;
    return 1;
}
