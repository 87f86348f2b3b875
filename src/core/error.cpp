#include "housekeep/error.hpp"

namespace housekeep {

std::string_view exit_code_kind(ExitCode code)
{
  switch (code) {
  case ExitCode::ok: return "ok";
  case ExitCode::task_failed: return "task_failed";
  case ExitCode::refused: return "refused";
  case ExitCode::usage: return "usage";
  case ExitCode::data: return "data";
  case ExitCode::no_input: return "not_found";
  case ExitCode::unavailable: return "unavailable";
  case ExitCode::internal: return "internal";
  case ExitCode::cant_create: return "cant_create";
  case ExitCode::io: return "io";
  case ExitCode::temp_fail: return "temporary";
  case ExitCode::no_permission: return "permission";
  case ExitCode::config: return "config";
  }
  return "internal";
}

std::string_view exit_code_summary(ExitCode code)
{
  switch (code) {
  case ExitCode::ok: return "ok";
  case ExitCode::task_failed: return "task failed";
  case ExitCode::refused: return "refused by a guard";
  case ExitCode::usage: return "usage";
  case ExitCode::data: return "data";
  case ExitCode::no_input: return "not found";
  case ExitCode::unavailable: return "unavailable";
  case ExitCode::internal: return "internal";
  case ExitCode::cant_create: return "cannot create output";
  case ExitCode::io: return "I/O";
  case ExitCode::temp_fail: return "busy (retry)";
  case ExitCode::no_permission: return "permission";
  case ExitCode::config: return "configuration";
  }
  return "internal";
}

} // namespace housekeep
