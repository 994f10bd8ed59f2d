#pragma once
// Typed errors of the engine. Every message must tell a user what is wrong and, where possible, what to
// do about it. Front ends map them: the CLI prints one line and exits with code 2 for every Error but
// CancelledError (130 or 143), the GUI shows a dialog.
#include <stdexcept>
#include <string>

namespace jseg {

// Base of all errors the engine raises on purpose.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Bad input: unreadable/corrupt/unsupported files, inconsistent series, parameters out of range.
class InputError : public Error {
public:
  using Error::Error;
};

// A job would not fit in memory (or other resource limits); the message proposes an alternative.
class ResourceError : public Error {
public:
  using Error::Error;
};

// A file could not be written (disk full, file too large, no permission, read-only file system). The message
// names the file and the cause; nothing partial is left behind. The CLI exits with code 2, as for bad input.
class WriteError : public Error {
public:
  using Error::Error;
};

// The user cancelled the job; nothing was written.
class CancelledError : public Error {
public:
  CancelledError() : Error("cancelled") {}
};

} // namespace jseg
