// Running another program: a hook or an exec task. It gets only the environment given, its
// own process group (so that a timeout kills whatever it started too), /dev/null as stdin,
// and its output, when captured, is kept to its last few kilobytes.
#pragma once

#include "housekeep/config.hpp"

#include <string>
#include <utility>
#include <vector>

namespace housekeep {

/// How a program ended.
struct ProcessResult {
  int status = -1;         // exit status; 128 + signal when killed; -1: could not start
  bool timed_out = false;  // killed (with its process group) at the timeout
  std::string output_tail; // the last bytes of stdout and stderr together, when captured
};

/// Runs argv[0] (looked up in PATH when it has no '/') with exactly `environment`. A program
/// still running at `timeout` gets SIGTERM, then SIGKILL, with its whole process group.
/// With `capture`, stdout and stderr go to a pipe and their last `tail_bytes` are kept;
/// without, both go to the caller's stderr (stdout carries results only).
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& environment, Millis timeout,
                          bool capture, std::size_t tail_bytes = 4096);

/// NAME=VALUE pairs of the caller's environment for each of `names` that is set.
std::vector<std::pair<std::string, std::string>> pass_environment(const std::vector<std::string>& names);

} // namespace housekeep
