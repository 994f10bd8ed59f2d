#include "cli/Interrupts.h"

#include <csignal>

namespace jseg::cli {

namespace {
// Created before the handlers are installed and never destroyed: a signal may arrive during exit.
CancelToken* const token = new CancelToken();
volatile std::sig_atomic_t received = 0;

extern "C" void onInterrupt(int signo) {
  received = signo;
  token->cancel();  // an atomic store: safe in a signal handler
}
} // namespace

void installInterruptHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // the second signal takes the default action
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::shared_ptr<CancelToken> interruptToken() {
  // A non-owning shared_ptr: the token lives for the whole process.
  return std::shared_ptr<CancelToken>(token, [](CancelToken*) {});
}

int interruptSignal() { return received; }

} // namespace jseg::cli
