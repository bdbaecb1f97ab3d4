// Validation mode, after a batch: checks the guards of every buffer the batch
// referred to and fails the verdict for each one that changed, naming the
// kernel and the argument(s) that pass that buffer.
#pragma once

#include "spool/batch.hpp"
#include "spool/verdict.hpp"

namespace spool {

// True when every guard was intact; otherwise appends a sentence per damaged
// buffer to v.failure (the guards are restored for the next batch).
bool check_guards(const Batch& batch, Verdict& v);

}  // namespace spool
