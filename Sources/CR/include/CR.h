// CR: the C surface Polybridge needs from libR.
//
// R's API raises errors with longjmp. Swift frames must never be unwound that way, so every
// entry point here that can raise runs its R work under R_ToplevelExec and returns a status.
// R's mutable globals (R_NilValue, R_GlobalEnv, R_NaInt, ...) are reached through accessors
// because Swift 6 rejects direct use of mutable C globals.
#ifndef POLYBRIDGE_CR_H
#define POLYBRIDGE_CR_H

#define R_NO_REMAP
#define CSTACK_DEFNS
#include <stddef.h>
#include <stdint.h>
#include <Rinternals.h>

/// Status returned by every guarded call: 1 = R completed, 0 = R raised (message in the error buffer).
typedef int pb_status;

// ---- Start-up -------------------------------------------------------------------------------

/// Called for every chunk R writes to its console; `is_error` is 1 for stderr-like output.
typedef void (*pb_console_sink)(const char *text, int length, int is_error);

/// Initialises R on the calling thread, which must be the only thread that ever enters R.
/// Sets the stack bounds to the calling thread's real stack, routes the console to `sink`,
/// disables R's signal handlers and installs the empty handler of the wake-up signal that
/// `pb_r_request_interrupt` sends this thread. Returns 0 and fills `error` on failure.
int pb_r_initialize(const char *r_home, pb_console_sink sink, char *error, size_t error_length);

/// Replaces what `commandArgs()` returns with `arguments` (R copies them). Call on the R thread.
void pb_r_set_command_arguments(int count, const char *const *arguments);

/// R's per-session temporary directory (`tempdir()`), NULL before R is initialised.
const char *pb_r_temp_dir(void);

/// Asks R to stop the current computation at its next interrupt check (safe from any thread),
/// and signals the R thread (a real-time signal with an empty handler) so that a blocking wait
/// such as `Sys.sleep` ends early and reaches that check.
void pb_r_request_interrupt(void);

/// Clears a pending interrupt request that R has not acted on yet.
void pb_r_clear_interrupt(void);

/// Prepares R for the next job on the R thread: interrupts not suspended, and the host's
/// interrupt hook installed in R_PolledEvents (above any hook a package added since).
void pb_r_begin_job(void);

/// Says whether the job now running on the R thread is to be interrupted (a cancel or Ctrl-C
/// for that job). While it is set, R's polled-events hook and a dedicated thread (every 20 ms,
/// also waking the R thread from select) keep R's interrupt flag set, whatever else clears or
/// consumes it meanwhile (reticulate's handlers save and restore it). The host sets it when the
/// job begins, ends or is cancelled, so it always describes the running job.
void pb_r_set_running_job_interrupted(int interrupted);

// ---- Guarded operations (never longjmp into the caller) ---------------------------------------

/// Evaluates `expression` in `environment`; on success stores the (unprotected) value in `*out`.
pb_status pb_r_eval(SEXP expression, SEXP environment, SEXP *out);

/// Parses `code` and evaluates every expression in `environment`; `*out` is the last value.
pb_status pb_r_parse_eval(const char *code, SEXP environment, SEXP *out);

/// Sets attribute `name` of `object` to `value` (R's `setAttrib`, which can allocate).
pb_status pb_r_set_attribute(SEXP object, SEXP name, SEXP value);

/// Interns the symbol `name` (R's `install`).
pb_status pb_r_symbol(const char *name, SEXP *out);

/// Allocates a vector of `type` and `length`; the result is unprotected.
pb_status pb_r_alloc_vector(SEXPTYPE type, R_xlen_t length, SEXP *out);

/// Makes a UTF-8 CHARSXP from `length` bytes (embedded NULs raise in R and return 0 here).
pb_status pb_r_mkchar_utf8(const char *bytes, int length, SEXP *out);

/// Builds a STRSXP from Arrow-style string storage: `offsets` are int32 (wide = 0) or int64
/// (wide = 1) positions into `data`; element i spans offsets[first + i] ..< offsets[first + i + 1].
/// Elements whose validity bit (LSB order, bit `first + i`) is clear become NA. Each distinct
/// value is made into a CHARSXP once (a small hash table), so repetitive columns stay cheap.
pb_status pb_r_strings_from_offsets(const void *offsets, int wide, const uint8_t *data,
                                    const uint8_t *validity, int64_t first, int64_t length,
                                    SEXP *out);

/// Builds a STRSXP from `count` separately stored UTF-8 strings (`lengths[i] < 0` means NA).
pb_status pb_r_strings_from_pointers(const char *const *bytes, const int *lengths,
                                     R_xlen_t count, SEXP *out);

/// Converts a STRSXP to UTF-8 in place of a copy (`enc2utf8` semantics); result unprotected.
pb_status pb_r_strings_as_utf8(SEXP strings, SEXP *out);

/// The length of `object` (ALTREP classes compute it in a method that may raise).
pb_status pb_r_length(SEXP object, R_xlen_t *out);

/// The data pointer of an atomic vector: `STRING_PTR_RO` for character vectors, else
/// `DATAPTR_RO` (or `DATAPTR` when `writeable`). ALTREP vectors may materialise, which allocates.
pb_status pb_r_data(SEXP object, int writeable, const void **out);

/// R's `getAttrib` (which allocates for compact row names).
pb_status pb_r_get_attribute(SEXP object, SEXP name, SEXP *out);

/// `SET_STRING_ELT(vector, index, value)` after checking the types.
pb_status pb_r_set_string_element(SEXP vector, R_xlen_t index, SEXP value);

/// `SET_VECTOR_ELT(list, index, value)` after checking the type and index.
pb_status pb_r_set_list_element(SEXP list, R_xlen_t index, SEXP value);

/// Element `index` of a list, or NULL when `list` is not a list or the index is out of range.
SEXP pb_r_list_element(SEXP list, R_xlen_t index);

/// R's SEXPTYPE of `object` (cannot raise).
int pb_r_type(SEXP object);

/// R's name of the type of `object` ("double", "list", ...).
const char *pb_r_type_name(SEXP object);

/// The bytes of a CHARSXP (not NUL-terminated for the caller's purposes: use `length`); NULL
/// when `string` is not a CHARSXP.
const char *pb_r_char_bytes(SEXP string, R_xlen_t *length);

/// Runs `body(context)` (the R thread's job loop) inside a top-level context. Should an R error
/// ever escape a guard, R jumps here: R's message and an internal-error line go to stderr and
/// the process exits with status 70. Never returns.
void pb_r_run_guarded_loop(void (*body)(void *), void *context);

/// Raises an R error outside any guard. Only for the test of `pb_r_run_guarded_loop`.
void pb_r_raise_unguarded(const char *message);

/// The value of `symbol` in `environment` itself (not its parents); R's NULL when unbound.
pb_status pb_r_variable(SEXP environment, SEXP symbol, SEXP *out);

/// Parses `code`, which must hold exactly one R expression, without evaluating it.
pb_status pb_r_parse_one(const char *code, SEXP *out);

/// The 0-based element that made the last string-building call fail (invalid UTF-8 or a NUL
/// byte), or -1 when it failed for another reason.
long long pb_r_last_bad_row(void);

/// The text of the last error R raised inside a guarded call.
const char *pb_r_last_error(void);

// ---- Accessors for R's globals --------------------------------------------------------------

static inline SEXP pb_r_nil(void) { return R_NilValue; }
static inline SEXP pb_r_global_env(void) { return R_GlobalEnv; }
static inline SEXP pb_r_base_env(void) { return R_BaseEnv; }
static inline SEXP pb_r_unbound(void) { return R_UnboundValue; }
static inline SEXP pb_r_na_string(void) { return R_NaString; }
static inline SEXP pb_r_names_symbol(void) { return R_NamesSymbol; }
static inline SEXP pb_r_class_symbol(void) { return R_ClassSymbol; }
static inline SEXP pb_r_levels_symbol(void) { return R_LevelsSymbol; }
static inline SEXP pb_r_row_names_symbol(void) { return R_RowNamesSymbol; }
static inline SEXP pb_r_dim_symbol(void) { return R_DimSymbol; }
static inline SEXP pb_r_dimnames_symbol(void) { return R_DimNamesSymbol; }
/// Whether `object` has any attributes at all (reading the pairlist head cannot raise).
static inline int pb_r_has_attributes(SEXP object) { return ATTRIB(object) != R_NilValue; }
static inline SEXP pb_r_namespace_registry(void) { return R_NamespaceRegistry; }
static inline int pb_r_na_int(void) { return R_NaInt; }
static inline double pb_r_na_real(void) { return R_NaReal; }
static inline int pb_r_is_na_real(double value) { return R_IsNA(value); }

// ---- Precious list: O(1) keep-alive for long-lived SEXPs -----------------------------------

/// Keeps `object` alive until `pb_r_release`; returns a cell token (R 4.2's R_ReleaseObject is O(n)).
SEXP pb_r_preserve(SEXP object);
/// Makes a list of `capacity` holding the first `count` elements of `old_list` (may be NULL
/// when `count` is 0) followed by `object`, preserved in the precious list (cell in
/// `*new_cell`). `object` stays protected throughout, so a collection during the allocations
/// cannot take it. The caller then releases the old list's cell.
pb_status pb_r_keep_grow(SEXP old_list, R_xlen_t count, R_xlen_t capacity, SEXP object,
                         SEXP *new_list, SEXP *new_cell);

/// Drops the keep-alive created by `pb_r_preserve`.
void pb_r_release(SEXP token);

// ---- ALTREP zero-copy vectors over foreign memory -------------------------------------------

/// Called (on the R thread, inside R's GC) when an ALTREP vector's foreign memory is no longer
/// needed; `context` is what the caller passed to `pb_r_foreign_vector`.
typedef void (*pb_foreign_release)(void *context);

/// Registers the ALTREP classes; call once after R is initialised.
void pb_r_register_altrep(pb_foreign_release release);

/// Makes a read-only REALSXP (`type` = REALSXP) or INTSXP view over `length` elements at
/// `data`, without copying. `context` is handed to the release callback once R frees it.
pb_status pb_r_foreign_vector(SEXPTYPE type, const void *data, R_xlen_t length, void *context,
                              SEXP *out);

/// Returns 1 when `x` is one of Polybridge's foreign-memory ALTREP vectors (and not materialised).
int pb_r_is_foreign_vector(SEXP x);

// ---- Calls from R code back into the host ----------------------------------------------------

/// Registers `.Call`-able routines on the embedding DLL: `polybridge_host_event(name)` calls
/// `handler` with the event name (e.g. "reticulate-loaded") on the R thread;
/// `polybridge_set_last_warning(list)` sets base's `last.warning`, which `warnings()` shows.
typedef void (*pb_host_event_handler)(const char *event);
void pb_r_register_host_events(pb_host_event_handler handler);

#endif
