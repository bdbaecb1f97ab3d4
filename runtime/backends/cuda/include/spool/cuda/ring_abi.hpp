// Former home of the CUDA backend's own ring layout. The persistent queue's
// ring has one definition for every backend and language now:
// spool/backend/ring_abi.h (the CUDA device loop's leader, which follows it:
// spool/cuda/ring_leader.hpp). Kept so that code including this header still
// compiles.
#pragma once

#include "spool/backend/ring_abi.h"
