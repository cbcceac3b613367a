#pragma once
// The fuzz targets: each takes one input and returns 0. Inputs that mimic refuses end in one of
// its own errors (mimic::Error), which the targets catch; anything else that escapes (a library's
// exception, std::bad_alloc), a crash, or a broken invariant (abort) is a finding. libFuzzer calls
// them through libfuzzer_entry.cpp; the suite replays the committed corpora through them
// (test_corpus_replay.cpp).
#include <cstddef>
#include <cstdint>

namespace mimic::fuzz {

// A training config as a user writes it: parsed, merged over its algorithm's defaults, validated.
int config_input(const uint8_t* data, size_t size);
// A file handed to `--agent` or `--resume`: safetensors, then mimic's checkpoint metadata.
int checkpoint_input(const uint8_t* data, size_t size);
// A robomimic HDF5 file written from the bytes (demos, names, dtypes, shapes, attributes, masks),
// then read as training reads it: reader, masks, SequenceDataset and a sampled batch.
int robomimic_input(const uint8_t* data, size_t size);
// A file handed to `mimic import --from robomimic` (a torch.save zip), or raw pickle bytes.
int torch_input(const uint8_t* data, size_t size);

}  // namespace mimic::fuzz
