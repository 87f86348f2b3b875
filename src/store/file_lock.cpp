#include "store/file_lock.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace housekeep {

namespace {

class FileLock final : public Lock {
public:
  explicit FileLock(int fd) : m_fd(fd) {}
  ~FileLock() override
  {
    // Emptying the file first means a reader never names a holder that has gone.
    if (::ftruncate(m_fd, 0) != 0) {
      // Nothing useful to do: the lock itself is released below either way.
    }
    ::flock(m_fd, LOCK_UN);
    ::close(m_fd);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int m_fd;
};

std::optional<LockHolder> read_holder(int fd)
{
  std::string text;
  char buffer[512];
  ssize_t n = 0;
  off_t offset = 0;
  while ((n = ::pread(fd, buffer, sizeof buffer, offset)) > 0) {
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
  if (text.empty()) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) {
    return LockHolder{};
  }
  LockHolder holder;
  holder.pid = json.value("pid", std::int64_t{0});
  holder.host = json.value("host", std::string{});
  holder.what = json.value("what", std::string{});
  holder.since = json.value("since", std::string{});
  return holder;
}

} // namespace

LockAttempt try_file_lock(const std::string& path, const LockHolder& me)
{
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) {
      throw PermissionError(fmt::format("cannot create lock file '{}': {}", path, std::strerror(err)),
                            "the directory of the database must be writable for a real run");
    }
    if (err == EROFS) {
      throw IoError(fmt::format("cannot create lock file '{}': {}", path, std::strerror(err)));
    }
    throw CantCreateError(fmt::format("cannot create lock file '{}': {}", path, std::strerror(err)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    LockAttempt busy;
    busy.holder = read_holder(fd).value_or(LockHolder{});
    ::close(fd);
    return busy;
  }
  LockAttempt held;
  // A clean release empties the file, so a holder still written here died holding the lock.
  held.stale = read_holder(fd);
  const std::string text =
    nlohmann::json{{"pid", me.pid}, {"host", me.host}, {"what", me.what}, {"since", me.since}}.dump() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    // The lock is held all the same; only the holder's description is missing.
  }
  held.lock = std::make_unique<FileLock>(fd);
  return held;
}

std::optional<LockHolder> file_lock_holder(const std::string& path)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt; // no file: nobody ever held it here
  }
  std::optional<LockHolder> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    holder = read_holder(fd).value_or(LockHolder{});
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return holder;
}

} // namespace housekeep
