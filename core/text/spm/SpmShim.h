// C interface of the isolated sentencepiece shim (libstipple_spm.so).
// The shim links libsentencepiece; processes that also load libtorch must only
// reach it through dlopen(RTLD_LOCAL | RTLD_DEEPBIND) (see SentencePieceTokenizer),
// never link it. Plain C types only, so no C++ ABI crosses the boundary.
// Thread-safety: a handle may be used for concurrent encode/decode/lookup calls
// (sentencepiece's processor is const-safe); load/free must not race with use.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STIPPLE_SPM_ABI_VERSION 1

typedef struct StippleSpm StippleSpm;

// ABI version of the shim (STIPPLE_SPM_ABI_VERSION).
int stipple_spm_abi_version(void);

// Loads a .model file. Returns NULL on failure and writes a message into err
// (NUL-terminated, truncated to errSize) when err is not NULL.
StippleSpm *stipple_spm_load(const char *path, char *err, size_t errSize);
void stipple_spm_free(StippleSpm *spm);

// Encodes UTF-8 text to ids. Returns the number of ids the text has; writes at
// most capacity of them into ids. A return value > capacity means: call again
// with a larger buffer. Returns -1 on error.
long stipple_spm_encode(const StippleSpm *spm, const char *text, size_t textLen, int *ids,
                        long capacity);

// Decodes ids to UTF-8. Returns the byte length of the text (without NUL); writes
// at most capacity-1 bytes + NUL into out. Returns -1 on error.
long stipple_spm_decode(const StippleSpm *spm, const int *ids, long count, char *out,
                        long capacity);

int stipple_spm_vocab_size(const StippleSpm *spm);
// Id of a piece, or the unknown id when absent.
int stipple_spm_piece_to_id(const StippleSpm *spm, const char *piece);
// Piece text of an id into out (NUL-terminated); returns its byte length or -1.
long stipple_spm_id_to_piece(const StippleSpm *spm, int id, char *out, long capacity);
// Special ids (-1 when the model has none).
int stipple_spm_bos_id(const StippleSpm *spm);
int stipple_spm_eos_id(const StippleSpm *spm);
int stipple_spm_pad_id(const StippleSpm *spm);
int stipple_spm_unk_id(const StippleSpm *spm);

#ifdef __cplusplus
}
#endif
