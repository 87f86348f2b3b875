// The SQLite backend of the store (private to the core library).
#pragma once

#include "housekeep/demo.hpp"
#include "housekeep/store.hpp"

namespace housekeep {

/// Opens an existing SQLite database file; never creates one.
std::unique_ptr<Backend> open_sqlite_backend(const DatabaseUrl& url, const OpenOptions& options);

/// Checks the parameters of a SQLite URL (`?mode=ro|rw`); throws UsageError naming a wrong one.
void check_sqlite_url(const DatabaseUrl& url);

/// Writes the demo as the file the URL names (see demo.hpp).
void write_sqlite_demo(const DatabaseUrl& url, const DemoData& data, bool force);

} // namespace housekeep
