#include "housekeep/archive.hpp"

#include "housekeep/config.hpp"
#include "housekeep/error.hpp"
#include "housekeep/files.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

namespace housekeep {

namespace {

using Json = nlohmann::ordered_json;

// Rows inserted per statement batch by restore (all of them in one write transaction).
constexpr std::size_t k_restore_batch = 1000;
// Bytes buffered per archive file before they are written out.
constexpr std::size_t k_write_buffer = 64 * 1024;

constexpr std::string_view k_base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view bytes)
{
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                   (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                   std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    for (int shift = 18; shift >= 0; shift -= 6) {
      out += k_base64[(n >> shift) & 63U];
    }
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) {
      n |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    }
    out += k_base64[(n >> 18) & 63U];
    out += k_base64[(n >> 12) & 63U];
    out += rest == 2 ? k_base64[(n >> 6) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  std::uint32_t n = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) {
        return std::nullopt;
      }
      break;
    }
    const auto index = k_base64.find(c);
    if (index == std::string_view::npos) {
      return std::nullopt;
    }
    n = (n << 6) | static_cast<std::uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((n >> bits) & 0xFFU);
    }
  }
  return out;
}

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), the
// same rule the JSON writer applies.
bool valid_utf8(std::string_view text)
{
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      low = c == 0xE0 ? 0xA0 : 0x80;
      high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      low = c == 0xF0 ? 0x90 : 0x80;
      high = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + extra >= text.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) {
        return false;
      }
    }
    i += extra + 1;
  }
  return true;
}

Json to_json(const Value& value)
{
  return std::visit(
    [](const auto& v) -> Json {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::monostate>) {
        return nullptr;
      } else if constexpr (std::is_same_v<T, Blob>) {
        return Json{{"$blob", base64_encode(v.bytes)}};
      } else if constexpr (std::is_same_v<T, std::string>) {
        return valid_utf8(v) ? Json(v) : Json{{"$text", base64_encode(v)}};
      } else if constexpr (std::is_same_v<T, double>) {
        // JSON has no infinities: tagged, like BLOBs, so that they come back as they were.
        if (!std::isfinite(v)) {
          return Json{{"$real", std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"}};
        }
        return v;
      } else if constexpr (std::is_same_v<T, Timestamp>) {
        // As the text a restore binds back, which the column's own type reads as it was.
        return format_timestamp(v);
      } else {
        return v;
      }
    },
    value);
}

std::optional<Value> from_json(const Json& json)
{
  switch (json.type()) {
  case Json::value_t::null: return Value{};
  case Json::value_t::number_integer: return Value{json.get<std::int64_t>()};
  case Json::value_t::number_unsigned: {
    const auto n = json.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return Value{static_cast<std::int64_t>(n)};
  }
  case Json::value_t::number_float: return Value{json.get<double>()};
  case Json::value_t::boolean: return Value{json.get<bool>()};
  case Json::value_t::string: return Value{json.get<std::string>()};
  case Json::value_t::object:
    if (json.size() == 1 && json.begin().key() == "$real" && json.begin().value().is_string()) {
      const auto text = json.begin().value().get<std::string>();
      if (text == "inf" || text == "-inf" || text == "nan") {
        const double inf = std::numeric_limits<double>::infinity();
        return Value{text == "nan" ? std::numeric_limits<double>::quiet_NaN() : text == "inf" ? inf : -inf};
      }
      return std::nullopt;
    }
    if (json.size() == 1 && json.begin().value().is_string()) {
      const auto bytes = base64_decode(json.begin().value().get<std::string>());
      if (bytes && json.begin().key() == "$blob") {
        return Value{Blob{*bytes}};
      }
      if (bytes && json.begin().key() == "$text") {
        return Value{*bytes};
      }
    }
    return std::nullopt;
  default: return std::nullopt;
  }
}

[[noreturn]] void write_failed(const std::string& path, int err)
{
  throw IoError(fmt::format("cannot write archive '{}': {}", path, std::strerror(err)),
                "the batch was rolled back and nothing more was deleted; free space or choose "
                "another --archive directory");
}

} // namespace

struct ArchiveWriter::Open {
  ArchiveFile file;
  int fd = -1;
  std::string buffer;
  bool dirty = false;
  off_t written = 0; // bytes written to the file
  off_t synced = 0;  // of which made durable (whole rows, before their batch was deleted)
  std::int64_t synced_rows = 0;
};

void ArchiveWriter::fail(Open& open, int err)
{
  const std::string path = open.file.path;
  const std::string task = open.file.task;
  // The batch rolls back: the rows after the last sync were never deleted, and left buffered
  // they would fail again in a later task's sync, reported as that task's error.
  discard(task);
  throw IoError(fmt::format("{}: cannot write archive '{}': {}", task, path, std::strerror(err)),
                "the batch was rolled back and nothing more was deleted; free space or choose another "
                "--archive directory");
}

void ArchiveWriter::discard(std::string_view task)
{
  for (auto it = m_files.begin(); it != m_files.end();) {
    Open& o = **it;
    if (o.file.task != task) {
      ++it;
      continue;
    }
    if (o.synced == 0) {
      ::close(o.fd);
      ::unlink(o.file.path.c_str());
      it = m_files.erase(it);
      continue;
    }
    if (o.written > o.synced && ::ftruncate(o.fd, o.synced) != 0) {
      // Restore skips a cut-short last line; nothing better to do on a full disk.
    }
    o.written = o.synced;
    o.buffer.clear();
    o.dirty = false;
    o.file.rows = o.synced_rows;
    ++it;
  }
}

ArchiveWriter::ArchiveWriter(std::string directory, std::string database, TimePoint started)
    : m_directory(std::move(directory)), m_database(std::move(database)), m_stamp(format_utc_stamp(started))
{
  struct stat st {};
  if (::stat(m_directory.c_str(), &st) != 0) {
    throw CantCreateError(fmt::format("archive directory '{}' does not exist", m_directory),
                          "create it (mode 0700 is a good choice: archives hold deleted data)");
  }
  if (!S_ISDIR(st.st_mode)) {
    throw CantCreateError(fmt::format("archive directory '{}' is not a directory", m_directory));
  }
  if (::access(m_directory.c_str(), W_OK | X_OK) != 0) {
    throw CantCreateError(fmt::format("archive directory '{}' is not writable", m_directory),
                          "check its owner and permissions; nothing was deleted");
  }
}

ArchiveWriter::~ArchiveWriter()
{
  for (const auto& open : m_files) {
    if (open->fd >= 0) {
      ::close(open->fd);
    }
  }
}

ArchiveWriter::Open& ArchiveWriter::file_for(std::string_view task, const std::string& table,
                                             const std::string& key_column, int depth)
{
  for (const auto& open : m_files) {
    if (open->file.task == task && open->file.table == table) {
      return *open;
    }
  }
  auto open = std::make_unique<Open>();
  open->file = ArchiveFile{"", std::string(task), table, key_column, depth, 0};
  for (int attempt = 0;; ++attempt) {
    const std::string name = attempt == 0 ? fmt::format("{}-{}-{}.jsonl", task, table, m_stamp)
                                          : fmt::format("{}-{}-{}-{}.jsonl", task, table, m_stamp, attempt);
    open->file.path = m_directory + "/" + name;
    open->fd = ::open(open->file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_APPEND, 0600);
    if (open->fd >= 0) {
      break;
    }
    if (errno != EEXIST || attempt > 100) {
      const int err = errno;
      throw CantCreateError(fmt::format("cannot create archive '{}': {}", open->file.path, std::strerror(err)),
                            "check the --archive directory; nothing more was deleted");
    }
  }
  Json header{{"housekeep_archive", 1},
              {"task", open->file.task},
              {"table", table},
              {"key", key_column},
              {"depth", depth},
              {"database", m_database},
              {"created_at", format_utc(SystemClock{}.now())}};
  open->buffer = header.dump() + "\n";
  open->dirty = true;
  m_new_file = true;
  m_files.push_back(std::move(open));
  return *m_files.back();
}

void ArchiveWriter::append(std::string_view task, const std::string& table, const std::string& key_column, int depth,
                           const std::vector<std::string>& columns, const std::vector<Value>& values)
{
  Open& open = file_for(task, table, key_column, depth);
  Json row = Json::object();
  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) {
    row[columns[i]] = to_json(values[i]);
  }
  open.buffer += row.dump();
  open.buffer += '\n';
  open.dirty = true;
  ++open.file.rows;
  if (open.buffer.size() >= k_write_buffer) {
    if (const int err = write_all(open.fd, open.buffer); err != 0) {
      fail(open, err);
    }
    open.written += static_cast<off_t>(open.buffer.size());
    open.buffer.clear();
  }
}

void ArchiveWriter::sync()
{
  for (std::size_t i = 0; i < m_files.size(); ++i) {
    Open& open = *m_files[i];
    if (!open.dirty) {
      continue;
    }
    if (const int err = write_all(open.fd, open.buffer); err != 0) {
      fail(open, err);
    }
    open.written += static_cast<off_t>(open.buffer.size());
    open.buffer.clear();
    if (::fsync(open.fd) != 0) {
      fail(open, errno);
    }
    open.dirty = false;
    open.synced = open.written;
    open.synced_rows = open.file.rows;
  }
  if (m_new_file) {
    // A new file's directory entry must reach the disk too, or a crash could lose the file.
    if (const int err = sync_to_disk(m_directory); err != 0) {
      write_failed(m_directory, err);
    }
    m_new_file = false;
  }
}

std::vector<ArchiveFile> ArchiveWriter::files() const
{
  std::vector<ArchiveFile> out;
  for (const auto& open : m_files) {
    out.push_back(open->file);
  }
  return out;
}

namespace {

ArchiveFile read_header(const std::string& path, std::ifstream& in)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw NotFoundError(fmt::format("archive '{}' not found", path));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw PermissionError(fmt::format("cannot read archive '{}': permission denied", path));
  }
  in.open(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw DataError(fmt::format("'{}' is not a housekeep archive: it is empty", path));
  }
  const Json header = Json::parse(line, nullptr, false);
  if (header.is_discarded() || !header.is_object() || header.value("housekeep_archive", 0) != 1 ||
      !header.contains("table") || !header.contains("key") || !header["table"].is_string() ||
      !header["key"].is_string()) {
    throw DataError(fmt::format("'{}' is not a housekeep archive (version 1): its first line is not "
                                "an archive header",
                                path));
  }
  ArchiveFile file;
  file.path = path;
  file.task = header.value("task", "");
  file.table = header["table"].get<std::string>();
  file.key_column = header["key"].get<std::string>();
  file.depth = header.value("depth", 0);
  if (!is_safe_identifier(file.table) || !is_safe_identifier(file.key_column)) {
    throw DataError(fmt::format("archive '{}' names an unsafe table or column", path));
  }
  return file;
}

// Rank of each table: 0 for tables no other archived table is a parent of, then one more
// than its highest-ranked parent, by configured cascades and declared foreign keys.
std::map<std::string, int> parent_ranks(Store& store, const Config& config, const std::vector<ArchiveFile>& files)
{
  std::map<std::string, int> rank;
  for (const auto& file : files) {
    rank[file.table] = 0;
  }
  std::vector<std::pair<std::string, std::string>> edges; // parent, child
  for (const auto& [table, unused] : rank) {
    for (const auto& cascade : cascade_from(config, table)) {
      edges.emplace_back(table, cascade.table);
    }
    for (const auto& key : references_to(store, table)) {
      edges.emplace_back(table, key.child_table);
    }
  }
  for (std::size_t round = 0; round < rank.size(); ++round) {
    for (const auto& [parent, child] : edges) {
      if (parent != child && rank.count(parent) > 0 && rank.count(child) > 0) {
        rank[child] = std::max(rank[child], rank[parent] + 1);
      }
    }
  }
  return rank;
}

void check_columns(Store& store, const ArchiveFile& file, const std::vector<std::string>& columns)
{
  require_columns(store, file.table, columns, fmt::format("archive '{}'", file.path));
}

} // namespace

std::vector<ArchiveFile> plan_restore(Store& store, const Config& config, const std::vector<std::string>& paths)
{
  std::vector<ArchiveFile> files;
  for (const auto& path : paths) {
    std::ifstream in;
    files.push_back(read_header(path, in));
  }
  const auto rank = parent_ranks(store, config, files);
  std::stable_sort(files.begin(), files.end(), [&](const ArchiveFile& a, const ArchiveFile& b) {
    const int ra = rank.at(a.table);
    const int rb = rank.at(b.table);
    return ra != rb ? ra < rb : a.depth < b.depth;
  });
  return files;
}

namespace {

// Hands each row of an archive (after its header) to `each`, with its columns; throws
// DataError naming the file and line of the first bad one. A cut-short last line is skipped
// (a run stopped while writing it, before its batch was deleted), with a notice if `log`.
void for_each_row(const ArchiveFile& file, const Logger* log,
                  const std::function<void(std::vector<std::string>&, std::vector<Value>&)>& each)
{
  std::ifstream in;
  read_header(file.path, in);
  std::string line;
  std::size_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) {
      continue;
    }
    const Json row = Json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) {
      if (in.peek() == std::char_traits<char>::eof()) {
        if (log != nullptr) {
          log->notice("archive '{}': line {} is incomplete and was skipped (a run stopped while "
                      "writing it; its batch was not deleted)",
                      file.path, line_number);
        }
        return;
      }
      throw DataError(fmt::format("archive '{}', line {}: not a JSON object", file.path, line_number),
                      "nothing was restored");
    }
    std::vector<std::string> columns;
    std::vector<Value> values;
    for (const auto& [name, json] : row.items()) {
      const auto value = from_json(json);
      if (!value) {
        throw DataError(fmt::format("archive '{}', line {}: column '{}' holds a value restore cannot read", file.path,
                                    line_number, name),
                        "nothing was restored");
      }
      columns.push_back(name);
      values.push_back(*value);
    }
    if (std::find(columns.begin(), columns.end(), file.key_column) == columns.end()) {
      throw DataError(
        fmt::format("archive '{}', line {}: the row has no key column '{}'", file.path, line_number, file.key_column),
        "nothing was restored");
    }
    each(columns, values);
  }
}

} // namespace

RestoreReport restore_archives(Store& store, const Config& config, const std::vector<std::string>& paths, bool dry_run,
                               const Logger& log)
{
  RestoreReport report;
  report.dry_run = dry_run;
  // An empty archive file is what a run leaves when it stops between creating the file and
  // writing its header: it holds no rows, and `restore DIR/*` must not refuse the others
  // for it. (Any other file must be an archive.)
  std::vector<std::string> files;
  for (const auto& path : paths) {
    struct stat st {};
    if (path.ends_with(".jsonl") && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
      log.notice("archive '{}' is empty (a run stopped before writing to it); skipped", path);
      continue;
    }
    files.push_back(path);
  }
  for (auto& planned : plan_restore(store, config, files)) {
    report.files.push_back({std::move(planned), 0, 0});
  }
  // Every line of every file is read and checked before anything is written.
  for (auto& done : report.files) {
    std::vector<std::string> seen;
    for_each_row(done.file, &log, [&](std::vector<std::string>& columns, std::vector<Value>&) {
      if (columns != seen) {
        check_columns(store, done.file, columns);
        seen = columns;
      }
    });
  }
  // Then all of them in one write transaction: a failure (a unique value taken meanwhile, a
  // parent missing) leaves nothing restored.
  std::unique_ptr<Transaction> transaction = dry_run ? nullptr : store.begin_write();
  for (auto& done : report.files) {
    ArchiveFile& file = done.file;
    file.rows = 0;
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows;
    auto flush = [&] {
      if (rows.empty()) {
        return;
      }
      std::int64_t inserted = 0;
      if (dry_run) {
        const auto key = std::find(columns.begin(), columns.end(), file.key_column) - columns.begin();
        for (const auto& row : rows) {
          RowSet existing{file.table, {KeyIn{file.key_column, {row[static_cast<std::size_t>(key)]}}}};
          inserted += store.count(existing) == 0 ? 1 : 0;
        }
      } else {
        inserted = store.insert_missing(file.table, file.key_column, columns, rows);
      }
      done.restored += inserted;
      done.skipped += static_cast<std::int64_t>(rows.size()) - inserted;
      file.rows += static_cast<std::int64_t>(rows.size());
      rows.clear();
    };
    for_each_row(file, nullptr, [&](std::vector<std::string>& row_columns, std::vector<Value>& values) {
      if (row_columns != columns || rows.size() >= k_restore_batch) {
        flush();
        columns = std::move(row_columns);
      }
      rows.push_back(std::move(values));
    });
    flush();
  }
  if (transaction) {
    transaction->commit();
  }
  for (const auto& done : report.files) {
    log.info("{} '{}': {} rows, {} {}, {} already there", dry_run ? "would restore" : "restored", done.file.path,
             with_thousands(done.file.rows), with_thousands(done.restored), dry_run ? "would go back" : "put back",
             with_thousands(done.skipped));
  }
  return report;
}

} // namespace housekeep
