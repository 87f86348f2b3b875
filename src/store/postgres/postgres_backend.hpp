// The PostgreSQL backend of the store (private to the core library).
#pragma once

#include "housekeep/demo.hpp"
#include "housekeep/store.hpp"

namespace housekeep {

/// Connects to the PostgreSQL database the URL names (postgresql:// or postgres://).
std::unique_ptr<Backend> open_postgres_backend(const DatabaseUrl& url, const OpenOptions& options);

/// Writes the demo's tables into the existing database the URL names (see demo.hpp).
void write_postgres_demo(const DatabaseUrl& url, const DemoData& data, bool force);

} // namespace housekeep
