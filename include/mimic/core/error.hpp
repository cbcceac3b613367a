#pragma once
#include <stdexcept>
#include <string>

namespace mimic {

// Typed exceptions. Messages name the operation or file, and expected versus actual values.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A tensor shape, rank or broadcast does not fit the operation.
struct ShapeError : Error {
  using Error::Error;
};
// A value (argument, config entry, data element) is out of its valid range.
struct ValueError : Error {
  using Error::Error;
};
// Reading or writing a file failed, or its content is malformed.
struct IoError : Error {
  using Error::Error;
};
// The requested device or feature is not available in this build or on this machine.
struct UnsupportedError : Error {
  using Error::Error;
};
// The build has the device's backend but this machine cannot run it (no GPU, no driver).
struct DeviceUnavailableError : UnsupportedError {
  using UnsupportedError::UnsupportedError;
};

}  // namespace mimic
