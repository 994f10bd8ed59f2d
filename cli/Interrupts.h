#pragma once
// SIGINT and SIGTERM cancel the running command through one CancelToken (checked by every stage within a
// second), so the command unwinds, removes what it had begun to write and exits with 130 or 143. A second
// signal kills the process the usual way, for a command stuck where it cannot check.
#include <memory>

#include "core/base/Progress.h"

namespace jseg::cli {

// Installs the handlers (once, at start-up).
void installInterruptHandlers();
// The token the handlers cancel; ProgressBar::context() hands it to every stage.
std::shared_ptr<CancelToken> interruptToken();
// The signal that cancelled the command (SIGINT or SIGTERM), 0 when none arrived.
int interruptSignal();

} // namespace jseg::cli
