// The umbrella header: everything an application needs, and make_runtime(),
// which builds a Runtime over every backend this build of Spool has.
#pragma once

#include "spool/batch.hpp"
#include "spool/buffer.hpp"
#include "spool/device.hpp"
#include "spool/dispatcher.hpp"
#include "spool/error.hpp"
#include "spool/kernel.hpp"
#include "spool/log.hpp"
#include "spool/options.hpp"
#include "spool/runtime.hpp"
#include "spool/telemetry.hpp"
#include "spool/verdict.hpp"

namespace spool {

Runtime make_runtime(RuntimeOptions options = {});

}  // namespace spool
