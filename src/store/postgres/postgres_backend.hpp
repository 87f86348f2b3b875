// The PostgreSQL backend of the store (private to the core library).
#pragma once

#include "housekeep/store.hpp"

namespace housekeep {

/// Connects to the PostgreSQL database the URL names (postgresql:// or postgres://).
std::unique_ptr<Backend> open_postgres_backend(const DatabaseUrl& url, const OpenOptions& options);

} // namespace housekeep
