// Typed errors. Each carries the exit status of SPEC §3 and an optional hint line.
// They are thrown by the core library and caught in exactly two places: once per task in
// run_task(), and once in main().
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace housekeep {

/// The process exit statuses of the command-line interface (sysexits.h values where they fit).
enum class ExitCode : int {
  ok = 0,
  task_failed = 1,
  refused = 3,
  usage = 64,
  data = 65,
  no_input = 66,
  unavailable = 69,
  internal = 70,
  cant_create = 73,
  io = 74,
  temp_fail = 75,
  no_permission = 77,
  config = 78,
};

/// Every exit status housekeep ends with, in order: the table `--help` prints and the README
/// and man page are tested against.
inline constexpr std::array k_exit_codes{
  ExitCode::ok,        ExitCode::task_failed,   ExitCode::refused,  ExitCode::usage,       ExitCode::data,
  ExitCode::no_input,  ExitCode::unavailable,   ExitCode::internal, ExitCode::cant_create, ExitCode::io,
  ExitCode::temp_fail, ExitCode::no_permission, ExitCode::config,
};

/// A short lowercase word naming the exit code's kind, as used in JSON error documents.
std::string_view exit_code_kind(ExitCode code);

/// A few words on the exit code, for --help ("refused by a guard").
std::string_view exit_code_summary(ExitCode code);

/// Base of every error housekeep reports: a one-line message, an exit code, an optional hint.
class Error : public std::runtime_error {
public:
  Error(ExitCode code, const std::string& message, std::string hint = {})
      : std::runtime_error(message), m_code(code), m_hint(std::move(hint))
  {
  }

  /// The exit status this error ends the process with.
  ExitCode code() const noexcept { return m_code; }
  /// A suggestion for the operator, or empty.
  const std::string& hint() const noexcept { return m_hint; }

private:
  ExitCode m_code;
  std::string m_hint;
};

#define HOUSEKEEP_DEFINE_ERROR(Name, Code)                                                                             \
  class Name : public Error {                                                                                          \
  public:                                                                                                              \
    explicit Name(const std::string& message, std::string hint = {}) : Error(ExitCode::Code, message, std::move(hint)) \
    {                                                                                                                  \
    }                                                                                                                  \
  }

/// A task failed while running; its open batch was rolled back.
HOUSEKEEP_DEFINE_ERROR(TaskError, task_failed);
/// A safety guard refused the run before anything was deleted.
HOUSEKEEP_DEFINE_ERROR(RefusedError, refused);
/// The command line is wrong.
HOUSEKEEP_DEFINE_ERROR(UsageError, usage);
/// The database is not as configured.
HOUSEKEEP_DEFINE_ERROR(DataError, data);
/// An input file does not exist.
HOUSEKEEP_DEFINE_ERROR(NotFoundError, no_input);
/// The database server cannot be reached.
HOUSEKEEP_DEFINE_ERROR(UnavailableError, unavailable);
/// A bug in housekeep.
HOUSEKEEP_DEFINE_ERROR(InternalError, internal);
/// An output file or directory cannot be created.
HOUSEKEEP_DEFINE_ERROR(CantCreateError, cant_create);
/// Reading or writing failed.
HOUSEKEEP_DEFINE_ERROR(IoError, io);
/// Try again later: a lock is held, the database is busy, a timeout was reached.
HOUSEKEEP_DEFINE_ERROR(TempFailError, temp_fail);
/// A file cannot be read or written for lack of permission.
HOUSEKEEP_DEFINE_ERROR(PermissionError, no_permission);
/// The configuration is invalid.
HOUSEKEEP_DEFINE_ERROR(ConfigError, config);

#undef HOUSEKEEP_DEFINE_ERROR

/// A transaction lost to another and was rolled back: a serialization failure, a deadlock,
/// a row lock not granted within the lock timeout. Tried again a little later, it may well
/// succeed; given up on, it ends the process like any TempFailError (75).
class ConflictError : public TempFailError {
public:
  using TempFailError::TempFailError;
};

} // namespace housekeep
